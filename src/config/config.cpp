#include "config/config.hpp"

#include "config/address.hpp"
#include "config/files.hpp"
#include "config/text.hpp"
#include "core/secret.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <utility>

namespace vp::config {

namespace {

// Deadlines are added to steady_clock::now(); a cap keeps that sum far from overflow and catches a
// value typed in seconds-with-extra-zeros.
constexpr std::uint64_t max_duration_ms = 86'400'000;

enum class Kind { string, integer, boolean };

/// One user-settable value and the names it goes by in each source.
struct Setting {
  std::string_view key;                          // TOML key; dotted for [timeouts]
  std::optional<std::string> Flags::*flag_member;  // null when there is no flag
  std::string_view flag;
  std::string_view env;
  Kind kind;
};

const Setting s_listen{"listen", &Flags::listen, "--listen", "VAULT_PROXY_LISTEN", Kind::string};
const Setting s_port{"port", &Flags::port, "--port", "VAULT_PROXY_PORT", Kind::integer};
const Setting s_upstream{"upstream", &Flags::upstream, "--upstream", "VAULT_PROXY_UPSTREAM", Kind::string};
const Setting s_connect_to{"connect_to", &Flags::connect_to, "--connect-to", "VAULT_PROXY_CONNECT_TO",
                           Kind::string};
const Setting s_ca_file{"ca_file", &Flags::ca_file, "--ca-file", "VAULT_PROXY_CA_FILE", Kind::string};
const Setting s_user_agent{"user_agent", &Flags::user_agent, "--user-agent", "VAULT_PROXY_USER_AGENT",
                           Kind::string};
const Setting s_threads{"threads", &Flags::threads, "--threads", "VAULT_PROXY_THREADS", Kind::integer};
const Setting s_pool_size{"pool_size", &Flags::pool_size, "--pool-size", "VAULT_PROXY_POOL_SIZE",
                          Kind::integer};
const Setting s_max_connections{"max_connections", &Flags::max_connections, "--max-connections",
                                "VAULT_PROXY_MAX_CONNECTIONS", Kind::integer};
const Setting s_log_format{"log_format", &Flags::log_format, "--log-format", "VAULT_PROXY_LOG_FORMAT",
                           Kind::string};
const Setting s_log_level{"log_level", &Flags::log_level, "--log-level", "VAULT_PROXY_LOG_LEVEL",
                          Kind::string};
const Setting s_access_log{"access_log", nullptr, "", "VAULT_PROXY_ACCESS_LOG", Kind::boolean};
const Setting s_pid_file{"pid_file", &Flags::pid_file, "--pid-file", "VAULT_PROXY_PID_FILE", Kind::string};
const Setting s_ready_probe_path{"ready_probe_path", nullptr, "", "", Kind::string};
const Setting s_unix_socket{"unix_socket", &Flags::unix_socket, "--unix-socket", "VAULT_PROXY_UNIX_SOCKET",
                            Kind::string};
const Setting s_unix_socket_mode{"unix_socket_mode", &Flags::unix_socket_mode, "--unix-socket-mode",
                                 "VAULT_PROXY_UNIX_SOCKET_MODE", Kind::string};
const Setting s_capability{"capability", &Flags::capability, "--capability", "VAULT_PROXY_CAPABILITY",
                           Kind::boolean};
const Setting s_capability_file{"capability_file", &Flags::capability_file, "--capability-file",
                                "VAULT_PROXY_CAPABILITY_FILE", Kind::string};
const Setting s_allowed_hosts{"allowed_hosts", &Flags::allowed_hosts, "--allowed-hosts",
                              "VAULT_PROXY_ALLOWED_HOSTS", Kind::string};
const Setting s_ready_cache_ms{"ready_cache_ms", nullptr, "", "", Kind::integer};

struct TimeoutSetting {
  Setting setting;
  std::chrono::milliseconds Timeouts::*member;
};

const std::array<TimeoutSetting, 8> timeout_settings{{
    {{"timeouts.connect_ms", nullptr, "", "", Kind::integer}, &Timeouts::connect},
    {{"timeouts.tls_handshake_ms", nullptr, "", "", Kind::integer}, &Timeouts::tls_handshake},
    {{"timeouts.request_header_ms", nullptr, "", "", Kind::integer}, &Timeouts::request_header},
    {{"timeouts.upstream_header_ms", nullptr, "", "", Kind::integer}, &Timeouts::upstream_header},
    {{"timeouts.idle_keepalive_ms", nullptr, "", "", Kind::integer}, &Timeouts::idle_keepalive},
    {{"timeouts.body_inactivity_ms", nullptr, "", "", Kind::integer}, &Timeouts::body_inactivity},
    {{"timeouts.upstream_idle_ms", nullptr, "", "", Kind::integer}, &Timeouts::upstream_idle},
    {{"timeouts.shutdown_grace_ms", nullptr, "", "", Kind::integer}, &Timeouts::shutdown_grace},
}};

const std::array<const Setting*, 20> top_settings{
    &s_listen,   &s_port,       &s_upstream,   &s_connect_to, &s_ca_file,
    &s_user_agent, &s_threads,  &s_pool_size,  &s_max_connections, &s_log_format,
    &s_log_level, &s_access_log, &s_pid_file,  &s_ready_probe_path, &s_ready_cache_ms,
    &s_unix_socket, &s_unix_socket_mode, &s_capability, &s_capability_file, &s_allowed_hosts};

constexpr std::string_view timeouts_table = "timeouts";

std::string label(const Setting& s) {
  if (s.flag.empty() && s.env.empty()) return std::string(s.key) + " (TOML file only)";
  std::string out(s.key);
  out += " (";
  if (!s.flag.empty()) out.append(s.flag).append(" / ");
  if (!s.env.empty()) out.append(s.env).append(" / ");
  out.append(s.key).append(")");
  return out;
}

/// Key names that suggest a credential. The file is often world-readable and copied around, so a
/// secret in it is refused even under an unknown key.
bool looks_secret(std::string_view key) {
  std::string k = lower(key);
  for (std::string_view marker : {"secret", "password", "passwd", "token", "client_id", "private_key"})
    if (k.find(marker) != std::string::npos) return true;
  return false;
}

/// Whether any line, ignoring comments, names a secret-looking key. A key always comes before its
/// value and before any '#' on its line, so cutting each line at the first '#' cannot hide one; it
/// keeps the warnings in a commented config (like the example) from tripping this.
bool text_mentions_secret(std::string_view text) {
  while (!text.empty()) {
    std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    if (looks_secret(line.substr(0, line.find('#')))) return true;
    if (eol == std::string_view::npos) break;
    text.remove_prefix(eol + 1);
  }
  return false;
}

std::string_view type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

/// A value as read from one source; `origin` says which, for the issue text.
struct Raw {
  std::string text;
  std::string origin;
};

class Loader {
 public:
  Loader(const Flags& flags, const Env& env) : flags_(flags), env_(env) {}

  LoadResult run() {
    read_file();
    Config c;
    c.config_file = config_file_;

    if (auto r = pick(s_listen)) {
      if (auto v = check_listen(*r)) c.listen = *v;
    }
    if (auto r = pick(s_port)) {
      if (auto v = number(s_port, *r, 0, 65535, "a port number", " (0 picks a free port)"))
        c.port = static_cast<std::uint16_t>(*v);
    }
    if (auto r = pick(s_upstream)) {
      auto p = parse_upstream_detail(r->text);
      if (p.upstream)
        c.upstream = *p.upstream;
      else
        add(s_upstream, *r, p.problem, p.fix);
    }
    if (auto r = pick(s_connect_to)) {
      auto p = parse_connect_to(r->text);
      if (p.target)
        c.connect_to = *p.target;
      else
        add(s_connect_to, *r, p.problem,
            "write host:port or [IPv6]:port with a port from 1 to 65535, e.g. 127.0.0.1:8443");
    }
    if (auto r = pick(s_ca_file)) {
      if (check_ca_file(*r)) c.ca_file = r->text;
    }
    if (auto r = pick(s_user_agent)) {
      if (r->text.empty() || !printable_ascii(r->text))
        add(s_user_agent, *r,
            r->text.empty() ? "is empty" : quote(r->text) + " contains a control or non-ASCII character",
            "use printable ASCII on one line, e.g. raxx-vault-proxy/1.0");
      else
        c.user_agent = r->text;
    }
    if (auto r = pick(s_threads)) {
      if (auto v = number(s_threads, *r, 0, 256, "a thread count", " (0 = one per CPU core)"))
        c.threads = static_cast<unsigned>(*v);
    }
    if (auto r = pick(s_pool_size)) {
      if (auto v = number(s_pool_size, *r, 0, 100'000, "a pool size", " (0 disables pooling)"))
        c.pool_size = static_cast<std::size_t>(*v);
    }
    if (auto r = pick(s_max_connections)) {
      if (auto v = number(s_max_connections, *r, 1, 1'000'000, "a connection limit", ""))
        c.max_connections = static_cast<std::size_t>(*v);
    }
    if (auto r = pick(s_log_format)) {
      if (r->text == "text")
        c.log_format = LogFormat::text;
      else if (r->text == "json")
        c.log_format = LogFormat::json;
      else
        add(s_log_format, *r, quote(r->text) + " is not a log format", "use text or json");
    }
    if (auto r = pick(s_log_level)) {
      static constexpr std::array<std::string_view, 7> levels{"trace", "debug", "info", "warn",
                                                              "error", "critical", "off"};
      if (std::find(levels.begin(), levels.end(), r->text) != levels.end())
        c.log_level = r->text;
      else
        add(s_log_level, *r, quote(r->text) + " is not a log level",
            "use one of trace, debug, info, warn, error, critical, off");
    }
    if (auto r = pick(s_access_log)) {
      if (auto v = boolean(s_access_log, *r)) c.access_log = *v;
    }
    if (auto r = pick(s_pid_file)) {
      if (r->text.empty() || has_control(r->text))
        add(s_pid_file, *r, r->text.empty() ? "is empty" : quote(r->text) + " contains a control character",
            "give the path of the file to write the process id to, e.g. /run/vault-proxy/vault-proxy.pid");
      else
        c.pid_file = r->text;
    }
    if (auto r = pick(s_ready_probe_path)) {
      if (r->text.empty() || r->text.front() != '/' || !printable_ascii(r->text) ||
          r->text.find(' ') != std::string::npos || r->text.find('#') != std::string::npos)
        add(s_ready_probe_path, *r, quote(r->text) + " is not an absolute request path",
            "use a path that starts with '/' and has no spaces, e.g. /api/status");
      else
        c.ready_probe_path = r->text;
    }
    if (auto r = pick(s_ready_cache_ms)) {
      if (auto v = number(s_ready_cache_ms, *r, 1, max_duration_ms, "a duration in milliseconds",
                          " (86400000 = 24 h)"))
        c.ready_cache = std::chrono::milliseconds(*v);
    }
    if (auto r = pick(s_unix_socket)) {
      if (r->text.empty() || has_control(r->text) || r->text.size() > 107)
        add(s_unix_socket, *r, r->text.empty() ? "is empty" : quote(r->text) + " is not a usable socket path",
            "give a path of at most 107 bytes, e.g. /run/user/1000/vault-proxy.sock");
      else
        c.unix_socket = r->text;
    }
    if (auto r = pick(s_unix_socket_mode)) {
      unsigned mode = 0;
      auto [p, ec] = std::from_chars(r->text.data(), r->text.data() + r->text.size(), mode, 8);
      if (r->text.empty() || ec != std::errc{} || p != r->text.data() + r->text.size() || mode > 0777)
        add(s_unix_socket_mode, *r, quote(r->text) + " is not an octal file mode",
            "use an octal mode such as 0600 (owner only) or 0660 (owner and group)");
      else
        c.unix_socket_mode = mode;
    }
    if (auto r = pick(s_capability)) {
      if (auto v = boolean(s_capability, *r)) c.capability = *v;
    }
    if (auto r = pick(s_capability_file)) {
      if (r->text.empty() || has_control(r->text))
        add(s_capability_file, *r, r->text.empty() ? "is empty" : quote(r->text) + " contains a control character",
            "give the path the capability prefix is written to, e.g. /run/user/1000/vault-proxy.cap");
      else
        c.capability_file = r->text;
    }
    if (auto r = pick(s_allowed_hosts)) {
      std::string_view rest = r->text;
      while (!rest.empty()) {
        auto comma = rest.find(',');
        auto item = rest.substr(0, comma);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (!item.empty()) {
          if (!printable_ascii(item) || item.find_first_of(" /:@") != std::string_view::npos)
            add(s_allowed_hosts, *r, quote(std::string(item)) + " is not a host name",
                "list bare host names separated by commas, e.g. vault-proxy.internal");
          else
            c.allowed_hosts.emplace_back(item);
        }
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    }
    c.unsafe_listen = flags_.unsafe_listen;
    for (const auto& t : timeout_settings) {
      if (auto r = pick(t.setting)) {
        if (auto v = number(t.setting, *r, 1, max_duration_ms, "a duration in milliseconds",
                            " (86400000 = 24 h)"))
          c.timeouts.*t.member = std::chrono::milliseconds(*v);
      }
    }

    LoadResult result;
    result.issues = std::move(issues_);
    if (result.issues.empty()) result.config = std::move(c);
    return result;
  }

 private:
  void add(const Setting& s, const Raw& r, std::string_view problem, std::string fix) {
    issues_.push_back({label(s), std::string(problem) + " (from " + r.origin + ")", std::move(fix)});
  }

  /// flags > environment > TOML file: the first source that names the value decides; lower sources
  /// are not validated because they have no effect.
  std::optional<Raw> pick(const Setting& s) {
    if (s.flag_member != nullptr) {
      if (const auto& v = flags_.*s.flag_member) return Raw{*v, std::string(s.flag)};
    }
    if (!s.env.empty()) {
      if (auto v = env_(s.env)) return Raw{std::move(*v), std::string(s.env)};
    }
    if (auto it = toml_values_.find(s.key); it != toml_values_.end()) return it->second;
    return std::nullopt;
  }

  /// true/1/on or false/0/off (TOML booleans arrive as "true"/"false"); anything else is an issue.
  std::optional<bool> boolean(const Setting& s, const Raw& r) {
    if (r.text == "true" || r.text == "1" || r.text == "on") return true;
    if (r.text == "false" || r.text == "0" || r.text == "off") return false;
    add(s, r, quote(r.text) + " is not a boolean", "use true or false");
    return std::nullopt;
  }

  std::optional<std::uint64_t> number(const Setting& s, const Raw& r, std::uint64_t lo, std::uint64_t hi,
                                      std::string_view noun, std::string_view note) {
    auto v = parse_decimal(r.text);
    if (v && *v >= lo && *v <= hi) return v;
    add(s, r, quote(r.text) + " is not " + std::string(noun),
        "use a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) + std::string(note));
    return std::nullopt;
  }

  std::optional<std::string> check_listen(const Raw& r) {
    std::string_view v = r.text;
    if (lower(v) == "localhost") return std::string("127.0.0.1");
    if (v.size() >= 2 && v.front() == '[' && v.back() == ']') v = v.substr(1, v.size() - 2);
    if (is_ipv4(v) || is_ipv6(v)) return std::string(v);
    add(s_listen, r, quote(r.text) + " is not an IP address",
        "use an IP literal such as 127.0.0.1, ::1 or 0.0.0.0 (host names other than localhost are not "
        "resolved); the port is a separate setting");
    return std::nullopt;
  }

  bool check_ca_file(const Raw& r) {
    const std::string fix = "point it at a readable PEM bundle, or leave it unset to use the system store";
    if (r.text.empty()) {
      add(s_ca_file, r, "is empty", fix);
      return false;
    }
    std::string problem;
    if (!readable_file(r.text, problem)) {
      add(s_ca_file, r, problem, fix);
      return false;
    }
    return true;
  }

  void file_issue(std::string problem, std::string fix) {
    issues_.push_back({"config file (--config / VAULT_PROXY_CONFIG)", std::move(problem), std::move(fix)});
  }

  void read_file() {
    std::string origin;
    if (flags_.config_file) {
      config_file_ = *flags_.config_file;
      origin = "--config";
    } else if (auto v = env_("VAULT_PROXY_CONFIG")) {
      config_file_ = std::move(*v);
      origin = "VAULT_PROXY_CONFIG";
    } else {
      return;
    }
    if (config_file_->empty()) {
      file_issue("is empty (from " + origin + ")",
                 "give the path of a TOML file, or unset " + origin + " to run from defaults");
      return;
    }
    std::string problem;
    auto text = read_text_file(*config_file_, problem);
    if (!text) {
      file_issue(problem + " (from " + origin + ")",
                 "fix the path or permissions; a named config file is never skipped");
      return;
    }
    toml::table root;
    try {
      root = toml::parse(std::string_view(*text), std::string_view(*config_file_));
      wipe(*text);
    } catch (const toml::parse_error& e) {
      const bool may_hold_secret = text_mentions_secret(*text);
      wipe(*text);
      const auto& where = e.source().begin;
      std::string at = quote(*config_file_) + " is not valid TOML at line " + std::to_string(where.line) +
                       ", column " + std::to_string(where.column);
      // The parser quotes the text it choked on; if the file may hold a secret, that could be it.
      if (may_hold_secret)
        at += " (parser message withheld: the file appears to contain a secret)";
      else
        at += ": " + escape(e.description(), 300);
      file_issue(at + " (from " + origin + ")", "correct the syntax at that position (see https://toml.io)");
      return;
    }
    scan_secrets(root, "");
    collect(root);
  }

  /// Reports every secret-looking key at any depth and wipes its string value.
  void scan_secrets(toml::node& node, const std::string& path) {
    if (auto* table = node.as_table()) {
      for (auto&& [k, v] : *table) {
        std::string key_path = path.empty() ? std::string(k.str()) : path + "." + std::string(k.str());
        if (looks_secret(k.str())) {
          secret_keys_.push_back(key_path);
          std::size_t line = v.source().begin.line;
          issues_.push_back(
              {quote(key_path) + " (TOML file)",
               "a secret-looking key is in " + quote(*config_file_) + " at line " + std::to_string(line) +
                   " (value not shown); secrets are not read from the config file",
               "remove it and give the service token with CF_ACCESS_CLIENT_ID_FILE and "
               "CF_ACCESS_CLIENT_SECRET_FILE, or as cf-access-client-id / cf-access-client-secret in "
               "$CREDENTIALS_DIRECTORY (systemd LoadCredential=)"});
          if (auto* s = v.as_string()) {
            auto& str = s->get();
            std::fill(str.begin(), str.end(), '\0');
          }
          continue;
        }
        scan_secrets(v, key_path);
      }
    } else if (auto* array = node.as_array()) {
      for (std::size_t i = 0; i < array->size(); ++i)
        scan_secrets(*array->get(i), path + "[" + std::to_string(i) + "]");
    }
  }

  bool is_secret_key(const std::string& path) const {
    return std::find(secret_keys_.begin(), secret_keys_.end(), path) != secret_keys_.end();
  }

  void unknown_key(const std::string& key_path, std::string_view key, const std::vector<std::string>& known,
                   std::string_view where) {
    std::string best;
    std::size_t best_d = 3;
    if (key.size() <= 64) {
      for (const auto& k : known) {
        std::string_view bare = k;
        if (bare.front() == '[') bare = bare.substr(1, bare.size() - 2);
        std::size_t d = edit_distance(lower(key), bare);
        if (d < best_d) {
          best_d = d;
          best = k;
        }
      }
    }
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    std::string fix = best.empty() ? "remove it" : "did you mean " + best + "? otherwise remove it";
    fix += "; known keys " + std::string(where) + ": " + list;
    issues_.push_back({quote(key_path) + " (TOML file)",
                       "unknown key in " + quote(*config_file_) + " (a typo would otherwise be ignored)",
                       std::move(fix)});
  }

  void take(const Setting& s, const toml::node& v) {
    std::size_t line = v.source().begin.line;
    std::string origin = std::string(s.key) + " in " + *config_file_ + " line " + std::to_string(line);
    switch (s.kind) {
      case Kind::string:
        if (auto* str = v.as_string()) {
          toml_values_[std::string(s.key)] = Raw{str->get(), origin};
          return;
        }
        break;
      case Kind::integer:
        if (auto* i = v.as_integer()) {
          toml_values_[std::string(s.key)] = Raw{std::to_string(i->get()), origin};
          return;
        }
        break;
      case Kind::boolean:
        if (auto* b = v.as_boolean()) {
          toml_values_[std::string(s.key)] = Raw{b->get() ? "true" : "false", origin};
          return;
        }
        break;
    }
    std::string_view want = s.kind == Kind::string    ? "a string"
                            : s.kind == Kind::integer ? "an integer"
                                                      : "true or false";
    std::string example = s.kind == Kind::string    ? "= \"...\""
                          : s.kind == Kind::integer ? "= 1000 (no quotes)"
                                                    : "= true or = false (no quotes)";
    std::string_view bare = s.key.substr(s.key.rfind('.') + 1);
    issues_.push_back({label(s), "expected " + std::string(want) + ", found " + std::string(type_name(v.type())) +
                                     " (from " + origin + ")",
                       "write " + std::string(bare) + " " + example});
  }

  void collect(const toml::table& root) {
    std::vector<std::string> known_top;
    for (const auto* s : top_settings) known_top.emplace_back(s->key);
    known_top.emplace_back("[timeouts]");
    std::vector<std::string> known_timeouts;
    for (const auto& t : timeout_settings)
      known_timeouts.emplace_back(t.setting.key.substr(timeouts_table.size() + 1));

    for (auto&& [k, v] : root) {
      std::string key(k.str());
      if (is_secret_key(key)) continue;
      if (key == timeouts_table) {
        const auto* table = v.as_table();
        if (table == nullptr) {
          issues_.push_back({"timeouts (TOML file only)",
                             "expected a table, found " + std::string(type_name(v.type())) + " in " +
                                 quote(*config_file_),
                             "write [timeouts] on its own line followed by keys such as connect_ms = 5000"});
          continue;
        }
        for (auto&& [tk, tv] : *table) {
          std::string path = key + "." + std::string(tk.str());
          if (is_secret_key(path)) continue;
          auto it = std::find_if(timeout_settings.begin(), timeout_settings.end(),
                                 [&](const TimeoutSetting& t) { return t.setting.key == path; });
          if (it == timeout_settings.end())
            unknown_key(path, tk.str(), known_timeouts, "in [timeouts]");
          else
            take(it->setting, tv);
        }
        continue;
      }
      auto it = std::find_if(top_settings.begin(), top_settings.end(),
                             [&](const Setting* s) { return s->key == key; });
      if (it == top_settings.end())
        unknown_key(key, key, known_top, "at the top level");
      else
        take(**it, v);
    }
  }

  const Flags& flags_;
  const Env& env_;
  std::optional<std::string> config_file_;
  std::map<std::string, Raw, std::less<>> toml_values_;
  std::vector<std::string> secret_keys_;
  std::vector<Issue> issues_;
};

}  // namespace

std::string Upstream::host_header() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != 443) out += ":" + std::to_string(port);
  return out;
}

std::string Upstream::url() const { return "https://" + host_header(); }

std::string format_issues(const std::vector<Issue>& issues) {
  std::string out;
  for (const auto& i : issues) {
    out += "  - " + i.field + ": " + i.problem + "\n";
    if (!i.fix.empty()) out += "    fix: " + i.fix + "\n";
  }
  return out;
}

Env process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Env map_env(std::map<std::string, std::string> values) {
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(std::string(name));
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

LoadResult load(const Flags& flags, const Env& env) { return Loader(flags, env).run(); }

}  // namespace vp::config
