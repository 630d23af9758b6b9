#pragma once
// Exit codes of every subcommand (documented in README.md, "Exit codes").

namespace vp::cli {
inline constexpr int exit_ok = 0;          ///< success / clean shutdown
inline constexpr int exit_failure = 1;     ///< runtime failure, or a check that did not pass
inline constexpr int exit_usage = 2;       ///< bad arguments or configuration
inline constexpr int exit_listen = 3;      ///< cannot listen (port in use, permission)
inline constexpr int exit_not_running = 4; ///< stop/status: no proxy is running
}  // namespace vp::cli
