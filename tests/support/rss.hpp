#pragma once
// The proxy child's memory, for tests that tell streaming (or refusing) from buffering: its peak RSS
// must stay near what it was before the transfer.

#include "support/proxy_process.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace vp::test {

// GCC defines __SANITIZE_ADDRESS__; clang answers __has_feature(address_sanitizer). The proxy binary
// is built with the same flags as the tests.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = false;
#endif
#else
inline constexpr bool sanitized = false;
#endif

/// How far the proxy's peak RSS may rise.
struct RssLimits {
  /// Over the RSS measured just before the transfer (after a warm-up request). A buffering proxy
  /// grows by at least what it buffers.
  std::uint64_t growth_kb = 16 * 1024;
  /// Absolute peak, checked only without sanitizers: ASan's own image and shadow make an idle
  /// dev-preset proxy about 230 MB resident whatever it does.
  std::uint64_t absolute_kb = 64 * 1024;
};

/// Environment for a proxy child whose RSS is measured: ASan's quarantine keeps freed memory
/// resident (256 MB by default), which would hide the difference between streaming and buffering,
/// so it is switched off.
std::map<std::string, std::string> rss_child_env();

/// Asserts the bounds on the proxy's peak RSS (VmHWM) and records it, with `before_kb`, in the test's
/// XML output (`proxy_rss_before_kb`, `proxy_vmhwm_kb`). `what` names the transfer in messages.
void expect_flat_rss(const ProxyProcess& proxy, std::uint64_t before_kb, std::string_view what,
                     RssLimits limits = {});

}  // namespace vp::test
