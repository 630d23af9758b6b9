#pragma once
// The one way to reach the upstream: resolve (or the configured connect_to address), TCP connect
// and TLS handshake with SNI and hostname verification (net/tls.hpp), each step under its own
// deadline. Used by the proxy's pool, the CLI's HTTP client and doctor. What failed comes back as
// data (Report), and each caller words it for its audience.

#include "config/config.hpp"
#include "net/asio.hpp"
#include "net/tls_stream.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vp::net_connect {

using clock = std::chrono::steady_clock;

/// Where to connect and how long each step may take.
struct Target {
  std::string host;       ///< the name the certificate must carry; SNI when it is a DNS name
  std::string dial_host;  ///< resolved and connected to (connect_to, or `host`)
  std::uint16_t dial_port = 443;
  clock::duration connect_timeout = clock::duration::max();    ///< resolve, then TCP connect, each
  clock::duration handshake_timeout = clock::duration::max();  ///< TLS handshake
  clock::time_point deadline = clock::time_point::max();       ///< no step goes past this

  /// `dial_host:dial_port`, as the proxy's messages print it.
  std::string where() const { return dial_host + ":" + std::to_string(dial_port); }
  /// The deadline of a step that may take `cap`: `cap` from now, never past `deadline`.
  clock::time_point step_deadline(clock::duration cap) const;
};

/// The upstream of `cfg`, through cfg.connect_to when set, with the configured timeouts.
Target upstream_target(const config::Config& cfg);

/// The step a connection attempt stopped at.
enum class Step { resolve, connect, tls_setup, handshake, done };

/// What happened: `failed == Step::done` on success.
struct Report {
  Step failed = Step::done;
  bool timed_out = false;               ///< the step's deadline passed
  std::string reason;                   ///< OS or OpenSSL reason ("" on a timeout)
  std::vector<std::string> addresses;   ///< what the name resolved to
  std::optional<tcp::endpoint> connected_to;
  long verify_result = 0;               ///< X509_V_OK (0) unless certificate verification failed

  bool ok() const noexcept { return failed == Step::done; }
};

/// Resolves `host:port`, racing a timer (a resolve cannot be cancelled through a socket).
/// Sets report.failed = Step::resolve on failure.
net::awaitable<std::optional<tcp::resolver::results_type>> resolve(const net::any_io_executor& ex,
                                                                   const std::string& host, std::uint16_t port,
                                                                   clock::time_point deadline, Report& report);

/// Resolve and TCP connect a plain stream (to the local proxy), both bounded by `deadline`.
net::awaitable<Report> connect_tcp(beast::tcp_stream& stream, const std::string& host, std::uint16_t port,
                                   clock::time_point deadline);

/// Resolve, TCP connect and TLS handshake on `stream`, a fresh stream. On success the stream's
/// deadline is cleared.
net::awaitable<Report> connect(net_tls::TlsStream& stream, const Target& target);

}  // namespace vp::net_connect
