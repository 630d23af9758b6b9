#pragma once
// Connections to the one upstream: connect (resolve, TCP, TLS, each under its own deadline) and a
// per-worker pool of idle keep-alive connections. A pool belongs to one io_context thread and is
// not thread-safe by design; there is no lock on the request path.

#include "config/config.hpp"
#include "core/error.hpp"
#include "core/framing.hpp"
#include "net/asio.hpp"
#include "net/tls_stream.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vp::upstream {

using clock = std::chrono::steady_clock;

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
  std::optional<ErrorCode> error;
  std::string detail;  ///< e.g. "connect 127.0.0.1:8443: Connection refused"
};

/// Counters of one pool.
struct PoolStats {
  std::uint64_t connects = 0;       ///< new connections (TLS handshakes started)
  std::uint64_t reuses = 0;         ///< requests served on a pooled connection
  std::uint64_t stale_dropped = 0;  ///< idle connections found closed, expired, or sent bytes
  std::uint64_t unread_dropped = 0; ///< connections not pooled: bytes waited after the response
};

/// Per-worker pool of idle upstream connections.
class Pool {
 public:
  Pool(net::any_io_executor ex, std::shared_ptr<ssl::context> tls, const config::Config& cfg);

  /// An idle connection that is not expired and on which nothing arrived while it idled, neither
  /// a close nor a byte (one recv(MSG_PEEK) system call per connection looked at), or null.
  std::unique_ptr<Connection> take_idle();
  /// A new, handshaken connection.
  net::awaitable<ConnectResult> connect();
  /// Keeps a connection that finished a response cleanly, unless bytes wait to be read on it (in
  /// its buffer or in OpenSSL's); drops it when the pool is full.
  void give_back(std::unique_ptr<Connection> c);
  /// Drops every idle connection.
  void clear() { idle_.clear(); }

  const PoolStats& stats() const noexcept { return stats_; }
  std::size_t idle_count() const noexcept { return idle_.size(); }

 private:
  net::any_io_executor ex_;
  std::shared_ptr<ssl::context> tls_;
  const config::Config& cfg_;
  /// Chooses how a connection about to carry a request holds its record buffers (see lend()).
  void lend(Connection& c) const;

  std::shared_ptr<std::size_t> live_ = std::make_shared<std::size_t>(0);
  std::vector<std::unique_ptr<Connection>> idle_;  // LIFO: the warmest connection first
  PoolStats stats_;
};

/// True when the peer has closed (or sent unexpected bytes on) an idle socket.
bool peer_closed(tcp::socket& socket);
/// True when bytes wait in the connection's read buffer or in OpenSSL's (read-ahead), so a read
/// would return them without touching the socket.
bool has_unread(Connection& c);

}  // namespace vp::upstream
