#pragma once
// Host and port as they appear in URLs and Host fields. Pure helpers shared by the proxy and the
// CLI.

#include <cstdint>
#include <string>
#include <string_view>

namespace vp::core {

/// "host:port", with an IPv6 address in brackets ("[::1]:2019"). A host already in brackets stays
/// as it is.
std::string host_port(std::string_view host, std::uint16_t port);

/// True for the names of this machine's loopback: localhost, 127.0.0.0/8 and ::1 (bare or in
/// brackets).
bool is_loopback_name(std::string_view host);

}  // namespace vp::core
