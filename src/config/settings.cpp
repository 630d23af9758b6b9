#include "config/settings.hpp"

#include "config/address.hpp"
#include "config/files.hpp"
#include "config/text.hpp"
#include "core/authority.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace vp::config {

namespace {

using Problems = std::vector<Problem>;

// Deadlines are added to steady_clock::now(); a cap keeps that sum far from overflow and catches a
// value typed in seconds-with-extra-zeros.
constexpr std::uint64_t max_duration_ms = 86'400'000;

template <class T>
Problems number(std::string_view v, T& out, std::uint64_t lo, std::uint64_t hi, std::string_view noun,
                std::string_view note) {
  auto n = parse_decimal(v);
  if (!n || *n < lo || *n > hi)
    return {{quote(v) + " is not " + std::string(noun),
             "use a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) + std::string(note)}};
  out = static_cast<T>(*n);
  return {};
}

Problems duration(std::string_view v, std::chrono::milliseconds& out) {
  std::uint64_t ms = 0;
  auto problems = number(v, ms, 1, max_duration_ms, "a duration in milliseconds", " (86400000 = 24 h)");
  if (problems.empty()) out = std::chrono::milliseconds(ms);
  return problems;
}

/// true/1/on or false/0/off; TOML booleans arrive as "true"/"false".
Problems boolean(std::string_view v, bool& out) {
  if (v == "true" || v == "1" || v == "on") {
    out = true;
  } else if (v == "false" || v == "0" || v == "off") {
    out = false;
  } else {
    return {{quote(v) + " is not a boolean", "use true or false"}};
  }
  return {};
}

/// A path the proxy writes: non-empty and without control characters.
Problems written_path(std::string_view v, std::optional<std::string>& out, std::string_view fix) {
  if (v.empty() || has_control(v))
    return {{v.empty() ? "is empty" : quote(v) + " contains a control character", std::string(fix)}};
  out = std::string(v);
  return {};
}

Problems set_listen(std::string_view v, Config& c) {
  std::string_view ip = v;
  if (lower(ip) == "localhost") ip = "127.0.0.1";
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  if (!is_ipv4(ip) && !is_ipv6(ip))
    return {{quote(v) + " is not an IP address",
             "use an IP literal such as 127.0.0.1, ::1 or 0.0.0.0 (host names other than localhost are not "
             "resolved); the port is a separate setting"}};
  c.listen = std::string(ip);
  return {};
}

Problems set_ca_file(std::string_view v, Config& c) {
  const std::string fix = "point it at a readable PEM bundle, or leave it unset to use the system store";
  if (v.empty()) return {{"is empty", fix}};
  std::string problem;
  if (!readable_file(std::string(v), problem)) return {{problem, fix}};
  c.ca_file = std::string(v);
  return {};
}

Problems set_user_agent(std::string_view v, Config& c) {
  if (v.empty() || !printable_ascii(v))
    return {{v.empty() ? "is empty" : quote(v) + " contains a control or non-ASCII character",
             "use printable ASCII on one line, e.g. raxx-vault-proxy/1.0"}};
  c.user_agent = std::string(v);
  return {};
}

Problems set_log_level(std::string_view v, Config& c) {
  static constexpr std::array<std::string_view, 7> levels{"trace", "debug", "info", "warn",
                                                          "error", "critical", "off"};
  if (std::find(levels.begin(), levels.end(), v) == levels.end())
    return {{quote(v) + " is not a log level", "use one of trace, debug, info, warn, error, critical, off"}};
  c.log_level = std::string(v);
  return {};
}

Problems set_ready_probe_path(std::string_view v, Config& c) {
  if (v.empty() || v.front() != '/' || !printable_ascii(v) || v.find_first_of(" #") != std::string_view::npos)
    return {{quote(v) + " is not an absolute request path",
             "use a path that starts with '/' and has no spaces, e.g. /api/status"}};
  c.ready_probe_path = std::string(v);
  return {};
}

Problems set_unix_socket(std::string_view v, Config& c) {
  // sun_path holds 108 bytes including the terminating NUL.
  if (v.empty() || has_control(v) || v.size() > 107)
    return {{v.empty() ? "is empty" : quote(v) + " is not a usable socket path",
             "give a path of at most 107 bytes, e.g. /run/user/1000/vault-proxy.sock"}};
  c.unix_socket = std::string(v);
  return {};
}

Problems set_unix_socket_mode(std::string_view v, Config& c) {
  unsigned mode = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), mode, 8);
  if (v.empty() || ec != std::errc{} || end != v.data() + v.size() || mode > 0777)
    return {{quote(v) + " is not an octal file mode",
             "use an octal mode such as 0600 (owner only) or 0660 (owner and group)"}};
  c.unix_socket_mode = mode;
  return {};
}

Problems set_auto_auth(std::string_view v, Config& c) {
  if (v == "universal-auth") {
    c.auto_auth = true;
  } else if (v.empty() || v == "off") {
    c.auto_auth = false;
  } else {
    return {{quote(v) + " is not an auto-auth method", "use universal-auth, or off"}};
  }
  return {};
}

// A policy: off, the built-in preset, or a policy file (read and checked by config/policy_file).
Problems set_policy(std::string_view v, std::string& out) {
  if (v.empty() || v == "off" || v == "read-only" || v.find('/') != std::string_view::npos || v.ends_with(".toml")) {
    if (has_control(v)) return {{"holds a control character", "give read-only, off, or a policy file's path"}};
    out = v.empty() ? "off" : std::string(v);
    return {};
  }
  return {{quote(v) + " is neither a preset nor a file path",
           "use read-only, off, or the path of a policy file, e.g. ./policy.toml (docs/guardrails.md)"}};
}

/// A path, or `off`.
Problems set_audit_log(std::string_view v, Config& c) {
  if (v == "off") {
    c.audit_off = true;
    c.audit_log.reset();
    return {};
  }
  c.audit_off = false;
  return written_path(v, c.audit_log, "give the path of the audit file, e.g. /var/log/vault-proxy/audit.jsonl, or off");
}

std::string show_octal(unsigned mode) {
  char digits[8] = {};
  auto end = std::to_chars(digits, digits + sizeof digits, mode, 8).ptr;
  return "0" + std::string(digits, end);
}

/// Comma-separated; each bad name is its own problem, so every one is reported.
Problems set_allowed_hosts(std::string_view v, Config& c) {
  Problems problems;
  while (!v.empty()) {
    auto comma = v.find(',');
    auto item = v.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) {
      if (!printable_ascii(item) || item.find_first_of(" /:@") != std::string_view::npos)
        problems.push_back({quote(item) + " is not a host name",
                            "list bare host names separated by commas, e.g. vault-proxy.internal"});
      else
        c.allowed_hosts.emplace_back(item);
    }
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return problems;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

/// A [timeouts] row: a duration in milliseconds, from the file only.
template <std::chrono::milliseconds Timeouts::*member>
constexpr Setting timeout(std::string_view key, std::string_view doc) {
  return {.key = key,
          .kind = Kind::integer,
          .doc = doc,
          .apply = [](std::string_view v, Config& c) { return duration(v, c.timeouts.*member); },
          .show = [](const Config& c) { return std::to_string((c.timeouts.*member).count()); }};
}

// One row per setting; the order is the order of issues, --help and the docs.
constexpr std::array table{
    Setting{.key = "listen", .flag = "--listen", .env = "VAULT_PROXY_LISTEN", .help = "listen address",
            .doc = "Address to accept connections on: an IPv4 or IPv6 literal (brackets optional, `[::1]` = "
                   "`::1`). `localhost` means `127.0.0.1`; other host names are not resolved.",
            .apply = set_listen,
            .show = [](const Config& c) { return c.listen; }},
    Setting{.key = "port", .flag = "--port", .short_flag = "-p", .env = "VAULT_PROXY_PORT", .kind = Kind::integer,
            .help = "listen port, 0 = ephemeral",
            .doc = "TCP port, `0`–`65535`. `0` picks a free port; the real one is printed in the `listening on "
                   "http://ADDR:PORT` line. Digits only.",
            .apply = [](std::string_view v, Config& c) {
              return number(v, c.port, 0, 65535, "a port number", " (0 picks a free port)");
            },
            .show = [](const Config& c) { return std::to_string(c.port); }},
    Setting{.key = "upstream", .flag = "--upstream", .env = "VAULT_PROXY_UPSTREAM", .help = "upstream URL, https only",
            .doc = "The upstream: `https://host[:port]`, optional trailing `/`. The host is a DNS name, a "
                   "dotted-quad IPv4 address or a bracketed IPv6 literal (`https://[::1]:8443`). Case is "
                   "normalised to lower case.",
            .apply = [](std::string_view v, Config& c) -> Problems {
              auto p = parse_upstream_detail(v);
              if (!p.upstream) return {{p.problem, p.fix}};
              c.upstream = *p.upstream;
              return {};
            },
            .show = [](const Config& c) { return c.upstream.url(); }},
    Setting{.key = "connect_to", .flag = "--connect-to", .env = "VAULT_PROXY_CONNECT_TO",
            .help = "dial HOST:PORT instead of resolving the upstream",
            .doc = "`host:port` or `[IPv6]:port` (port `1`–`65535`) to dial instead of resolving the upstream "
                   "name, like curl's `--connect-to`. `Host`, SNI and the certificate check still use the "
                   "upstream name.",
            .apply = [](std::string_view v, Config& c) -> Problems {
              auto p = parse_connect_to(v);
              if (!p.target)
                return {{p.problem, "write host:port or [IPv6]:port with a port from 1 to 65535, e.g. "
                                    "127.0.0.1:8443"}};
              c.connect_to = *p.target;
              return {};
            },
            .show = [](const Config& c) {
              if (!c.connect_to) return std::string();
              return core::host_port(c.connect_to->host, c.connect_to->port);
            }},
    Setting{.key = "ca_file", .flag = "--ca-file", .env = "VAULT_PROXY_CA_FILE", .help = "CA bundle for the upstream",
            .doc = "PEM bundle to verify the upstream certificate with. Must be a readable, non-empty regular "
                   "file at start. Relative paths are resolved against the working directory.",
            .unset_doc = "unset (system store)",
            .apply = set_ca_file,
            .show = [](const Config& c) { return c.ca_file.value_or(""); }},
    Setting{.key = "user_agent", .flag = "--user-agent", .env = "VAULT_PROXY_USER_AGENT",
            .help = "User-Agent sent upstream",
            .doc = "`User-Agent` sent upstream. Non-empty printable ASCII (`0x20`–`0x7e`); no CR, LF, tab or "
                   "non-ASCII bytes.",
            .apply = set_user_agent,
            .show = [](const Config& c) { return c.user_agent; }},
    Setting{.key = "threads", .flag = "--threads", .env = "VAULT_PROXY_THREADS", .kind = Kind::integer,
            .help = "worker threads, 0 = one per CPU this process may use",
            .doc = "Worker threads, `0`–`256`; `0` = one per CPU this process may run on: the CPUs in its "
                   "affinity mask (`taskset`, systemd `CPUAffinity=`, a cpuset), capped by a cgroup v2 "
                   "`cpu.max` quota of its cgroup or a parent (a container's `--cpus`, systemd "
                   "`CPUQuota=`), rounded up. `/__vault-proxy/status` shows the count and its source "
                   "(`config`, `affinity`, `cgroup cpu.max`).",
            .apply = [](std::string_view v, Config& c) {
              return number(v, c.threads, 0, 256, "a thread count", " (0 = one per CPU this process may use)");
            },
            .show = [](const Config& c) { return std::to_string(c.threads); }},
    Setting{.key = "pool_size", .flag = "--pool-size", .env = "VAULT_PROXY_POOL_SIZE", .kind = Kind::integer,
            .help = "idle upstream connections per worker",
            .doc = "Idle upstream connections kept per worker thread, `0`–`100000`; `0` disables pooling. Each worker opens one at start, ahead of the first request, unless it is `0`.",
            .apply = [](std::string_view v, Config& c) {
              return number(v, c.pool_size, 0, 100'000, "a pool size", " (0 disables pooling)");
            },
            .show = [](const Config& c) { return std::to_string(c.pool_size); }},
    Setting{.key = "max_connections", .flag = "--max-connections", .env = "VAULT_PROXY_MAX_CONNECTIONS",
            .kind = Kind::integer, .help = "client connections held at once",
            .doc = "Client connections held at once, `1`–`1000000`.",
            .apply = [](std::string_view v, Config& c) {
              return number(v, c.max_connections, 1, 1'000'000, "a connection limit", "");
            },
            .show = [](const Config& c) { return std::to_string(c.max_connections); }},
    Setting{.key = "log_format", .flag = "--log-format", .env = "VAULT_PROXY_LOG_FORMAT", .help = "text or json",
            .doc = "`text` or `json` (lower case).",
            .apply = [](std::string_view v, Config& c) -> Problems {
              if (v != "text" && v != "json") return {{quote(v) + " is not a log format", "use text or json"}};
              c.log_format = v == "json" ? LogFormat::json : LogFormat::text;
              return {};
            },
            .show = [](const Config& c) { return std::string(c.log_format == LogFormat::json ? "json" : "text"); }},
    Setting{.key = "log_level", .flag = "--log-level", .env = "VAULT_PROXY_LOG_LEVEL",
            .help = "trace|debug|info|warn|error|critical|off",
            .doc = "One of `trace`, `debug`, `info`, `warn`, `error`, `critical`, `off` (lower case).",
            .apply = set_log_level,
            .show = [](const Config& c) { return c.log_level; }},
    Setting{.key = "access_log", .env = "VAULT_PROXY_ACCESS_LOG", .kind = Kind::boolean,
            .doc = "One access-log line per request on stderr. TOML boolean; in the environment "
                   "`true`/`false` (or `1`/`0`, `on`/`off`).",
            .apply = [](std::string_view v, Config& c) { return boolean(v, c.access_log); },
            .show = [](const Config& c) { return std::string(c.access_log ? "true" : "false"); }},
    Setting{.key = "pid_file", .flag = "--pid-file", .env = "VAULT_PROXY_PID_FILE",
            .help = "write the pid here while running",
            .doc = "File the process id is written to at start and removed from at exit. Non-empty, no control "
                   "characters.",
            .apply = [](std::string_view v, Config& c) {
              return written_path(v, c.pid_file, "give the path of the file to write the process id to, e.g. "
                                                  "/run/vault-proxy/vault-proxy.pid");
            },
            .show = [](const Config& c) { return c.pid_file.value_or(""); }},
    Setting{.key = "ready_probe_path",
            .doc = "Upstream path that `/__vault-proxy/ready` probes. Starts with `/`, printable ASCII, no "
                   "spaces or `#` (a query is allowed).",
            .apply = set_ready_probe_path,
            .show = [](const Config& c) { return c.ready_probe_path; }},
    Setting{.key = "ready_cache_ms", .kind = Kind::integer,
            .doc = "How long one ready-probe result is reused, milliseconds, `1`–`86400000`.",
            .apply = [](std::string_view v, Config& c) { return duration(v, c.ready_cache); },
            .show = [](const Config& c) { return std::to_string(c.ready_cache.count()); }},
    Setting{.key = "unix_socket", .flag = "--unix-socket", .env = "VAULT_PROXY_UNIX_SOCKET",
            .help = "also listen on this Unix socket path",
            .doc = "Also listen on this Unix socket path (at most 107 bytes). A stale socket file is replaced; "
                   "one that still answers is an error.",
            .apply = set_unix_socket,
            .show = [](const Config& c) { return c.unix_socket.value_or(""); }},
    Setting{.key = "unix_socket_mode", .flag = "--unix-socket-mode", .env = "VAULT_PROXY_UNIX_SOCKET_MODE",
            .help = "octal mode of the Unix socket",
            .doc = "Octal permission bits of the socket file.",
            .apply = set_unix_socket_mode,
            .show = [](const Config& c) { return show_octal(c.unix_socket_mode); }},
    Setting{.key = "capability", .flag = "--capability", .env = "VAULT_PROXY_CAPABILITY", .kind = Kind::boolean,
            .help = "true: require a random path prefix, written to the capability file",
            .doc = "Require a random path prefix on every request except `/__vault-proxy/health`; see "
                   "docs/security.md.",
            .apply = [](std::string_view v, Config& c) { return boolean(v, c.capability); },
            .show = [](const Config& c) { return std::string(c.capability ? "true" : "false"); }},
    Setting{.key = "capability_file", .flag = "--capability-file", .env = "VAULT_PROXY_CAPABILITY_FILE",
            .help = "where the capability prefix is written, mode 0600",
            .doc = "Where the prefix is written, mode 0600, removed at exit.",
            .unset_doc = "state dir `capability-<port>`",
            .apply = [](std::string_view v, Config& c) {
              return written_path(v, c.capability_file, "give the path the capability prefix is written to, "
                                                         "e.g. /run/user/1000/vault-proxy.cap");
            },
            .show = [](const Config& c) { return c.capability_file.value_or(""); }},
    Setting{.key = "allowed_hosts", .flag = "--allowed-hosts", .env = "VAULT_PROXY_ALLOWED_HOSTS",
            .help = "extra Host names to accept, comma-separated",
            .doc = "Comma-separated Host names accepted besides `localhost`, `127.0.0.1`, `[::1]`.",
            .unset_doc = "none",
            .apply = set_allowed_hosts,
            .show = [](const Config& c) { return join(c.allowed_hosts); }},
    Setting{.key = "auto_auth", .env = "VAULT_PROXY_AUTO_AUTH",
            .doc = "`universal-auth`: the proxy logs the machine identity in (`INFISICAL_MCP_CLIENT_ID` / "
                   "`_SECRET`), renews its token, and clients hold a local placeholder instead; `off` (or "
                   "empty) turns it off. `serve --auto-auth` sets it. See docs/auto-auth.md.",
            .apply = set_auto_auth,
            .show = [](const Config& c) { return std::string(c.auto_auth ? "universal-auth" : "off"); }},
    Setting{.key = "local_token_file", .flag = "--local-token-file", .env = "VAULT_PROXY_LOCAL_TOKEN_FILE",
            .help = "where the auto-auth placeholder token is written, mode 0600",
            .doc = "Where auto-auth's local placeholder token is written, mode 0600, before the proxy accepts; "
                   "removed at exit.",
            .unset_doc = "state dir `local-token-<port>`",
            .apply = [](std::string_view v, Config& c) {
              return written_path(v, c.local_token_file, "give the path the local token is written to, e.g. "
                                                          "/run/user/1000/vault-proxy.token");
            },
            .show = [](const Config& c) { return c.local_token_file.value_or(""); }},
    Setting{.key = "policy", .flag = "--policy", .env = "VAULT_PROXY_POLICY",
            .help = "local policy: read-only, off, or a policy file (docs/guardrails.md)",
            .doc = "The local policy every request must pass before it goes upstream: `read-only` (reads of "
                   "secrets and folders, logins, token renewals, `/api/status`), `off`, or the path of a policy "
                   "file. Re-read on SIGHUP. See docs/guardrails.md.",
            .unset_doc = "`off`",
            .apply = [](std::string_view v, Config& c) { return set_policy(v, c.policy); },
            .show = [](const Config& c) { return c.policy; }},
    Setting{.key = "unix_socket_policy", .flag = "--unix-socket-policy", .env = "VAULT_PROXY_UNIX_SOCKET_POLICY",
            .help = "the Unix socket listener's policy, when it differs from --policy",
            .doc = "The local policy of the Unix socket listener (`unix_socket`), like `policy`.",
            .unset_doc = "the same as `policy`",
            .apply = [](std::string_view v, Config& c) {
              std::string spec;
              auto problems = set_policy(v, spec);
              if (problems.empty()) c.unix_socket_policy = spec;
              return problems;
            },
            .show = [](const Config& c) { return c.unix_socket_policy.value_or(""); }},
    Setting{.key = "audit_log", .flag = "--audit-log", .env = "VAULT_PROXY_AUDIT_LOG",
            .help = "the audit trail's file, or off",
            .doc = "Where the audit trail goes: one JSON line per request that touches a secret, a folder or "
                   "an identity (names, never values; see docs/guardrails.md). A path, or `off` for none. "
                   "Non-empty, no control characters.",
            .unset_doc = "`~/.local/state/vault-proxy/audit.jsonl` (`$XDG_STATE_HOME`; in `$VAULT_PROXY_STATE_DIR` when that is set)",
            .apply = set_audit_log,
            .show = [](const Config& c) { return c.audit_off ? std::string("off") : c.audit_log.value_or(""); }},
    Setting{.key = "audit_log_max_bytes", .env = "VAULT_PROXY_AUDIT_LOG_MAX_BYTES", .kind = Kind::integer,
            .doc = "The audit file is rotated before it grows past this many bytes, `65536`–`1073741824`; "
                   "`audit.jsonl.1` … `audit.jsonl.3` are kept.",
            .apply = [](std::string_view v, Config& c) {
              return number(v, c.audit_log_max_bytes, 64u << 10, 1u << 30, "a size in bytes",
                            " (10485760 = 10 MiB)");
            },
            .show = [](const Config& c) { return std::to_string(c.audit_log_max_bytes); }},
    timeout<&Timeouts::connect>("timeouts.connect_ms", "resolve and TCP-connect to the upstream"),
    timeout<&Timeouts::tls_handshake>("timeouts.tls_handshake_ms", "the TLS handshake with the upstream"),
    timeout<&Timeouts::request_header>("timeouts.request_header_ms",
                                       "the client's request line and headers (slowloris guard)"),
    timeout<&Timeouts::upstream_header>("timeouts.upstream_header_ms",
                                        "from the request being sent to the upstream's response header"),
    timeout<&Timeouts::idle_keepalive>("timeouts.idle_keepalive_ms",
                                       "a client keep-alive connection idle between requests"),
    timeout<&Timeouts::body_inactivity>("timeouts.body_inactivity_ms",
                                        "a body transfer in which no byte moves in either direction"),
    timeout<&Timeouts::upstream_idle>("timeouts.upstream_idle_ms",
                                      "a pooled upstream connection unused this long is dropped"),
    timeout<&Timeouts::shutdown_grace>("timeouts.shutdown_grace_ms",
                                       "after SIGTERM/SIGINT, in-flight requests may finish"),
};

constexpr std::string_view timeouts_prefix = "timeouts.";

bool in_timeouts(const Setting& s) { return s.key.substr(0, timeouts_prefix.size()) == timeouts_prefix; }

std::string code(std::string_view s) { return s.empty() ? "—" : "`" + std::string(s) + "`"; }

std::string md_row(std::initializer_list<std::string> cells) {
  std::string out = "|";
  for (const auto& c : cells) out += " " + c + " |";
  return out + "\n";
}

/// Rows of the docs' settings table that are not settings: neither reaches Config through load().
struct ExtraDocRow {
  std::string_view env, flag, default_doc, doc;
};

constexpr std::array<ExtraDocRow, 2> extra_doc_rows{{
    {"", "--unsafe-listen", "off",
     "Allow a non-loopback `listen` address. Flag only, so a config file or an inherited environment "
     "cannot open the proxy to the network."},
    {config_env, config_flag, "unset", "Path of the TOML file."},
}};

}  // namespace

std::span<const Setting> settings() { return table; }

const Setting* find_setting(std::string_view key) {
  auto it = std::find_if(table.begin(), table.end(), [&](const Setting& s) { return s.key == key; });
  return it == table.end() ? nullptr : &*it;
}

std::string issue_field(const Setting& s) {
  if (s.flag.empty() && s.env.empty()) return std::string(s.key) + " (TOML file only)";
  std::string out(s.key);
  out += " (";
  if (!s.flag.empty()) out.append(s.flag).append(" / ");
  if (!s.env.empty()) out.append(s.env).append(" / ");
  out.append(s.key).append(")");
  return out;
}

std::string default_doc(const Setting& s) {
  static const Config defaults;
  std::string shown = s.show(defaults);
  return shown.empty() ? std::string(s.unset_doc) : "`" + shown + "`";
}

std::string flag_help(const Setting& s) {
  std::string dflt = default_doc(s);
  dflt.erase(std::remove(dflt.begin(), dflt.end(), '`'), dflt.end());
  std::string out(s.help);
  out += " (";
  if (!s.env.empty()) out.append("env ").append(s.env).append(", ");
  return out + "default " + dflt + ")";
}

std::string render_doc_table(DocTable which) {
  std::string out;
  if (which == DocTable::timeouts) {
    out = "| TOML key | default | what must finish in time |\n|---|---|---|\n";
    for (const auto& s : table)
      if (in_timeouts(s)) out += md_row({code(s.key.substr(timeouts_prefix.size())), default_doc(s), std::string(s.doc)});
    return out;
  }
  out = "| TOML key | environment | flag | default | meaning |\n|---|---|---|---|---|\n";
  for (const auto& s : table)
    if (!in_timeouts(s)) out += md_row({code(s.key), code(s.env), code(s.flag), default_doc(s), std::string(s.doc)});
  for (const auto& e : extra_doc_rows)
    out += md_row({"—", code(e.env), code(e.flag), std::string(e.default_doc), std::string(e.doc)});
  return out;
}

}  // namespace vp::config
