#include "config/policy_file.hpp"

#include "config/settings.hpp"
#include "sys/files.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>

namespace vp::config {
namespace {

constexpr std::string_view rule_keys[] = {"name", "methods", "operations", "path", "environment", "secret_path"};
constexpr std::string_view top_keys[] = {"name", "extends", "hint", "allow", "deny"};
constexpr std::size_t max_double_stars = 4;

// Collects issues against one file, each field named as "<file>: allow[2].methods".
struct Reader {
  const std::string& source;
  std::vector<Issue> issues;

  void add(std::string_view field, std::string problem, std::string fix) {
    issues.push_back({fmt::format("policy file {}: {}", source, field), std::move(problem), std::move(fix)});
  }
};

std::string known_ops() {
  std::string out;
  for (auto op : core::all_api_ops) {
    if (op == core::ApiOp::none) continue;
    out += (out.empty() ? "" : ", ") + std::string(core::op_name(op));
  }
  return out;
}

std::vector<std::string> strings(Reader& rd, const toml::node* node, const std::string& field) {
  std::vector<std::string> out;
  const auto* arr = node ? node->as_array() : nullptr;
  if (node && !arr) rd.add(field, "is not an array of strings", "write it as [\"GET\", \"HEAD\"]");
  if (!arr) return out;
  for (const auto& item : *arr) {
    if (auto v = item.value<std::string>()) out.push_back(*v);
    else rd.add(field, "holds something that is not a string", "write every item in double quotes");
  }
  return out;
}

std::string glob(Reader& rd, const toml::node* node, const std::string& field, bool rooted) {
  if (!node) return {};
  auto v = node->value<std::string>();
  if (!v || v->empty()) {
    rd.add(field, "is not a non-empty string", "give a pattern such as \"/app/**\"");
    return {};
  }
  std::size_t stars = 0;
  for (std::size_t at = v->find("**"); at != std::string::npos; at = v->find("**", at + 2)) ++stars;
  if (stars > max_double_stars)
    rd.add(field, fmt::format("has {} '**'", stars), fmt::format("use at most {}", max_double_stars));
  if (rooted && v->front() != '/' && *v != "**")
    rd.add(field, fmt::format("\"{}\" does not start with '/'", *v), "write an absolute pattern, e.g. \"/app/**\"");
  return *v;
}

std::vector<std::string> methods(Reader& rd, const toml::node* node, const std::string& field) {
  auto out = strings(rd, node, field);
  for (auto& m : out) {
    const bool token = !m.empty() && std::all_of(m.begin(), m.end(), [](unsigned char c) { return std::isalpha(c); });
    if (!token) rd.add(field, fmt::format("\"{}\" is not a method name", m), "use names such as GET, POST, PATCH");
    std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  }
  return out;
}

std::vector<core::ApiOp> operations(Reader& rd, const toml::node* node, const std::string& field) {
  std::vector<core::ApiOp> out;
  for (const auto& name : strings(rd, node, field)) {
    bool found = false;
    auto op = core::op_from_name(name, found);
    if (found && op != core::ApiOp::none) out.push_back(op);
    else rd.add(field, fmt::format("\"{}\" is not an operation", name), "use one of " + known_ops());
  }
  return out;
}

void unknown_keys(Reader& rd, const toml::table& t, std::span<const std::string_view> known, const std::string& where) {
  for (const auto& [key, value] : t) {
    if (std::find(known.begin(), known.end(), key.str()) == known.end())
      rd.add(where.empty() ? std::string(key.str()) : where + "." + std::string(key.str()), "is not a policy field",
             fmt::format("use {}", fmt::join(known, ", ")));
  }
}

core::PolicyRule rule(Reader& rd, const toml::table& t, const std::string& where, bool allow) {
  unknown_keys(rd, t, rule_keys, where);
  core::PolicyRule r;
  if (auto n = t["name"].value<std::string>(); n && !n->empty()) r.name = *n;
  else rd.add(where + ".name", "is missing", "give every rule a name; refusals and the audit trail show it");
  r.methods = methods(rd, t.get("methods"), where + ".methods");
  r.operations = operations(rd, t.get("operations"), where + ".operations");
  r.path = glob(rd, t.get("path"), where + ".path", true);
  r.environment = glob(rd, t.get("environment"), where + ".environment", false);
  r.secret_path = glob(rd, t.get("secret_path"), where + ".secret_path", true);
  const bool open = r.methods.empty() && r.operations.empty() && r.path.empty() && r.environment.empty() &&
                    r.secret_path.empty();
  if (allow && open)
    rd.add(where, "has no condition, so it allows every request",
           "add methods, operations, path, environment or secret_path; to allow everything, set the policy to off");
  return r;
}

std::vector<core::PolicyRule> rules(Reader& rd, const toml::table& top, std::string_view key) {
  std::vector<core::PolicyRule> out;
  const auto* node = top.get(key);
  if (!node) return out;
  const auto* arr = node->as_array();
  if (!arr) {
    rd.add(key, "is not an array of tables", fmt::format("write each rule as a [[{}]] table", key));
    return out;
  }
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const auto where = fmt::format("{}[{}]", key, i + 1);
    if (const auto* t = (*arr)[i].as_table()) out.push_back(rule(rd, *t, where, key == "allow"));
    else rd.add(where, "is not a table", fmt::format("write each rule as a [[{}]] table", key));
  }
  return out;
}

}  // namespace

PolicyLoad parse_policy(std::string_view text, const std::string& source) {
  Reader rd{source, {}};
  toml::table top;
  try {
    top = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    rd.add(fmt::format("line {}", e.source().begin.line), std::string(e.description()), "fix the TOML syntax");
    return {nullptr, std::move(rd.issues)};
  }
  unknown_keys(rd, top, top_keys, "");
  core::Policy p;
  if (auto ext = top["extends"].value<std::string>()) {
    if (*ext == "read-only") p.allow = core::read_only_policy().allow;
    else rd.add("extends", fmt::format("\"{}\" is not a preset", *ext), "use extends = \"read-only\", or remove it");
  }
  p.name = top["name"].value_or(source);
  if (auto hint = top["hint"].value<std::string>()) p.hint = *hint;
  for (auto& r : rules(rd, top, "deny")) p.deny.push_back(std::move(r));
  for (auto& r : rules(rd, top, "allow")) p.allow.push_back(std::move(r));
  if (p.allow.empty() && rd.issues.empty())
    rd.add("allow", "is missing: the policy would refuse every request",
           "add [[allow]] rules, or extends = \"read-only\"; to stop all traffic use `vault-proxy stop`");
  if (!rd.issues.empty()) return {nullptr, std::move(rd.issues)};
  return {std::make_shared<const core::Policy>(std::move(p)), {}};
}

PolicyLoad load_policy(std::string_view spec, std::string_view field) {
  if (spec.empty() || spec == "off") return {};
  if (spec == "read-only") return {std::make_shared<const core::Policy>(core::read_only_policy()), {}};
  const std::string path(spec);
  sys::Expect expect{.owner = sys::Expect::Owner::caller_or_root};
  auto file = sys::read_file(path, expect);
  if (!file.content) {
    return {nullptr,
            {{std::string(field), file.problem,
              file.missing ? "create the policy file, or use read-only or off"
                           : "make it a regular file owned by you or root that no one else can write (chmod 644)"}}};
  }
  return parse_policy(*file.content, path);
}

ListenerPolicies load_listener_policies(const Config& cfg) {
  ListenerPolicies out;
  auto field = [](std::string_view key) { return issue_field(*find_setting(key)); };
  auto tcp = load_policy(cfg.policy, field("policy"));
  out.tcp = tcp.policy;
  out.issues = std::move(tcp.issues);
  if (!cfg.unix_socket_policy || *cfg.unix_socket_policy == cfg.policy) {
    out.unix_socket = out.tcp;
    return out;
  }
  auto unix_socket = load_policy(*cfg.unix_socket_policy, field("unix_socket_policy"));
  out.unix_socket = unix_socket.policy;
  out.issues.insert(out.issues.end(), unix_socket.issues.begin(), unix_socket.issues.end());
  return out;
}

}  // namespace vp::config
