#pragma once
// TlsStream: a TLS client stream in which OpenSSL reads and writes the non-blocking socket itself.
//
// Asio's ssl::stream runs OpenSSL over a memory BIO pair: every byte is copied from the socket into
// Asio's buffer, from there into the BIO pair, and from the pair into OpenSSL's record buffer, and
// the same again on the way out. Profiles of a 1 MiB response put 48 % of the proxy's instructions
// in those copies (docs/BENCHMARKS.md). Here the SSL object owns the file descriptor (SSL_set_fd on a
// non-blocking socket): the kernel copies into OpenSSL's record buffer and OpenSSL decrypts into the
// caller's buffer. When OpenSSL wants the socket, the operation waits for readiness
// (socket::async_wait) and tries again.
//
// Each operation has two forms: a synchronous attempt (`*_now`), which never blocks and reports
// net::error::would_block, for coroutines that want to skip the machinery of an asynchronous call
// when the data is already there; and the usual AsyncReadStream / AsyncWriteStream members, so
// that Beast's algorithms work on it. Timeouts come from one lazily armed Deadline per stream.
//
// The stream does not send close_notify: the proxy drops upstream connections, it never ends them
// cleanly in the middle of an exchange, and an idle pooled connection closed by us needs no more.

#include "net/asio.hpp"
#include "net/deadline.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>

namespace vp::net_tls {

class TlsStream {
 public:
  using executor_type = net::any_io_executor;

  TlsStream(const executor_type& ex, ssl::context& ctx)
      : socket_(ex),
        // Before attach() the only operation is the connect: closing the socket ends Asio's
        // walk over the resolved endpoints, where a cancel would only move it to the next one.
        deadline_(ex,
                  [this] {
                    error_code ignored;
                    if (attached_)
                      socket_.cancel(ignored);
                    else
                      socket_.close(ignored);
                  }),
        ssl_(SSL_new(ctx.native_handle())) {
    if (ssl_ == nullptr) throw std::runtime_error("SSL_new failed");
    SSL_set_connect_state(ssl_);
  }
  ~TlsStream() { SSL_free(ssl_); }
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  tcp::socket& socket() noexcept { return socket_; }
  SSL* native_handle() noexcept { return ssl_; }
  template <class Duration>
  void expires_after(Duration d) { deadline_.expires_after(d); }
  void expires_at(std::chrono::steady_clock::time_point t) { deadline_.expires_at(t); }
  void expires_never() { deadline_.expires_never(); }

  /// Hands the connected socket to OpenSSL. Call once, after connect and before the handshake.
  void attach(error_code& ec) {
    socket_.non_blocking(true, ec);
    if (ec) return;
    if (SSL_set_fd(ssl_, socket_.native_handle()) != 1) ec = make_ssl_error();
    attached_ = !ec;
  }

  /// One attempt to read; `n` bytes or an error, net::error::would_block when OpenSSL needs the
  /// socket (async_wait_ready() waits for what it needs).
  std::size_t read_some_now(net::mutable_buffer b, error_code& ec) {
    std::size_t n = 0;
    ec = attempt([&] { return SSL_read_ex(ssl_, b.data(), b.size(), &n); });
    just_wrote_ = false;
    return n;
  }
  std::size_t write_some_now(net::const_buffer b, error_code& ec) {
    std::size_t n = 0;
    ec = attempt([&] { return SSL_write_ex(ssl_, b.data(), b.size(), &n); });
    just_wrote_ = !ec;
    return n;
  }
  void handshake_now(error_code& ec) {
    ec = attempt([&] { return SSL_do_handshake(ssl_); });
  }
  /// Bytes OpenSSL holds that a read would return without touching the socket.
  bool has_pending() const noexcept { return SSL_has_pending(ssl_) == 1; }

  /// Waits until the socket is ready for what the last would_block asked.
  template <class Token>
  auto async_wait_ready(Token&& token) {
    return socket_.async_wait(want_ == Want::write ? tcp::socket::wait_write : tcp::socket::wait_read,
                              std::forward<Token>(token));
  }

  /// Maps a cancelled wait to beast::error::timeout when the deadline caused it.
  error_code timeout_or(const error_code& ec) const {
    return ec == net::error::operation_aborted && deadline_.timed_out() ? error_code(beast::error::timeout) : ec;
  }

  template <class MutableBufferSequence, class Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    return async_io(Op::read, first_mutable(buffers), std::forward<Token>(token));
  }
  template <class ConstBufferSequence, class Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    return async_io(Op::write, gather(buffers), std::forward<Token>(token));
  }
  template <class Token>
  auto async_handshake(Token&& token) {
    return net::async_compose<Token, void(error_code)>(
        [this, state = State::first](auto& self, error_code ec = {}) mutable {
          if (state == State::posted) return self.complete(ec);
          if (state == State::waiting && ec) return self.complete(timeout_or(ec));
          handshake_now(ec);
          if (ec == net::error::would_block) {
            state = State::waiting;
            return async_wait_ready(std::move(self));
          }
          if (state == State::first) {
            state = State::posted;
            return net::post(get_executor(), net::append(std::move(self), ec));
          }
          self.complete(ec);
        },
        token, socket_);
  }

  // What one write sends. Each SSL_write is at least one TLS record and one send(): a sequence of
  // small pieces, such as the one Beast's serializer makes of a header (start line, each field,
  // the blank line), is copied into one buffer first, up to a record's worth. A large first piece
  // goes as it is.
  static constexpr std::size_t gather_limit = 16 * 1024;
  template <class Seq>
  net::const_buffer gather(const Seq& s) {
    auto it = net::buffer_sequence_begin(s);
    const auto end = net::buffer_sequence_end(s);
    while (it != end && net::const_buffer(*it).size() == 0) ++it;
    if (it == end) return {};
    net::const_buffer first(*it);
    if (first.size() >= gather_limit || std::next(it) == end) return first;
    scratch_.clear();
    for (; it != end && scratch_.size() < gather_limit; ++it) {
      net::const_buffer b(*it);
      auto take = std::min(b.size(), gather_limit - scratch_.size());
      scratch_.append(static_cast<const char*>(b.data()), take);
    }
    return net::buffer(scratch_);
  }

 private:
  enum class Op { read, write };

  template <class Seq>
  static net::mutable_buffer first_mutable(const Seq& s) {
    for (auto it = net::buffer_sequence_begin(s); it != net::buffer_sequence_end(s); ++it)
      if (net::mutable_buffer b(*it); b.size() > 0) return b;
    return {};
  }

  // Where a composed operation is: its first attempt runs inside the initiating call; one that
  // finishes there completes through post() (state `posted`), never inside that call.
  enum class State { first, waiting, posted };

  // The composed operation behind async_read_some / async_write_some.
  template <class Token>
  auto async_io(Op op, net::mutable_buffer b, Token&& token) {
    return async_io(op, net::const_buffer(b), std::forward<Token>(token));
  }
  template <class Token>
  auto async_io(Op op, net::const_buffer b, Token&& token) {
    return net::async_compose<Token, void(error_code, std::size_t)>(
        [this, op, b, state = State::first](auto& self, error_code ec = {}, std::size_t n = 0) mutable {
          if (state == State::posted) return self.complete(ec, n);
          if (state == State::waiting && ec) return self.complete(timeout_or(ec), 0);
          n = 0;
          if (state == State::first && op == Op::read && just_wrote_ && !has_pending()) {
            // The first read after a request was written: the answer is almost never here yet,
            // so wait for the socket instead of spending a read() on EAGAIN. When it is here,
            // the wait completes at once (re-arming the registration reports a ready socket).
            just_wrote_ = false;
            want_ = Want::read;
            state = State::waiting;
            return async_wait_ready(std::move(self));
          }
          if (b.size() > 0)
            n = op == Op::read ? read_some_now(net::mutable_buffer(const_cast<void*>(b.data()), b.size()), ec)
                               : write_some_now(b, ec);
          if (ec == net::error::would_block) {
            state = State::waiting;
            return async_wait_ready(std::move(self));
          }
          if (state == State::first) {
            state = State::posted;
            return net::post(get_executor(), net::append(std::move(self), ec, n));
          }
          self.complete(ec, n);
        },
        token, socket_);
  }

  // One OpenSSL call with a clean error queue and errno (SSL_get_error and SSL_ERROR_SYSCALL read
  // them), its result translated. translate() leaves the queue empty on every path, so it is
  // normally empty here already: looking is a fraction of ERR_clear_error's cost, which walks
  // all 16 slots (about 1.5 % of a small request's instructions when it ran before every call).
  // It is still cleared when not empty, as another user of OpenSSL on this thread may leave errors.
  template <class Call>
  error_code attempt(Call call) {
    if (ERR_peek_error() != 0) ERR_clear_error();
    errno = 0;
    int r = call();
    return r == 1 ? error_code() : translate(r);
  }

  error_code translate(int r) {
    int err = SSL_get_error(ssl_, r);
    switch (err) {
      case SSL_ERROR_WANT_READ:
        want_ = Want::read;
        return net::error::would_block;
      case SSL_ERROR_WANT_WRITE:
        want_ = Want::write;
        return net::error::would_block;
      case SSL_ERROR_ZERO_RETURN:
        return net::error::eof;  // close_notify
      case SSL_ERROR_SYSCALL: {
        int e = errno;
        if (ERR_peek_error() == 0 && e == 0) return ssl::error::stream_truncated;
        if (e != 0) {
          ERR_clear_error();
          return error_code(e, boost::system::system_category());
        }
        return make_ssl_error();
      }
      case SSL_ERROR_SSL: {
        unsigned long e = ERR_peek_error();
        if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
          ERR_clear_error();
          return ssl::error::stream_truncated;
        }
        return make_ssl_error();
      }
      default:
        return make_ssl_error();
    }
  }
  static error_code make_ssl_error() {
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) return ssl::error::stream_truncated;
    return error_code(static_cast<int>(e), net::error::get_ssl_category());
  }

  tcp::socket socket_;
  net_util::Deadline deadline_;
  SSL* ssl_;
  enum class Want { none, read, write };
  Want want_ = Want::none;
  bool attached_ = false;
  bool just_wrote_ = false;  // the last operation was a completed write
  std::string scratch_;  // gather()'s buffer; it lives as long as the write that uses it
};

/// Reads into `b` from a coroutine: at once when OpenSSL already holds the bytes (no asynchronous
/// call, no trip through the executor), else after waiting for the socket. While OpenSSL holds more
/// decrypted-ready records and `b` has room, it keeps reading, so one call can fill `b` from several
/// records.
inline net::awaitable<std::pair<error_code, std::size_t>> read_some(TlsStream& s, net::mutable_buffer b) {
  std::size_t total = 0;
  for (;;) {
    error_code ec;
    total += s.read_some_now(b + total, ec);
    if (ec == net::error::would_block) {
      if (total > 0) co_return std::pair{error_code(), total};
      auto [wec] = co_await s.async_wait_ready(net::as_tuple(net::use_awaitable));
      if (wec) co_return std::pair{s.timeout_or(wec), std::size_t(0)};
      continue;
    }
    if (ec) co_return std::pair{total > 0 ? error_code() : ec, total};
    if (total == b.size() || !s.has_pending()) co_return std::pair{error_code(), total};
  }
}

/// Writes every byte of `buffers`, in order, from a coroutine. Pieces that together fit one TLS
/// record go out as one record (one send()); a larger total goes piece by piece.
inline net::awaitable<error_code> write_all(TlsStream& s, std::span<const net::const_buffer> buffers) {
  net::const_buffer one;
  std::span<const net::const_buffer> pieces = buffers;
  if (buffers.size() > 1 && net::buffer_size(buffers) <= TlsStream::gather_limit) {
    one = s.gather(buffers);
    pieces = std::span<const net::const_buffer>(&one, 1);
  }
  for (net::const_buffer b : pieces) {
    while (b.size() > 0) {
      error_code ec;
      // After would_block OpenSSL must be called again with the same buffer, which this does.
      b += s.write_some_now(b, ec);
      if (ec == net::error::would_block) {
        auto [wec] = co_await s.async_wait_ready(net::as_tuple(net::use_awaitable));
        if (wec) co_return s.timeout_or(wec);
      } else if (ec) {
        co_return ec;
      }
    }
  }
  co_return error_code();
}

}  // namespace vp::net_tls
