#pragma once
// The proxy's configuration: one struct, filled from flags, then environment, then a TOML file, then
// defaults, and validated once at start so that every problem is reported together.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vp::config {

/// The one upstream every request goes to. Only https is accepted.
struct Upstream {
  std::string host;              ///< name used for Host, SNI and the certificate check (no brackets)
  std::uint16_t port = 443;      ///< TCP port
  /// `Host` value: the host, bracketed if an IPv6 literal, with `:port` only when not 443.
  std::string host_header() const;
  /// `https://host[:port]`, for logs.
  std::string url() const;
};

/// `VAULT_PROXY_CONNECT_TO`: dial this address instead of resolving the upstream name (like curl's
/// --connect-to). Host, SNI and the certificate check still use Upstream::host.
struct ConnectTo {
  std::string host;
  std::uint16_t port = 443;
};

/// Every await on the network has one of these deadlines.
struct Timeouts {
  std::chrono::milliseconds connect{5'000};           ///< resolve + TCP connect to the upstream
  std::chrono::milliseconds tls_handshake{10'000};    ///< upstream TLS handshake
  std::chrono::milliseconds request_header{30'000};   ///< client request line + headers (slowloris)
  std::chrono::milliseconds upstream_header{60'000};  ///< request sent → upstream response header
  std::chrono::milliseconds idle_keepalive{75'000};   ///< client keep-alive between requests
  std::chrono::milliseconds body_inactivity{120'000}; ///< no body byte moved in either direction
  std::chrono::milliseconds upstream_idle{50'000};    ///< a pooled upstream connection unused this long is dropped
  std::chrono::milliseconds shutdown_grace{10'000};   ///< SIGTERM → in-flight requests may finish
};

enum class LogFormat { text, json };

/// The validated configuration.
struct Config {
  std::string listen = "127.0.0.1";
  std::uint16_t port = 2019;
  Upstream upstream{"vault.raxx.app", 443};
  std::optional<ConnectTo> connect_to;
  std::optional<std::string> ca_file;        ///< PEM bundle; unset = the system store
  std::string user_agent = "raxx-vault-proxy/1.0";
  Timeouts timeouts;
  std::size_t pool_size = 512;               ///< idle upstream connections kept per worker thread
  unsigned threads = 0;                      ///< worker threads; 0 = one per usable CPU (proxy/workers)
  std::size_t max_connections = 16'384;      ///< client connections held at once
  LogFormat log_format = LogFormat::text;
  std::string log_level = "info";            ///< spdlog level name
  bool access_log = true;
  std::string ready_probe_path = "/api/status";
  std::chrono::milliseconds ready_cache{10'000};  ///< how long a ready probe result is reused
  std::optional<std::string> pid_file;       ///< written at start, removed at exit
  std::optional<std::string> config_file;    ///< the TOML file that was read, if any

  // Reach (docs/security.md).
  bool unsafe_listen = false;                  ///< allow a non-loopback listen address
  std::optional<std::string> unix_socket;      ///< also listen on this Unix socket path
  unsigned unix_socket_mode = 0600;            ///< permission bits of the socket file
  bool capability = false;                     ///< require a random path prefix on every request
  std::optional<std::string> capability_file;  ///< where the prefix is written (0600); default: state dir
  std::vector<std::string> allowed_hosts;      ///< Host names accepted besides the loopback names

  // Auto-auth (docs/auto-auth.md).
  bool auto_auth = false;                      ///< the proxy logs the machine identity in and renews its token
  std::optional<std::string> local_token_file; ///< where the local placeholder is written (0600); default: state dir

  // Guardrails (docs/guardrails.md).
  std::string policy = "off";                    ///< "off", "read-only", or a policy file's path
  std::optional<std::string> unix_socket_policy; ///< the Unix socket listener's; unset: the same as `policy`

  // The audit trail (docs/guardrails.md).
  std::optional<std::string> audit_log;        ///< the audit file; unset = `<state dir>/audit.jsonl`
  bool audit_off = false;                      ///< `audit_log = off`: no audit trail is written
  std::uint64_t audit_log_max_bytes = 10u << 20;  ///< rotated beyond this size
};

/// Rotated audit files kept next to the audit file: `<path>.1` (newest) … `<path>.3`.
inline constexpr unsigned audit_log_keep = 3;

/// One problem found while loading: the field as the user wrote it, what is wrong, and the fix.
struct Issue {
  std::string field;    ///< e.g. "port (VAULT_PROXY_PORT)"
  std::string problem;  ///< e.g. "'70000' is not a port number"
  std::string fix;      ///< e.g. "use a number from 1 to 65535"
};

/// Renders issues as the multi-line text printed at start.
std::string format_issues(const std::vector<Issue>& issues);

/// Reads an environment variable; tests pass a map instead of the process environment.
using Env = std::function<std::optional<std::string>(std::string_view)>;
/// The process environment.
Env process_env();
/// An environment backed by a map (tests).
Env map_env(std::map<std::string, std::string> values);

/// Command-line values, as strings exactly as given; a flag not given has no entry.
struct Flags {
  std::optional<std::string> config_file;                  ///< --config
  std::map<std::string, std::string, std::less<>> values;  ///< setting key (settings.hpp) → its flag's value
  bool unsafe_listen = false;                              ///< --unsafe-listen (flag only: never from env or file)
};

/// Either a Config or every issue found.
struct LoadResult {
  std::optional<Config> config;
  std::vector<Issue> issues;
};

/// Merges flags > environment > TOML file > defaults and validates the result.
/// The file is `flags.config_file`, else `$VAULT_PROXY_CONFIG`; none is read when neither is set.
LoadResult load(const Flags& flags, const Env& env);

/// Parses `https://host[:port]` (a trailing `/` is allowed; any other path, userinfo, query or a
/// non-https scheme is an issue).
std::optional<Upstream> parse_upstream(std::string_view url, std::string& problem);

}  // namespace vp::config
