#include "proxy/server.hpp"

#include "net/port_owner.hpp"
#include "net/tls.hpp"
#include "proxy/dir_watch.hpp"
#include "proxy/escaped.hpp"
#include "proxy/reload.hpp"
#include "proxy/worker.hpp"
#include "proxy/workers.hpp"

#include <spdlog/spdlog.h>

#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <optional>

namespace vp::proxy {
namespace {
using net::as_tuple;
using net::use_awaitable;

constexpr std::string_view overloaded_response =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    "X-Vault-Proxy-Error: overloaded\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: 80\r\n\r\n"
    R"({"message":"vault-proxy is at its connection limit; retry","error":"overloaded"})";

template <class Socket>
net::awaitable<void> refuse_overloaded(Socket socket) {
  co_await net::async_write(socket, net::buffer(overloaded_response), as_tuple(use_awaitable));
  error_code ignored;
  socket.shutdown(Socket::shutdown_send, ignored);
  socket.close(ignored);
}

constexpr LogEscaped session_failed{"session ended by an internal error"};
constexpr LogEscaped accept_failed{"accept loop stopped by an internal error"};
constexpr LogEscaped drain_failed{"drain stopped by an internal error"};
constexpr LogEscaped spare_failed{"opening a spare upstream connection stopped by an internal error"};

std::string random_token() {
  unsigned char bytes[24];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("cannot generate the capability token");
  static constexpr char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string out;
  for (unsigned char b : bytes) {
    out += alphabet[b % 32];
    out += alphabet[(b >> 3) % 32];
  }
  return out;
}

}  // namespace

struct Server::Impl {
  Impl(const config::Config& c, core::CredentialStore& cr, net_token::AutoAuth* auto_auth)
      : cfg(c), shared(c, cr, net_tls::make_client_context(c.ca_file)) {
    shared.auto_auth = auto_auth;
    shared.workers = decide_workers(c.threads);
    for (unsigned i = 0; i < shared.workers.count; ++i) workers.push_back(std::make_unique<Worker>(shared));
    for (auto& w : workers) shared.worker_list.push_back(w.get());
    shared.policy.extra_hosts = c.allowed_hosts;
    if (c.capability) shared.capability = random_token();
  }
  ~Impl() {
    // A lookup still running completes into a worker's io_context: it ends before the workers do.
    if (shared.lookups) shared.lookups->join();
    if (unix_bound) {
      std::error_code ignored;
      std::filesystem::remove(*cfg.unix_socket, ignored);
    }
  }

  const config::Config& cfg;
  Shared shared;
  std::vector<std::unique_ptr<Worker>> workers;
  net::io_context control{1};
  tcp::acceptor acceptor{control};
  net::local::stream_protocol::acceptor unix_acceptor{control};
  bool unix_bound = false;
  net::signal_set signals{control, SIGINT, SIGTERM};
  // Registered from the start, so that a SIGHUP (a service manager's "reload") never kills the
  // proxy, whether or not reloading is on.
  net::signal_set hup{control, SIGHUP};
  std::unique_ptr<CredentialReloader> reloader;
  std::unique_ptr<DirectoryWatch> watch;
  std::function<void()> on_hup;
  net::steady_timer drain_timer{control};
  Lifecycle lifecycle;
  bool ready_sent = false;
  net::steady_timer tick_timer{control};
  std::size_t next = 0;
  bool stopping = false;

  template <class Acceptor>
  net::awaitable<void> accept_loop(Acceptor& a);
  void bind_unix();
  void begin_drain();
  void finish();
  void arm_hup();
  void maybe_ready();
  void arm_tick();
};

// Readiness means: accepting, and a service token to forward with (a token file that appears
// later makes the proxy ready then, through the reloader).
void Server::Impl::maybe_ready() {
  if (ready_sent || stopping || !shared.creds.current()) return;
  ready_sent = true;
  if (lifecycle.ready) lifecycle.ready();
}

void Server::Impl::arm_tick() {
  if (lifecycle.tick.count() <= 0 || !lifecycle.on_tick) return;
  tick_timer.expires_after(lifecycle.tick);
  tick_timer.async_wait([this](const error_code& ec) {
    if (ec || stopping) return;
    lifecycle.on_tick();
    arm_tick();
  });
}

void Server::Impl::arm_hup() {
  hup.async_wait([this](const error_code& ec, int) {
    if (ec) return;
    if (reloader) {
      reloader->reload("SIGHUP");
      maybe_ready();
    } else {
      spdlog::info("received SIGHUP: nothing to reload");
    }
    if (on_hup) on_hup();
    arm_hup();
  });
}

template <class Acceptor>
net::awaitable<void> Server::Impl::accept_loop(Acceptor& a) {
  net::steady_timer backoff(control);
  for (;;) {
    auto& w = *workers[next++ % workers.size()];
    auto [ec, socket] = co_await a.async_accept(w.ioc, as_tuple(use_awaitable));
    if (ec) {
      if (ec == net::error::operation_aborted || !a.is_open()) co_return;
      // EMFILE/ENFILE: the connection stays in the backlog; retrying at once would spin.
      spdlog::warn("accept failed: {}", ec.message());
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(as_tuple(use_awaitable));
      continue;
    }
    if (shared.connections.load(std::memory_order_relaxed) >= cfg.max_connections) {
      net::co_spawn(w.ioc, refuse_overloaded(std::move(socket)), session_failed);
      continue;
    }
    shared.connections.fetch_add(1, std::memory_order_relaxed);
    net::co_spawn(w.ioc, run_session(w, std::move(socket)), [this](std::exception_ptr e) {
      shared.connections.fetch_sub(1, std::memory_order_relaxed);
      session_failed(e);
    });
  }
}

void Server::Impl::begin_drain() {
  if (stopping) return;
  stopping = true;
  shared.draining = true;
  error_code ignored;
  acceptor.close(ignored);
  unix_acceptor.close(ignored);
  signals.cancel();
  hup.cancel();
  tick_timer.cancel();
  if (lifecycle.stopping) lifecycle.stopping();
  if (watch) watch->stop();
  spdlog::info("shutting down: waiting up to {} ms for {} connection(s)",
               cfg.timeouts.shutdown_grace.count(), shared.connections.load());
  for (auto& w : workers) net::post(w->ioc, [wp = w.get()] { wp->drain(); });
  auto deadline = std::chrono::steady_clock::now() + cfg.timeouts.shutdown_grace;
  net::co_spawn(control, [this, deadline]() -> net::awaitable<void> {
    while (shared.connections.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      drain_timer.expires_after(std::chrono::milliseconds(20));
      co_await drain_timer.async_wait(as_tuple(use_awaitable));
      // Connections that were busy when the drain began may have gone idle since.
      for (auto& w : workers) net::post(w->ioc, [wp = w.get()] { wp->drain(); });
    }
    if (shared.connections.load() > 0)
      spdlog::warn("shutdown grace period over: closing {} connection(s)", shared.connections.load());
    finish();
  }, drain_failed);
}

void Server::Impl::finish() {
  for (auto& w : workers) w->ioc.stop();
  control.stop();
}

Server::Server(const config::Config& cfg, core::CredentialStore& creds, net_token::AutoAuth* auto_auth)
    : impl_(std::make_unique<Impl>(cfg, creds, auto_auth)) {}

Server::~Server() {
  for (auto& w : impl_->workers) {
    w->ioc.stop();
    if (w->thread.joinable()) w->thread.join();
  }
}

void Server::bind() {
  auto& cfg = impl_->cfg;
  error_code ec;
  auto address = net::ip::make_address(cfg.listen, ec);
  if (ec) throw ListenError("listen address '" + cfg.listen + "' is not an IP address (fix VAULT_PROXY_LISTEN / --listen)");
  tcp::endpoint ep(address, cfg.port);
  auto& a = impl_->acceptor;
  a.open(ep.protocol());
  a.set_option(net::socket_base::reuse_address(true));
  a.bind(ep, ec);
  if (ec) {
    std::string msg = fmt::format("cannot listen on {}:{}: {}.", cfg.listen, cfg.port, ec.message());
    if (ec == net::error::address_in_use) {
      auto owner = net_util::port_owner(cfg.port);
      msg += fmt::format(" Port {} is held by {}.", cfg.port, owner ? *owner : std::string("another process"));
      msg += " Stop that process, or choose another port with VAULT_PROXY_PORT (or --port) and "
             "regenerate .mcp.json.";
      if (cfg.port == 2019) msg += " Note: 2019 is also the default port of Caddy's admin API.";
      msg += " vault-proxy never falls back to another port.";
    } else if (ec == net::error::access_denied) {
      msg += " Choose a port above 1023 with VAULT_PROXY_PORT.";
    }
    throw ListenError(msg);
  }
  a.listen(net::socket_base::max_listen_connections, ec);
  if (ec) throw ListenError(fmt::format("cannot listen on {}:{}: {}", cfg.listen, cfg.port, ec.message()));
  impl_->shared.policy.port = a.local_endpoint().port();
  if (cfg.unix_socket) impl_->bind_unix();
}

void Server::adopt(int fd, bool allow_non_loopback) {
  auto& a = impl_->acceptor;
  int type = 0, listening = 0;
  socklen_t len = sizeof type;
  ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
  len = sizeof listening;
  ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
  sockaddr_storage ss{};
  socklen_t ss_len = sizeof ss;
  if (type != SOCK_STREAM || !listening || ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &ss_len) != 0 ||
      (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
    throw ListenError("the socket passed by systemd (LISTEN_FDS) is not a listening TCP socket; use ListenStream= with "
                      "an address such as 127.0.0.1:2019 in vault-proxy.socket");
  error_code ec;
  a.assign(ss.ss_family == AF_INET ? tcp::v4() : tcp::v6(), fd, ec);
  if (ec) throw ListenError("cannot use the socket passed by systemd: " + ec.message());
  const auto ep = a.local_endpoint();
  if (!ep.address().is_loopback() && !allow_non_loopback)
    throw ListenError(fmt::format("the socket passed by systemd listens on {}, which is not a loopback address: anyone "
                                  "who can reach it could read the vault. Use ListenStream=127.0.0.1:{} (or [::1]), or "
                                  "pass --unsafe-listen",
                                  ep.address().to_string(), ep.port()));
  impl_->shared.policy.port = ep.port();
  if (impl_->cfg.unix_socket) impl_->bind_unix();
}

void Server::Impl::bind_unix() {
  const std::string& path = *cfg.unix_socket;
  using local = net::local::stream_protocol;
  error_code ec;
  if (std::filesystem::exists(std::filesystem::symlink_status(path))) {
    // A socket file left by a crashed proxy is replaced; one that still answers is in use.
    local::socket probe(control);
    probe.connect(local::endpoint(path), ec);
    if (!ec) throw ListenError("cannot listen on unix:" + path + ": another process is listening there. Stop it, or choose another path with --unix-socket.");
    struct stat st{};
    if (::lstat(path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode))
      throw ListenError("cannot listen on unix:" + path + ": the path exists and is not a socket; remove it or choose another path.");
    std::filesystem::remove(path);
  }
  unix_acceptor.open(local());
  // bind(2) creates the socket file with mode 0777 & ~umask, so the umask alone gives it the mode
  // asked for, from its creation on. A chmod(2) of the path afterwards would follow whatever is at
  // the path by then (a symlink swapped in), and fchmod(2) on a socket descriptor changes the
  // socket, not the file. bind runs before any other thread exists, so the process-wide umask
  // affects nothing else.
  mode_t old = ::umask(~static_cast<mode_t>(cfg.unix_socket_mode) & 0777);
  unix_acceptor.bind(local::endpoint(path), ec);
  ::umask(old);
  if (ec) throw ListenError("cannot listen on unix:" + path + ": " + ec.message());
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode) || st.st_uid != ::geteuid() ||
      (st.st_mode & 07777) != cfg.unix_socket_mode)
    throw ListenError(fmt::format("unix:{} is not the socket just bound with mode {:04o} (was it replaced?); stop "
                                  "whoever else writes to that directory, or choose another path",
                                  path, cfg.unix_socket_mode));
  unix_bound = true;
  unix_acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) throw ListenError("cannot listen on unix:" + path + ": " + ec.message());
}

const std::string& Server::capability() const { return impl_->shared.capability; }

std::uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

std::string Server::address() const { return impl_->acceptor.local_endpoint().address().to_string(); }

void Server::run() {
  auto& im = *impl_;
  std::signal(SIGPIPE, SIG_IGN);
  im.arm_hup();
  if (im.watch) im.watch->start();
  im.signals.async_wait([&im](const error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("received {}", sig == SIGINT ? "SIGINT" : "SIGTERM");
    im.begin_drain();
  });
  spdlog::info("{} worker thread(s) (source: {})", im.workers.size(), core::worker_source_name(im.shared.workers.source));
  for (auto& w : im.workers) {
    w->thread = std::thread([wp = w.get()] {
      auto guard = net::make_work_guard(wp->ioc);
      wp->ioc.run();
    });
  }
  // Each worker opens one upstream connection in the background, so that the first request finds
  // a handshaken one (issue 17); readiness, on the control thread, does not wait for it.
  for (auto& w : im.workers) net::co_spawn(w->ioc, open_spare_connection(*w), spare_failed);
  net::co_spawn(im.control, im.accept_loop(im.acceptor), accept_failed);
  if (im.unix_bound) net::co_spawn(im.control, im.accept_loop(im.unix_acceptor), accept_failed);
  // Posted after the accept loops, so it runs once they wait in accept.
  net::post(im.control, [&im] {
    im.maybe_ready();
    im.arm_tick();
  });
  im.control.run();
  for (auto& w : im.workers) {
    w->ioc.stop();
    if (w->thread.joinable()) w->thread.join();
  }
}

void Server::set_audit(sys::AppendLog* log, std::string path) {
  impl_->shared.audit = log;
  impl_->shared.audit_path = std::move(path);
}

void Server::set_policies(std::shared_ptr<const core::Policy> tcp, std::shared_ptr<const core::Policy> unix_socket) {
  auto& shared = impl_->shared;
  std::lock_guard lock(shared.policies_mutex);
  for (const auto& p : {tcp, unix_socket})
    if (p && std::find(shared.policies_kept.begin(), shared.policies_kept.end(), p) == shared.policies_kept.end())
      shared.policies_kept.push_back(p);
  shared.policies[Shared::tcp_listener].store(tcp.get(), std::memory_order_release);
  shared.policies[Shared::unix_listener].store(unix_socket.get(), std::memory_order_release);
}

std::vector<std::string> Server::enable_reload(config::Env file_env, std::function<void()> on_hup) {
  auto& im = *impl_;
  im.reloader = std::make_unique<CredentialReloader>(std::move(file_env), im.shared);
  im.on_hup = std::move(on_hup);
  im.watch = std::make_unique<DirectoryWatch>(im.control, im.reloader->watch_dirs(), [&im] {
    im.reloader->reload("file change");
    im.maybe_ready();
  });
  for (const auto& dir : im.watch->watched()) spdlog::info("watching {} for new service token files", dir);
  return im.watch->problems();
}

void Server::set_lifecycle(Lifecycle hooks) { impl_->lifecycle = std::move(hooks); }

void Server::stop() {
  net::post(impl_->control, [im = impl_.get()] { im->begin_drain(); });
}

}  // namespace vp::proxy
