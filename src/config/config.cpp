#include "config/config.hpp"

#include "config/files.hpp"
#include "config/settings.hpp"
#include "config/text.hpp"
#include "core/secret.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <utility>

namespace vp::config {

namespace {

/// Key names that suggest a credential. The file is often world-readable and copied around, so a
/// secret in it is refused even under an unknown key.
bool looks_secret(std::string_view key) {
  // A setting's own name is never a secret: `local_token_file` names where a token is written.
  auto name = key.substr(0, key.find('='));
  while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
  if (find_setting(name) != nullptr) return false;
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

/// The settings of one TOML table ("" = the top level), as listed in an unknown-key fix:
/// top-level keys, then each table as [name].
std::vector<std::string> known_keys(std::string_view table) {
  std::vector<std::string> keys;
  for (const auto& s : settings()) {
    auto dot = s.key.find('.');
    if (table.empty() && dot == std::string_view::npos) {
      keys.emplace_back(s.key);
    } else if (table.empty()) {
      std::string name = "[" + std::string(s.key.substr(0, dot)) + "]";
      if (std::find(keys.begin(), keys.end(), name) == keys.end()) keys.push_back(std::move(name));
    } else if (dot != std::string_view::npos && s.key.substr(0, dot) == table) {
      keys.emplace_back(s.key.substr(dot + 1));
    }
  }
  return keys;
}

/// Whether some setting lives in the TOML table `name`.
bool is_table(std::string_view name) { return !name.empty() && !known_keys(name).empty(); }

/// The setting `name` in `table` ("" = top level); a quoted key with a dot never matches.
const Setting* setting_at(std::string_view table, std::string_view name) {
  if (name.find('.') != std::string_view::npos) return nullptr;
  return find_setting(table.empty() ? std::string(name) : std::string(table) + "." + std::string(name));
}

class Loader {
 public:
  Loader(const Flags& flags, const Env& env) : flags_(flags), env_(env) {}

  LoadResult run() {
    read_file();
    check_flag_keys();
    Config c;
    c.config_file = config_file_;
    for (const auto& s : settings()) {
      auto raw = pick(s);
      if (!raw) continue;
      for (auto& p : s.apply(raw->text, c))
        issues_.push_back({issue_field(s), p.problem + " (from " + raw->origin + ")", std::move(p.fix)});
    }
    c.unsafe_listen = flags_.unsafe_listen;

    LoadResult result;
    result.issues = std::move(issues_);
    if (result.issues.empty()) result.config = std::move(c);
    return result;
  }

 private:
  /// flags > environment > TOML file: the first source that names the value decides; lower sources
  /// are not validated because they have no effect.
  std::optional<Raw> pick(const Setting& s) const {
    if (!s.flag.empty()) {
      if (auto it = flags_.values.find(s.key); it != flags_.values.end()) return Raw{it->second, std::string(s.flag)};
    }
    if (!s.env.empty()) {
      if (auto v = env_(s.env)) return Raw{std::move(*v), std::string(s.env)};
    }
    if (auto it = toml_values_.find(s.key); it != toml_values_.end()) return it->second;
    return std::nullopt;
  }

  /// Flags::values is filled by add_config_flags; a key no flag has would otherwise be ignored.
  void check_flag_keys() {
    for (const auto& [key, value] : flags_.values) {
      const Setting* s = find_setting(key);
      if (s == nullptr || s->flag.empty())
        issues_.push_back({quote(key) + " (command line)", "is not a setting that has a flag",
                           "give one of the flags listed by --help"});
    }
  }

  void file_issue(std::string problem, std::string fix) {
    issues_.push_back({"config file (" + std::string(config_flag) + " / " + std::string(config_env) + ")",
                       std::move(problem), std::move(fix)});
  }

  /// The file named by --config, else by VAULT_PROXY_CONFIG; its origin for issues. Empty when neither.
  std::optional<std::string> config_origin() {
    if (flags_.config_file) {
      config_file_ = *flags_.config_file;
      return std::string(config_flag);
    }
    if (auto v = env_(config_env)) {
      config_file_ = std::move(*v);
      return std::string(config_env);
    }
    return std::nullopt;
  }

  void read_file() {
    auto origin = config_origin();
    if (!origin) return;
    if (config_file_->empty()) {
      file_issue("is empty (from " + *origin + ")",
                 "give the path of a TOML file, or unset " + *origin + " to run from defaults");
      return;
    }
    std::string problem;
    auto text = read_text_file(*config_file_, problem);
    if (!text) {
      file_issue(problem + " (from " + *origin + ")",
                 "fix the path or permissions; a named config file is never skipped");
      return;
    }
    toml::table root;
    try {
      root = toml::parse(std::string_view(*text), std::string_view(*config_file_));
      core::wipe(*text);
    } catch (const toml::parse_error& e) {
      const bool may_hold_secret = text_mentions_secret(*text);
      core::wipe(*text);
      const auto& where = e.source().begin;
      std::string at = quote(*config_file_) + " is not valid TOML at line " + std::to_string(where.line) +
                       ", column " + std::to_string(where.column);
      // The parser quotes the text it choked on; if the file may hold a secret, that could be it.
      if (may_hold_secret)
        at += " (parser message withheld: the file appears to contain a secret)";
      else
        at += ": " + escape(e.description(), 300);
      file_issue(at + " (from " + *origin + ")", "correct the syntax at that position (see https://toml.io)");
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
    issues_.push_back({issue_field(s),
                       "expected " + std::string(want) + ", found " + std::string(type_name(v.type())) +
                           " (from " + origin + ")",
                       "write " + std::string(bare) + " " + example});
  }

  void collect(const toml::table& root) {
    for (auto&& [k, v] : root) {
      std::string key(k.str());
      if (is_secret_key(key)) continue;
      if (is_table(key))
        collect_table(key, v);
      else if (const Setting* s = setting_at("", key))
        take(*s, v);
      else
        unknown_key(key, key, known_keys(""), "at the top level");
    }
  }

  void collect_table(const std::string& name, const toml::node& node) {
    const auto* table = node.as_table();
    if (table == nullptr) {
      std::string first = known_keys(name).front();
      std::string example = first + " = " + setting_at(name, first)->show(Config{});
      issues_.push_back({name + " (TOML file only)",
                         "expected a table, found " + std::string(type_name(node.type())) + " in " +
                             quote(*config_file_),
                         "write [" + name + "] on its own line followed by keys such as " + example});
      return;
    }
    for (auto&& [k, v] : *table) {
      std::string path = name + "." + std::string(k.str());
      if (is_secret_key(path)) continue;
      if (const Setting* s = setting_at(name, k.str()))
        take(*s, v);
      else
        unknown_key(path, k.str(), known_keys(name), "in [" + name + "]");
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
