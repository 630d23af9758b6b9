#pragma once
// The two systemd protocols a service speaks, without libsystemd: readiness and status through
// sd_notify (a datagram to $NOTIFY_SOCKET), and socket activation (listening sockets passed as
// descriptors from 3 on, $LISTEN_PID / $LISTEN_FDS). Both are plain Linux calls; see
// sd_notify(3) and sd_listen_fds(3) for the protocols.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vp::sys {

/// Sends `state` (e.g. "READY=1\nSTATUS=serving") to $NOTIFY_SOCKET. False when the variable is
/// unset (not under systemd) or the send failed; `problem` then says why (empty when unset).
bool notify(std::string_view state, std::string* problem = nullptr);

/// $WATCHDOG_USEC when the watchdog is on for this process ($WATCHDOG_PID unset or ours).
std::optional<std::chrono::microseconds> watchdog_interval();

/// The descriptors systemd passed (3, 4, …) when $LISTEN_PID is this process; empty otherwise.
/// Unsets LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES, so that children do not take them as theirs,
/// and marks the descriptors close-on-exec.
std::vector<int> take_listen_fds();

}  // namespace vp::sys
