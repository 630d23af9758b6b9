#pragma once
// Connections to the one upstream: connect (net/connector.hpp: resolve, TCP, TLS, each under its own
// deadline) and a per-worker pool of idle keep-alive connections (net/pool.hpp).

#include "config/config.hpp"
#include "core/error.hpp"
#include "core/framing.hpp"
#include "net/asio.hpp"
#include "net/pool.hpp"
#include "net/tls_stream.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vp::net_upstream {

/// One TLS connection to the upstream and the bytes read past the last response.
struct Connection {
  Connection(const net::any_io_executor& ex, ssl::context& ctx, std::shared_ptr<std::size_t> live)
      : stream(ex, ctx), live_(std::move(live)) {
    ++*live_;
  }
  ~Connection() { --*live_; }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  net_tls::TlsStream stream;
  beast::flat_buffer buffer{core::read_buffer_limit};  // bounds a chunk-size line and the trailers too
  clock::time_point idle_since{};
  std::uint64_t requests = 0;  ///< responses completed on this connection

 private:
  // The pool's count of open connections, shared: a session frame destroyed with the io_context
  // at shutdown may drop its connection after the pool is gone.
  std::shared_ptr<std::size_t> live_;
};

/// The outcome of connect(): a connection, or the error and an operator-facing reason.
struct ConnectResult {
  std::unique_ptr<Connection> connection;
  std::optional<core::ErrorCode> error;
  std::string detail;  ///< e.g. "connect 127.0.0.1:8443: Connection refused"
};

/// What the pool needs of a Connection (BasicPool's policy).
struct ConnectionPolicy {
  /// The peer closed, or sent application bytes (TLS records that carry none, such as session
  /// tickets, are taken and do not count).
  static bool peer_closed(Connection& c);
  static bool has_unread(Connection& c);
  static void set_lean(Connection& c, bool lean);
  static void release_buffers(Connection& c);
};

/// Per-worker pool of idle upstream connections, and the way to open new ones.
class Pool : public BasicPool<Connection, ConnectionPolicy> {
 public:
  Pool(net::any_io_executor ex, std::shared_ptr<ssl::context> tls, const config::Config& cfg);

  /// A new, handshaken connection (net/connector.hpp).
  net::awaitable<ConnectResult> connect();
  /// Opens a connection ahead of any request and keeps it idle in the pool, so that a request
  /// finds it handshaken (the first after start, above all). The result says why when it failed.
  net::awaitable<ConnectResult> open_spare();
  /// True while open_spare() connects.
  bool spare_pending() const noexcept { return spare_pending_; }
  /// Waits until open_spare() has finished, so that a request that arrives meanwhile takes the
  /// spare from the pool instead of dialling a second connection beside it.
  net::awaitable<void> spare_settled();

 private:
  net::any_io_executor ex_;
  std::shared_ptr<ssl::context> tls_;
  const config::Config& cfg_;
  bool spare_pending_ = false;
  net::steady_timer spare_done_;  // never expires: cancelled when the spare is settled
};

/// True when the peer has closed (or sent unexpected bytes on) an idle socket.
bool peer_closed(tcp::socket& socket);
/// True when bytes wait in the connection's read buffer or in OpenSSL's (read-ahead), so a read
/// would return them without touching the socket.
bool has_unread(Connection& c);

}  // namespace vp::net_upstream
