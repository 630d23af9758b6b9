#include "net/upstream.hpp"

#include "net/connector.hpp"

#include <sys/socket.h>

namespace vp::net_upstream {

// An HTTP/1.1 response carries nothing that ties it to its request: bytes an upstream sends
// between responses would be read as the answer to the next request on that connection, and every
// later request on it would get the answer of the one before. So a connection goes back to the
// pool only when nothing waits to be read in its buffer or in OpenSSL's (read-ahead takes every
// record the socket holds, including ones after the response), which costs no system call; and it
// comes out of the pool only when the kernel holds nothing for it either, which costs one
// recv(MSG_PEEK | MSG_DONTWAIT) per reuse, whatever the request (a bodiless GET used to skip it and
// rely on its replay, which sees a close but not a stray response). Watching idle connections with
// an async_wait on readability would close them sooner, but costs an operation started and
// cancelled per request, and a reuse would still need the check, since the wait's handler may not
// have run yet when bytes have arrived. Bytes that arrive after the check, while the request is on
// its way, cannot be told from the answer: that is HTTP/1.1.
bool has_unread(Connection& c) { return c.buffer.size() != 0 || c.stream.has_pending(); }

bool peer_closed(tcp::socket& socket) {
  char byte;
  ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return true;   // orderly close
  if (n > 0) return true;    // unsolicited bytes (close_notify or junk): not safe to reuse
  return errno != EAGAIN && errno != EWOULDBLOCK;
}

// A TLS 1.3 server sends its session tickets (RFC 8446 §4.6.1) after the handshake, so a connection
// that was opened and pooled before it carried any request (Pool::open_spare) finds them waiting.
// They are not an answer to anything: OpenSSL takes them in a read that returns no data, and the
// connection stays reusable. Application bytes, a close or a record cut short still drop it.
namespace {
bool settled_after_handshake_records(Connection& c) {
  char byte;
  error_code ec;
  const std::size_t n = c.stream.read_some_now(net::buffer(&byte, 1), ec);
  return n == 0 && ec == net::error::would_block && !c.stream.has_pending() &&
         !net_upstream::peer_closed(c.stream.socket());
}
}  // namespace

bool ConnectionPolicy::peer_closed(Connection& c) {
  return net_upstream::peer_closed(c.stream.socket()) && !settled_after_handshake_records(c);
}
bool ConnectionPolicy::has_unread(Connection& c) { return net_upstream::has_unread(c); }

void ConnectionPolicy::set_lean(Connection& c, bool lean) {
  SSL* ssl = c.stream.native_handle();
  if (lean)
    SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
  else
    SSL_clear_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
}

void ConnectionPolicy::release_buffers(Connection& c) { SSL_free_buffers(c.stream.native_handle()); }

Pool::Pool(net::any_io_executor ex, std::shared_ptr<ssl::context> tls, const config::Config& cfg)
    : BasicPool({cfg.pool_size, cfg.timeouts.upstream_idle}),
      ex_(std::move(ex)),
      tls_(std::move(tls)),
      cfg_(cfg),
      spare_done_(ex_, clock::time_point::max()) {}

namespace {

/// The operator-facing reason of a failed connect, as the proxy has always worded it.
ConnectResult failure(const net_connect::Report& r, const net_connect::Target& t) {
  using net_connect::Step;
  const std::string where = t.where();
  switch (r.failed) {
    case Step::resolve:
      return {nullptr, core::ErrorCode::upstream_connect,
              r.timed_out ? "resolving " + where + " timed out" : "resolving " + t.dial_host + ": " + r.reason};
    case Step::connect:
      return {nullptr, core::ErrorCode::upstream_connect,
              "connect " + where + ": " + (r.timed_out ? std::string("timed out") : r.reason)};
    case Step::tls_setup:
      return {nullptr, core::ErrorCode::upstream_tls, r.reason};
    case Step::handshake:
      if (r.timed_out)
        return {nullptr, core::ErrorCode::upstream_timeout, "TLS handshake with " + where + " timed out"};
      return {nullptr, core::ErrorCode::upstream_tls,
              "TLS handshake with " + t.host + " (" + where + "): " + r.reason};
    case Step::done:
      break;
  }
  return {};
}

}  // namespace

net::awaitable<ConnectResult> Pool::connect() {
  const auto target = net_connect::upstream_target(cfg_);
  auto c = std::make_unique<Connection>(ex_, *tls_, live());
  lend(*c);
  auto report = co_await net_connect::connect(c->stream, target);
  if (report.failed != net_connect::Step::resolve) ++stats_.connects;
  if (!report.ok()) co_return failure(report, target);
  ConnectResult r;
  r.connection = std::move(c);
  co_return r;
}

net::awaitable<ConnectResult> Pool::open_spare() {
  spare_pending_ = true;
  auto r = co_await connect();
  if (r.connection) give_back(std::move(r.connection));
  spare_pending_ = false;
  spare_done_.cancel();
  co_return r;
}

net::awaitable<void> Pool::spare_settled() {
  if (!spare_pending_) co_return;
  co_await spare_done_.async_wait(net::as_tuple(net::use_awaitable));
}

}  // namespace vp::net_upstream
