#pragma once
// A secret value that cannot be printed by accident: there is no operator<<, fmt renders it as
// `<redacted len=N>`, and its bytes are wiped when it is destroyed or moved from.

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace vp::core {

/// Owns secret bytes. Read them only through reveal(), at the point they go on the wire.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) noexcept : value_(std::move(value)) {}
  Secret(const Secret& other) : value_(other.value_) {}
  Secret(Secret&& other) noexcept;
  Secret& operator=(const Secret& other);
  Secret& operator=(Secret&& other) noexcept;
  ~Secret();

  /// The raw bytes. Never pass them to a logger or an error message.
  std::string_view reveal() const noexcept { return value_; }
  std::size_t size() const noexcept { return value_.size(); }
  bool empty() const noexcept { return value_.empty(); }
  /// Wipes and empties.
  void clear() noexcept;

  friend bool operator==(const Secret& a, const Secret& b) noexcept;

 private:
  std::string value_;
};

/// Overwrites the bytes of a string (including spare capacity) with zeros, then clears it.
void wipe(std::string& s) noexcept;

}  // namespace vp::core

template <>
struct fmt::formatter<vp::core::Secret> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(const vp::core::Secret& s, Ctx& ctx) const {
    return fmt::format_to(ctx.out(), "<redacted len={}>", s.size());
  }
};
