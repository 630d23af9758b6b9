#include "support/raw_upstream.hpp"

#include "support/open_connections.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <condition_variable>
#include <cstdio>
#include <future>
#include <mutex>
#include <thread>

namespace vp::test {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

namespace {

using Stream = beast::ssl_stream<beast::tcp_stream>;
constexpr auto tuple_awaitable = net::as_tuple(net::use_awaitable);

// Content-Length of a request head, 0 when absent or unreadable (requests here are simple).
std::size_t content_length(const std::string& head) {
  std::string lower;
  lower.reserve(head.size());
  for (char c : head) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  auto pos = lower.find("\r\ncontent-length:");
  if (pos == std::string::npos) return 0;
  return static_cast<std::size_t>(std::strtoull(lower.c_str() + pos + 17, nullptr, 10));
}

}  // namespace

struct RawUpstream::Impl {
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  Handler handler;
  std::vector<RawRequest> recorded;
  std::size_t n_connections = 0;
  std::size_t n_handshakes = 0;
  OpenConnections open;
  std::size_t n_unsolicited = 0;

  ssl::context tls{ssl::context::tls_server};
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::uint16_t port = 0;
  std::vector<std::weak_ptr<Stream>> sessions;  // io thread only
  std::uint64_t next_id = 1;                    // io thread only
  std::thread thread;

  Impl(const CertFiles& cert, Handler h) : handler(std::move(h)) {
    tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    tls.use_certificate_chain_file(cert.cert);
    tls.use_private_key_file(cert.key, ssl::context::pem);
    tcp::endpoint ep(net::ip::make_address("127.0.0.1"), 0);
    acceptor.open(ep.protocol());
    acceptor.set_option(net::socket_base::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen();
    port = acceptor.local_endpoint().port();
    net::co_spawn(ioc, accept_loop(), net::detached);
    thread = std::thread([this] { ioc.run(); });
  }

  ~Impl() {
    std::promise<void> closed;
    auto done = closed.get_future();
    net::post(ioc, [this, &closed] {
      beast::error_code ec;
      acceptor.close(ec);
      for (auto& w : sessions)
        if (auto s = w.lock()) beast::get_lowest_layer(*s).socket().close(ec);
      closed.set_value();
    });
    done.wait_for(std::chrono::seconds(5));
    ioc.stop();
    if (thread.joinable()) thread.join();
  }

  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, sock] = co_await acceptor.async_accept(tuple_awaitable);
      if (ec) {
        if (!acceptor.is_open()) co_return;
        continue;
      }
      auto stream = std::make_shared<Stream>(std::move(sock), tls);
      std::erase_if(sessions, [](const auto& w) { return w.expired(); });
      sessions.push_back(stream);
      {
        std::lock_guard lock(mu);
        ++n_connections;
      }
      open.opened();
      cv.notify_all();
      net::co_spawn(ioc, session(stream, next_id++), net::detached);
    }
  }

  // One write per piece: each is at least one TLS record of its own.
  net::awaitable<bool> write_reply(Stream& s, RawReply& reply) {
    auto& sock = beast::get_lowest_layer(s).socket();
    const bool together = !reply.unsolicited.empty() && reply.unsolicited_delay.count() == 0;
    auto cork = [&](int on) { ::setsockopt(sock.native_handle(), IPPROTO_TCP, TCP_CORK, &on, sizeof on); };
    if (together) cork(1);
    auto [ec, n] = co_await net::async_write(s, net::buffer(reply.bytes), tuple_awaitable);
    for (std::string piece; !ec && reply.more && !(piece = reply.more()).empty();)
      std::tie(ec, n) = co_await net::async_write(s, net::buffer(piece), tuple_awaitable);
    if (!ec && !reply.unsolicited.empty()) {
      if (!together) {
        net::steady_timer timer(ioc, reply.unsolicited_delay);
        co_await timer.async_wait(tuple_awaitable);
      }
      std::tie(ec, n) = co_await net::async_write(s, net::buffer(reply.unsolicited), tuple_awaitable);
      if (!ec) {
        std::lock_guard lock(mu);
        ++n_unsolicited;
      }
      cv.notify_all();
    }
    if (together) cork(0);
    co_return !ec;
  }

  net::awaitable<void> session(std::shared_ptr<Stream> sp, std::uint64_t id) {
    OpenConnections::Guard closed(open);
    Stream& s = *sp;
    auto& tcp_layer = beast::get_lowest_layer(s);
    tcp_layer.expires_after(std::chrono::seconds(10));
    auto [hec] = co_await s.async_handshake(ssl::stream_base::server, tuple_awaitable);
    if (hec) co_return;
    {
      std::lock_guard lock(mu);
      ++n_handshakes;
    }
    cv.notify_all();
    std::string buf;
    for (std::size_t index = 0;; ++index) {
      std::size_t end;
      while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
        char tmp[16 * 1024];
        tcp_layer.expires_after(std::chrono::seconds(60));
        auto [ec, n] = co_await s.async_read_some(net::buffer(tmp), tuple_awaitable);
        if (ec) {
          beast::error_code ignored;
          tcp_layer.socket().close(ignored);
          co_return;
        }
        buf.append(tmp, n);
      }
      RawRequest req;
      req.head = buf.substr(0, end + 4);
      req.connection_id = id;
      req.index_on_connection = index;
      auto sp1 = req.head.find(' ');
      auto sp2 = req.head.find(' ', sp1 + 1);
      if (sp1 != std::string::npos && sp2 != std::string::npos) req.target = req.head.substr(sp1 + 1, sp2 - sp1 - 1);
      std::size_t body = content_length(req.head);
      buf.erase(0, end + 4);
      while (buf.size() < body) {
        char tmp[16 * 1024];
        auto [ec, n] = co_await s.async_read_some(net::buffer(tmp), tuple_awaitable);
        if (ec) co_return;
        buf.append(tmp, n);
      }
      buf.erase(0, body);

      Handler h;
      {
        std::lock_guard lock(mu);
        recorded.push_back(req);
        h = handler;
      }
      cv.notify_all();
      RawReply reply = h(req);
      tcp_layer.expires_after(std::chrono::seconds(30));
      bool written = co_await write_reply(s, reply);
      if (!written || reply.close_after) {
        beast::error_code ignored;
        tcp_layer.socket().shutdown(tcp::socket::shutdown_both, ignored);
        tcp_layer.socket().close(ignored);
        co_return;
      }
    }
  }
};

RawUpstream::RawUpstream(CertFiles cert, Handler handler)
    : impl_(std::make_unique<Impl>(cert, std::move(handler))) {}
RawUpstream::~RawUpstream() = default;

std::uint16_t RawUpstream::port() const noexcept { return impl_->port; }
std::string RawUpstream::address() const { return "127.0.0.1:" + std::to_string(impl_->port); }

std::vector<RawRequest> RawUpstream::requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->recorded;
}

bool RawUpstream::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->recorded.size() >= n; });
}

bool RawUpstream::wait_for_unsolicited(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->n_unsolicited >= n; });
}

bool RawUpstream::wait_for_handshakes(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->n_handshakes >= n; });
}

std::size_t RawUpstream::connections() const {
  std::lock_guard lock(impl_->mu);
  return impl_->n_connections;
}

std::size_t RawUpstream::open_connections() const {
  return impl_->open.count();
}

bool RawUpstream::wait_for_open_connections_at_most(std::size_t n, std::chrono::milliseconds timeout) const {
  return impl_->open.wait_at_most(n, timeout);
}

}  // namespace vp::test
