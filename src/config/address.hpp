#pragma once
// Parsers for the address-shaped settings: listen, upstream and connect_to (internal to src/config).

#include "config/config.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace vp::config {

/// Whether `s` is a strict dotted-quad IPv4 address.
bool is_ipv4(std::string_view s);
/// Whether `s` is an IPv6 address without brackets.
bool is_ipv6(std::string_view s);

/// A parsed upstream URL, or the problem and its fix.
struct UpstreamParse {
  std::optional<Upstream> upstream;
  std::string problem;
  std::string fix;
};

/// Parses `https://host[:port]` (see parse_upstream in config.hpp).
UpstreamParse parse_upstream_detail(std::string_view url);

/// A parsed connect_to target, or the problem.
struct ConnectToParse {
  std::optional<ConnectTo> target;
  std::string problem;
};

/// Parses `host:port` or `[IPv6]:port`; the port is required.
ConnectToParse parse_connect_to(std::string_view s);

}  // namespace vp::config
