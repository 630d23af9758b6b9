#include "net/token_slot.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>

namespace vp::net_token {

std::shared_ptr<const AccessToken> TokenSlot::usable(clock::time_point now) const {
  auto t = current();
  return t && core::token_usable(t->times, now) ? t : nullptr;
}

void TokenSlot::install(core::Secret value, core::TokenTimes times, bool same_version) {
  auto t = std::make_shared<AccessToken>();
  t->value = std::move(value);
  t->times = times;
  t->times.present = true;
  t->version = same_version ? versions_.load() : versions_.fetch_add(1) + 1;
  token_.store(std::move(t), std::memory_order_release);
  notify_waiters();
}

void TokenSlot::drop(std::uint64_t version) {
  auto t = current();
  if (!t || t->version != version) return;
  token_.compare_exchange_strong(t, nullptr, std::memory_order_acq_rel);
}

void TokenSlot::notify_waiters() {
  std::vector<std::shared_ptr<net::steady_timer>> woken;
  {
    std::lock_guard lock(mutex_);
    ++generation_;
    woken.swap(waiters_);
  }
  // Each timer belongs to its session's executor: it is cancelled there, not from this thread.
  for (auto& timer : woken) net::post(timer->get_executor(), [timer] { timer->cancel(); });
}

void TokenSlot::need(std::uint64_t refused_version) {
  if (refused_version != 0) refused_.store(refused_version, std::memory_order_release);
  if (on_need_) on_need_();
}

net::awaitable<std::shared_ptr<const AccessToken>> TokenSlot::wait_usable(clock::time_point deadline) {
  auto ex = co_await net::this_coro::executor;
  for (;;) {
    std::uint64_t seen;
    {
      std::lock_guard lock(mutex_);
      seen = generation_;
    }
    if (auto t = usable()) co_return t;
    if (clock::now() >= deadline || status().stalled) co_return nullptr;
    auto timer = std::make_shared<net::steady_timer>(ex, deadline);
    {
      std::lock_guard lock(mutex_);
      // A token installed since `seen` was read: look again instead of sleeping through it.
      if (generation_ != seen) continue;
      waiters_.push_back(timer);
    }
    need();
    co_await timer->async_wait(net::as_tuple(net::use_awaitable));
    std::lock_guard lock(mutex_);
    waiters_.erase(std::remove(waiters_.begin(), waiters_.end(), timer), waiters_.end());
  }
}

KeeperStatus TokenSlot::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

void TokenSlot::set_status(KeeperStatus s) {
  std::lock_guard lock(mutex_);
  status_ = std::move(s);
}

core::Secret make_local_token() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("cannot generate the local token");
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out = "vpl_";
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += alphabet[(acc << (6 - bits)) & 63];
  OPENSSL_cleanse(bytes, sizeof bytes);
  return core::Secret(std::move(out));
}

}  // namespace vp::net_token
