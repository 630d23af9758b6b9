#pragma once
// log_request: the last phase of every request. One line per request; never header values, never
// bodies, never the query string (it may carry identifiers the operator did not ask to log).

#include "config/config.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace vp::proxy {

/// What one request did.
struct AccessRecord {
  std::string_view method{};
  std::string_view target{};      ///< the raw request-target; the query string is cut here
  unsigned status = 0;            ///< what the client got (0: connection aborted)
  unsigned upstream_status = 0;   ///< what the upstream answered (0: not forwarded)
  std::uint64_t bytes = 0;        ///< response body bytes sent to the client
  std::chrono::microseconds duration{0};
  std::string_view error{};       ///< the proxy's error code, empty when none
  std::string_view diagnosis{};   ///< the class of a non-2xx answer (core::Diagnosis), empty when none
  std::uint32_t underscore_fields_removed = 0;  ///< request fields named with '_', dropped
  std::uint32_t access_cookies_removed = 0;     ///< Set-Cookie: CF_Authorization=… removed
};

/// Formats a record as one text or JSON line (no trailing newline). The JSON form is an object
/// whose first member is `"type":"access"`.
std::string format_access(const AccessRecord& r, config::LogFormat format);

/// The name of the spdlog logger access records go to. Its sink adds the time and level in front
/// of a JSON record instead of parsing it again (cli/logging.cpp).
inline constexpr std::string_view access_logger_name = "access";

/// The format access records are written in; logging setup sets it, and a reload may change it.
void set_access_format(config::LogFormat format) noexcept;
config::LogFormat access_format() noexcept;

/// Writes one record at info level to the access logger (the default logger until logging is set
/// up, as in tests), in access_format().
void log_access(const AccessRecord& r);

}  // namespace vp::proxy
