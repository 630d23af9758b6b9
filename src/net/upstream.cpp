#include "net/upstream.hpp"

#include "net/tls.hpp"

#include <sys/socket.h>

#include <boost/asio/experimental/awaitable_operators.hpp>

namespace vp::upstream {

using net::use_awaitable;
using net::as_tuple;

constexpr std::size_t hot_connections = 16;
// Connections lent out at once above which a lent connection gives its record buffers back after
// every record (SSL_MODE_RELEASE_BUFFERS): below it they stay allocated, which saves two 17 KiB
// malloc/free pairs per request; above it memory stays bounded at high concurrency.
constexpr std::size_t lean_above = 64;

Pool::Pool(net::any_io_executor ex, std::shared_ptr<ssl::context> tls, const config::Config& cfg)
    : ex_(std::move(ex)), tls_(std::move(tls)), cfg_(cfg) {
  idle_.reserve(cfg.pool_size);
}

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

std::unique_ptr<Connection> Pool::take_idle() {
  auto now = clock::now();
  while (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    if (now - c->idle_since >= cfg_.timeouts.upstream_idle || peer_closed(c->stream.socket())) {
      ++stats_.stale_dropped;
      continue;
    }
    ++stats_.reuses;
    lend(*c);
    return c;
  }
  return nullptr;
}

void Pool::lend(Connection& c) const {
  SSL* ssl = c.stream.native_handle();
  if (*live_ - idle_.size() > lean_above)
    SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
  else
    SSL_clear_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
}

void Pool::give_back(std::unique_ptr<Connection> c) {
  if (has_unread(*c)) {
    ++stats_.unread_dropped;
    return;
  }
  if (idle_.size() >= cfg_.pool_size) return;
  c->idle_since = clock::now();
  idle_.push_back(std::move(c));
  // LIFO: the last connections given back are the next ones taken. One that sinks below
  // them is likely to wait, and gives back its OpenSSL record buffers (2 x 17 KiB) until then.
  if (idle_.size() > hot_connections)
    SSL_free_buffers(idle_[idle_.size() - 1 - hot_connections]->stream.native_handle());
}

net::awaitable<ConnectResult> Pool::connect() {
  using namespace net::experimental::awaitable_operators;
  ConnectResult r;
  const std::string& dial_host = cfg_.connect_to ? cfg_.connect_to->host : cfg_.upstream.host;
  std::uint16_t dial_port = cfg_.connect_to ? cfg_.connect_to->port : cfg_.upstream.port;
  auto where = [&] { return dial_host + ":" + std::to_string(dial_port); };

  tcp::resolver resolver(ex_);
  net::steady_timer timer(ex_);
  timer.expires_after(cfg_.timeouts.connect);
  auto raced = co_await (
      resolver.async_resolve(dial_host, std::to_string(dial_port), as_tuple(use_awaitable)) ||
      timer.async_wait(use_awaitable));
  if (raced.index() == 1) {
    r.error = ErrorCode::upstream_connect;
    r.detail = "resolving " + where() + " timed out";
    co_return r;
  }
  auto [rec, endpoints] = std::get<0>(std::move(raced));
  if (rec) {
    r.error = ErrorCode::upstream_connect;
    r.detail = "resolving " + dial_host + ": " + rec.message();
    co_return r;
  }

  auto c = std::make_unique<Connection>(ex_, *tls_, live_);
  lend(*c);
  auto& sock = c->stream.socket();
  ++stats_.connects;
  c->stream.expires_after(cfg_.timeouts.connect);
  auto [cec, ep] = co_await net::async_connect(sock, endpoints, as_tuple(use_awaitable));
  if (cec) {
    r.error = ErrorCode::upstream_connect;
    r.detail = "connect " + where() + ": " +
               (c->stream.timeout_or(cec) == beast::error::timeout ? std::string("timed out") : cec.message());
    co_return r;
  }
  error_code sec;
  sock.set_option(tcp::no_delay(true), sec);
  if (!sec) c->stream.attach(sec);
  if (sec) {
    r.error = ErrorCode::upstream_connect;
    r.detail = "connect " + where() + ": " + sec.message();
    co_return r;
  }

  std::string why;
  if (!net_tls::prepare_client(c->stream.native_handle(), cfg_.upstream.host, why)) {
    r.error = ErrorCode::upstream_tls;
    r.detail = why;
    co_return r;
  }
  c->stream.expires_after(cfg_.timeouts.tls_handshake);
  auto [hec] = co_await c->stream.async_handshake(as_tuple(use_awaitable));
  if (hec) {
    if (hec == beast::error::timeout) {
      r.error = ErrorCode::upstream_timeout;
      r.detail = "TLS handshake with " + where() + " timed out";
    } else {
      r.error = ErrorCode::upstream_tls;
      r.detail = "TLS handshake with " + cfg_.upstream.host + " (" + where() +
                 "): " + net_tls::describe_failure(hec, c->stream.native_handle());
    }
    co_return r;
  }
  net_tls::note_handshake(c->stream.native_handle());
  c->stream.expires_never();
  r.connection = std::move(c);
  co_return r;
}

}  // namespace vp::upstream
