#pragma once
// Finds which process listens on a TCP port, for the "port in use" message.

#include <cstdint>
#include <optional>
#include <string>

namespace vp::net_util {

/// "pid 1234 (caddy)" for the process holding a listening socket on `port`, from /proc; nullopt
/// when it cannot be found (another user's process, or not Linux).
std::optional<std::string> port_owner(std::uint16_t port);

}  // namespace vp::net_util
