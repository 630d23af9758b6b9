#include "support/proxy_process.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>

#ifndef VP_BINARY
#define VP_BINARY "vault-proxy"
#endif

namespace vp::test {

namespace {

/// Captures one pipe into memory and a file on a reader thread, waking waiters on every read.
struct Capture {
  std::string path;
  int fd = -1;
  std::string text;
  bool closed = false;
  std::thread reader;
};

}  // namespace

struct ProxyProcess::Impl {
  Options options;
  TempDir dir{"vp-proxy-"};
  pid_t pid = -1;
  bool reaped = false;
  int exit_code = -1;
  std::uint16_t port = 0;
  std::string address;

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  Capture out;
  Capture err;

  void start_reader(Capture& c) {
    c.reader = std::thread([this, &c] {
      std::ofstream file(c.path, std::ios::binary);
      char buf[8192];
      for (;;) {
        ssize_t n = ::read(c.fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        file.write(buf, n);
        file.flush();
        {
          std::lock_guard lock(mu);
          c.text.append(buf, static_cast<std::size_t>(n));
        }
        cv.notify_all();
      }
      {
        std::lock_guard lock(mu);
        c.closed = true;
      }
      cv.notify_all();
    });
  }

  /// Parses `listening on http://ADDR:PORT` from stderr; caller holds mu.
  bool parse_ready() {
    static constexpr std::string_view marker = "listening on http://";
    auto pos = err.text.find(marker);
    if (pos == std::string::npos) return false;
    auto start = pos + marker.size();
    auto end = err.text.find_first_of(" \r\n\t\"/,", start);
    if (end == std::string::npos) return false;  // line not complete yet
    std::string hostport = err.text.substr(start, end - start);
    auto colon = hostport.rfind(':');
    if (colon == std::string::npos) return false;
    address = hostport.substr(0, colon);
    port = static_cast<std::uint16_t>(std::strtoul(hostport.c_str() + colon + 1, nullptr, 10));
    return port != 0;
  }

  bool try_reap(int flags) {
    if (reaped) return true;
    int status = 0;
    pid_t r;
    do {
      r = ::waitpid(pid, &status, flags);
    } while (r < 0 && errno == EINTR);
    if (r == pid) {
      reaped = true;
      exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return true;
    }
    return false;
  }
};

ProxyProcess::ProxyProcess(Options options) : impl_(std::make_unique<Impl>()) {
  auto& im = *impl_;
  im.options = std::move(options);
  if (im.options.binary.empty()) {
    // VP_TEST_BINARY lets a developer point the suite at another build without reconfiguring.
    const char* override_binary = std::getenv("VP_TEST_BINARY");
    im.options.binary = override_binary && *override_binary ? override_binary : VP_BINARY;
  }
  im.out.path = im.dir.file("stdout.log");
  im.err.path = im.dir.file("stderr.log");

  std::map<std::string, std::string> env = im.options.env;
  if (!env.count("PATH")) {
    const char* path = std::getenv("PATH");
    env["PATH"] = path ? path : "/usr/local/bin:/usr/bin:/bin";
  }
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "ASAN_SYMBOLIZER_PATH"})
    if (const char* v = std::getenv(name); v && !env.count(name)) env[name] = v;
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  std::vector<std::string> arg_strings = im.options.launcher;
  arg_strings.push_back(im.options.binary);
  arg_strings.insert(arg_strings.end(), im.options.args.begin(), im.options.args.end());
  std::vector<char*> argv;
  for (auto& s : arg_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  // Asio opens sockets without SOCK_CLOEXEC: without this the child would inherit (and keep open)
  // the fake upstream's and the test client's sockets.
  if (im.options.pass_fd >= 0) posix_spawn_file_actions_adddup2(&fa, im.options.pass_fd, 3);
  posix_spawn_file_actions_addclosefrom_np(&fa, im.options.pass_fd >= 0 ? 4 : 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t all_default;
  sigemptyset(&all_default);
  sigaddset(&all_default, SIGTERM);
  sigaddset(&all_default, SIGINT);
  sigaddset(&all_default, SIGPIPE);
  sigaddset(&all_default, SIGHUP);
  posix_spawnattr_setsigdefault(&attr, &all_default);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  int rc = ::posix_spawn(&im.pid, arg_strings.front().c_str(), &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    throw std::runtime_error("posix_spawn(" + arg_strings.front() + "): " + std::strerror(rc));
  }
  im.out.fd = out_pipe[0];
  im.err.fd = err_pipe[0];
  im.start_reader(im.out);
  im.start_reader(im.err);

  if (!im.options.wait_ready) return;
  std::unique_lock lock(im.mu);
  bool ready = im.cv.wait_for(lock, im.options.ready_timeout, [&] { return im.parse_ready() || im.err.closed; });
  if (!ready || im.port == 0) {
    std::string text = im.err.text;
    lock.unlock();
    throw std::runtime_error(std::string(ready ? "vault-proxy exited before readiness" :
                                                  "vault-proxy not ready in time") +
                             "; stderr:\n" + text);
  }
}

ProxyProcess::~ProxyProcess() {
  auto& im = *impl_;
  if (im.pid > 0 && !im.try_reap(WNOHANG)) {
    ::kill(im.pid, SIGKILL);
    im.try_reap(0);
  }
  for (Capture* c : {&im.out, &im.err}) {
    if (c->reader.joinable()) c->reader.join();
    if (c->fd >= 0) ::close(c->fd);
  }
}

pid_t ProxyProcess::pid() const noexcept { return impl_->pid; }
std::uint16_t ProxyProcess::port() const noexcept { return impl_->port; }
std::string ProxyProcess::listen_address() const { return impl_->address; }

bool ProxyProcess::wait_for_stderr(const std::string& needle, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] {
    return impl_->err.text.find(needle) != std::string::npos || impl_->err.closed;
  }) && impl_->err.text.find(needle) != std::string::npos;
}

void ProxyProcess::send_signal(int sig) const {
  if (impl_->pid > 0 && !impl_->reaped) ::kill(impl_->pid, sig);
}

std::optional<int> ProxyProcess::wait_exit(std::chrono::milliseconds timeout) {
  auto& im = *impl_;
  if (im.try_reap(WNOHANG)) return im.exit_code;
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, im.pid, 0));
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (im.try_reap(WNOHANG)) break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(left.count()));
    } else {
      std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(10)));  // no pidfd: poll
    }
  }
  if (pidfd >= 0) ::close(pidfd);
  if (!im.reaped) return std::nullopt;
  // Let the readers drain what the child wrote before it exited.
  std::unique_lock lock(im.mu);
  im.cv.wait_for(lock, std::chrono::seconds(2), [&] { return im.out.closed && im.err.closed; });
  return im.exit_code;
}

bool ProxyProcess::running() { return impl_->pid > 0 && !impl_->try_reap(WNOHANG); }

std::string ProxyProcess::stderr_text() const {
  std::lock_guard lock(impl_->mu);
  return impl_->err.text;
}

std::string ProxyProcess::stdout_text() const {
  std::lock_guard lock(impl_->mu);
  return impl_->out.text;
}

std::string ProxyProcess::stderr_path() const { return impl_->err.path; }
std::string ProxyProcess::stdout_path() const { return impl_->out.path; }
const TempDir& ProxyProcess::dir() const { return impl_->dir; }

std::optional<std::uint64_t> ProxyProcess::status_kb(const std::string& field) const {
  std::ifstream in("/proc/" + std::to_string(impl_->pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, field.size(), field) == 0 && line.size() > field.size() && line[field.size()] == ':')
      return std::strtoull(line.c_str() + field.size() + 1, nullptr, 10);
  }
  return std::nullopt;
}

CliResult run_cli(std::vector<std::string> args, std::map<std::string, std::string> env,
                  std::chrono::milliseconds timeout) {
  ProxyProcess::Options o;
  o.env = std::move(env);
  o.args = std::move(args);
  o.wait_ready = false;
  ProxyProcess p(o);
  auto code = p.wait_exit(timeout);
  CliResult r;
  r.code = code.value_or(-1);
  r.out = p.stdout_text();
  r.err = p.stderr_text();
  EXPECT_TRUE(code.has_value()) << "vault-proxy " << o.args.front() << " did not exit in time\n" << r.err;
  return r;
}

}  // namespace vp::test
