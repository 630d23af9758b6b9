#pragma once
// Text helpers shared by the config layer's parsers and messages (internal to src/config).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vp::config {

/// Control and non-ASCII bytes as \xHH, cut to `max_shown` bytes followed by "...".
std::string escape(std::string_view v, std::size_t max_shown);

/// A value quoted for an issue: escaped, at most 100 bytes shown, the full length noted when cut.
std::string quote(std::string_view v);

/// ASCII lower case.
std::string lower(std::string_view s);

/// Whether `s` holds a C0 control byte or DEL.
bool has_control(std::string_view s);

/// Whether every byte is printable ASCII (0x20–0x7e).
bool printable_ascii(std::string_view s);

/// Digits only: no sign, space, "0x" or exponent. Empty when `s` is anything else or too large.
std::optional<std::uint64_t> parse_decimal(std::string_view s);

}  // namespace vp::config
