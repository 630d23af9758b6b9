#pragma once
// Deadline: one lazily armed timer per connection, in place of a timer per I/O operation.
//
// expires_after() only records the new deadline. The timer is armed when it is idle, or when the
// new deadline is earlier than the one it waits for; a deadline pushed later (the common case: each
// read or write moves it forward) costs no timer operation. When the timer wakes before the
// current deadline it re-arms itself for the rest, so a connection that keeps moving wakes about
// once per timeout period. When the deadline has passed it calls the owner's cancel action, which
// cancels the socket's pending operation, and timed_out() turns true until the next
// expires_after().
//
// The timer lives in a block shared with its handler, so a wake-up that was already queued when
// the owner was destroyed finds the owner pointer cleared and does nothing.

#include "net/asio.hpp"

#include <chrono>
#include <functional>
#include <memory>

namespace vp::net_util {

class Deadline {
 public:
  using clock = std::chrono::steady_clock;

  /// `cancel` runs (on the executor's thread) when a deadline passes.
  Deadline(const net::any_io_executor& ex, std::function<void()> cancel)
      : cancel_(std::move(cancel)), timer_(std::make_shared<Timer>(ex, this)) {}
  ~Deadline() {
    timer_->owner = nullptr;
    timer_->timer.cancel();
  }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  template <class Rep, class Period>
  void expires_after(std::chrono::duration<Rep, Period> d) {
    expires_at(clock::now() + std::chrono::duration_cast<clock::duration>(d));
  }
  void expires_at(clock::time_point t) {
    deadline_ = t;
    timed_out_ = false;
    if (!armed_ || armed_for_ > t) arm();
  }
  /// No deadline. The timer, if armed, is left to wake and find nothing to do.
  void expires_never() {
    deadline_ = clock::time_point::max();
    timed_out_ = false;
  }
  /// True when the last deadline passed (and the cancel action ran) since it was set.
  bool timed_out() const noexcept { return timed_out_; }

 private:
  // The part the timer's handler holds: the timer, and the way back to its owner (null once the
  // owner is gone). The deadline itself stays in the owner, so moving it touches no other memory.
  struct Timer {
    Timer(const net::any_io_executor& ex, Deadline* o) : timer(ex), owner(o) {}
    net::steady_timer timer;
    Deadline* owner;
  };

  void arm() {
    armed_ = true;
    armed_for_ = deadline_;
    timer_->timer.expires_at(deadline_);  // cancels a wait for a later deadline (handler: aborted)
    timer_->timer.async_wait([t = timer_](const error_code& ec) {
      if (ec == net::error::operation_aborted || t->owner == nullptr) return;  // re-armed, or owner gone
      t->owner->on_wake();
    });
  }
  void on_wake() {
    armed_ = false;
    if (deadline_ == clock::time_point::max()) return;
    if (clock::now() < deadline_) {
      arm();
      return;
    }
    timed_out_ = true;
    cancel_();
  }

  std::function<void()> cancel_;
  clock::time_point deadline_ = clock::time_point::max();
  clock::time_point armed_for_{};
  bool armed_ = false;
  bool timed_out_ = false;
  std::shared_ptr<Timer> timer_;
};

/// A plain socket with a Deadline: the AsyncReadStream / AsyncWriteStream that Beast's algorithms
/// need, where an operation cut off by the deadline completes with beast::error::timeout.
template <class Protocol>
class DeadlineStream {
 public:
  using socket_type = typename Protocol::socket;
  using executor_type = typename socket_type::executor_type;

  explicit DeadlineStream(socket_type socket)
      : socket_(std::move(socket)), deadline_(socket_.get_executor(), [this] {
          error_code ignored;
          socket_.cancel(ignored);
        }) {}

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  socket_type& socket() noexcept { return socket_; }
  template <class Duration>
  void expires_after(Duration d) { deadline_.expires_after(d); }
  void expires_never() { deadline_.expires_never(); }
  void cancel() {
    error_code ignored;
    socket_.cancel(ignored);
  }

  template <class MutableBufferSequence, class Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    return net::async_initiate<Token, void(error_code, std::size_t)>(
        [this](auto handler, const MutableBufferSequence& b) {
          socket_.async_read_some(b, Completion<decltype(handler)>{this, std::move(handler)});
        },
        token, buffers);
  }
  template <class ConstBufferSequence, class Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    return net::async_initiate<Token, void(error_code, std::size_t)>(
        [this](auto handler, const ConstBufferSequence& b) {
          socket_.async_write_some(b, Completion<decltype(handler)>{this, std::move(handler)});
        },
        token, buffers);
  }

 private:
  // Passes the result on, with an abort caused by the deadline reported as a timeout. It keeps
  // the handler's executor, so the completion runs where the caller expects it.
  template <class Handler>
  struct Completion {
    DeadlineStream* self;
    Handler handler;
    using executor_type = net::associated_executor_t<Handler, typename DeadlineStream::executor_type>;
    executor_type get_executor() const noexcept {
      return net::get_associated_executor(handler, self->socket_.get_executor());
    }
    void operator()(error_code ec, std::size_t n) {
      if (ec == net::error::operation_aborted && self->deadline_.timed_out()) ec = beast::error::timeout;
      std::move(handler)(ec, n);
    }
  };

  socket_type socket_;
  Deadline deadline_;
};

}  // namespace vp::net_util
