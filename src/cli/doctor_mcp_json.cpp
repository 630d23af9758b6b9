// Check 8, `mcp-json`: the session-local .mcp.json has an Infisical entry whose INFISICAL_HOST_URL,
// expanded as Claude Code expands it, reaches this proxy, and whose ${VAR} references are set
// (runbook failure mode E). A pure function of the file's text and the environment.

#include "cli/doctor_checks.hpp"

#include "core/authority.hpp"
#include "core/env_refs.hpp"
#include "infisical/client.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <vector>

namespace vp::cli::doctor {

namespace {

using json = nlohmann::json;

constexpr std::string_view fix_mode_e =
    "Run vault-proxy mcp-config to write the Infisical entry for this proxy, then restart Claude Code "
    "(or run /mcp reset). Runbook failure mode E.";

CheckResult verdict(Status status, std::string message, std::string fix = std::string(fix_mode_e)) {
  CheckResult c;
  c.name = "mcp-json";
  c.status = status;
  c.message = std::move(message);
  c.fix = std::move(fix);
  return c;
}

/// The first mcpServers entry that runs the Infisical MCP server or sets INFISICAL_HOST_URL.
const json* find_infisical_entry(const json& servers, std::string& name) {
  for (auto it = servers.begin(); it != servers.end(); ++it) {
    const json& s = it.value();
    if (!s.is_object()) continue;
    bool infisical = false;
    if (auto args = s.find("args"); args != s.end() && args->is_array())
      for (const auto& a : *args)
        if (a.is_string() && a.get<std::string>().find("@infisical/mcp") != std::string::npos) infisical = true;
    if (auto env = s.find("env"); env != s.end() && env->is_object() && env->contains("INFISICAL_HOST_URL"))
      infisical = true;
    if (infisical) {
      name = it.key();
      return &s;
    }
  }
  return nullptr;
}

/// Every variable the entry's strings (command, args, env values) name without a default and that
/// is not set here, in order.
std::vector<std::string> unset_references(const json& entry, const config::Env& env) {
  std::vector<std::string> unset;
  auto visit = [&](const json& v) {
    if (!v.is_string()) return;
    for (auto& name : core::expand_env_refs(v.get<std::string>(), env).unset)
      if (std::find(unset.begin(), unset.end(), name) == unset.end()) unset.push_back(name);
  };
  for (const char* key : {"command", "args", "env"}) {
    auto it = entry.find(key);
    if (it == entry.end()) continue;
    if (it->is_structured())
      for (const auto& v : *it) visit(v);
    else
      visit(*it);
  }
  return unset;
}

/// Warnings that do not stop the entry from working: literal secrets, NO_PROXY.
void collect_hygiene(const json& env, const std::string& host, std::vector<std::string>& warnings,
                     std::vector<std::string>& fixes) {
  auto env_string = [&](const char* key) -> std::optional<std::string> {
    auto it = env.find(key);
    if (it == env.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  for (const char* key : {"INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET", "INFISICAL_TOKEN"}) {
    auto v = env_string(key);
    if (v && !v->empty() && v->find("${") == std::string::npos) {
      warnings.push_back(fmt::format("{} holds a literal value (len={}), not a ${{VAR}} reference", key, v->size()));
      fixes.push_back("Keep secrets out of .mcp.json: run vault-proxy mcp-config, which writes ${VAR} references.");
    }
  }
  auto no_proxy = env_string("NO_PROXY");
  if (!no_proxy || (no_proxy->find(host) == std::string::npos && no_proxy->find('*') == std::string::npos)) {
    warnings.push_back(fmt::format("NO_PROXY does not cover {}: an inherited HTTP_PROXY would receive the MCP "
                                   "server's requests", host));
    fixes.push_back("Add \"NO_PROXY\": \"localhost,127.0.0.1,::1\" to the entry's env (vault-proxy mcp-config does).");
  }
}

/// Where INFISICAL_HOST_URL (already expanded) leads; nullopt when it reaches this proxy.
std::optional<CheckResult> judge_host_url(const std::string& name, const std::string& url,
                                          const std::string& proxy_host, std::uint16_t proxy_port,
                                          infisical::Endpoint& target) {
  const std::string proxy_url = "http://" + core::host_port(proxy_host, proxy_port);
  std::string problem;
  auto parsed = infisical::parse_base_url(url, problem);
  if (!parsed) return verdict(Status::fail, fmt::format("INFISICAL_HOST_URL of '{}' is not a URL ({})", name, problem));
  target = *parsed;
  if (target.base_path == "/api" || target.base_path.ends_with("/api"))
    return verdict(Status::fail,
                   fmt::format("INFISICAL_HOST_URL of '{}' ends in /api: the SDK adds /api itself, so every call "
                               "would go to /api/api/...", name),
                   "Drop the /api suffix (" + proxy_url + "), or run vault-proxy mcp-config.");
  const bool same_host =
      target.host == proxy_host || (core::is_loopback_name(target.host) && core::is_loopback_name(proxy_host));
  if (target.scheme != infisical::Endpoint::Scheme::http || !same_host)
    return verdict(Status::fail,
                   fmt::format("INFISICAL_HOST_URL of '{}' points at {}, not at this proxy ({})", name, target.url(),
                               proxy_url),
                   "Run vault-proxy mcp-config to point the entry at the proxy. Runbook failure mode E.");
  if (target.port != proxy_port)
    return verdict(Status::fail,
                   fmt::format("INFISICAL_HOST_URL of '{}' points at port {}, but the proxy is configured for "
                               "port {}", name, target.port, proxy_port),
                   fmt::format("Run vault-proxy mcp-config to rewrite the entry for port {} (or start the proxy "
                               "on port {}), then restart Claude Code. Runbook failure mode E.",
                               proxy_port, target.port));
  return std::nullopt;
}

}  // namespace

CheckResult evaluate_mcp_json(const McpJsonPlan& plan, const std::optional<std::string>& text,
                              const std::string& proxy_host, std::uint16_t proxy_port, const config::Env& env) {
  const std::string& path = plan.shown_as;
  if (!text) {
    // Before the runbook's step 4 the file is expected to be missing: a warning unless asked for.
    if (plan.required)
      return verdict(Status::fail,
                     fmt::format("{} does not exist, so Claude Code has no get-secret tool (failure mode E)", path));
    return verdict(Status::warn, fmt::format("no .mcp.json yet at {}: Claude Code has no get-secret tool until "
                                             "there is one", path),
                   "Run vault-proxy mcp-config (runbook Session start step 4), then restart Claude Code.");
  }
  json j;
  try {
    j = json::parse(*text);
  } catch (const json::parse_error& e) {
    // Only the position: the parser's message quotes the text it choked on, which may be a secret.
    return verdict(Status::fail, fmt::format("{} is not valid JSON (syntax error at byte {})", path, e.byte));
  }
  auto servers = j.is_object() ? j.find("mcpServers") : j.end();
  if (!j.is_object() || servers == j.end() || !servers->is_object())
    return verdict(Status::fail, fmt::format("{} has no \"mcpServers\" object", path));
  std::string name;
  const json* entry = find_infisical_entry(*servers, name);
  if (entry == nullptr) return verdict(Status::fail, fmt::format("{} has no Infisical MCP server entry (failure mode E)", path));

  if (auto unset = unset_references(*entry, env); !unset.empty())
    return verdict(Status::fail,
                   fmt::format("the '{}' entry references variables that are not set here: {}", name,
                               fmt::join(unset, ", ")),
                   fmt::format("Export {} in the shell that starts Claude Code (runbook Session start step 1), or "
                               "start it with vault-proxy run. Failure mode E.", fmt::join(unset, ", ")));
  static const json empty_env = json::object();
  auto env_it = entry->find("env");
  const json& entry_env = env_it != entry->end() && env_it->is_object() ? *env_it : empty_env;
  auto host_it = entry_env.find("INFISICAL_HOST_URL");
  if (host_it == entry_env.end() || !host_it->is_string())
    return verdict(Status::fail, fmt::format("the '{}' entry has no INFISICAL_HOST_URL, so the MCP server would go "
                                             "to https://app.infisical.com instead of this proxy", name));
  const std::string raw = host_it->get<std::string>();
  const std::string url = core::expand_env_refs(raw, env).value;
  std::string detail = fmt::format("{}: server '{}', INFISICAL_HOST_URL={}", path, name, one_line(raw, 200));
  if (url != raw) detail += fmt::format(", which expands here to {}", one_line(url, 200));

  infisical::Endpoint target;
  if (auto bad = judge_host_url(name, url, proxy_host, proxy_port, target)) {
    bad->detail = detail;
    return *bad;
  }
  std::vector<std::string> warnings, fixes;
  collect_hygiene(entry_env, target.host, warnings, fixes);
  CheckResult c = verdict(Status::pass, fmt::format("'{}' points at this proxy (http://{})", name,
                                                    core::host_port(proxy_host, proxy_port)), "");
  c.detail = detail;
  if (!warnings.empty()) {
    c.status = Status::warn;
    c.message = fmt::format("'{}' points at this proxy, but: {}", name, warnings.front());
    for (std::size_t i = 1; i < warnings.size(); ++i) c.detail += "\n" + warnings[i];
    for (auto& f : fixes)
      if (c.fix.find(f) == std::string::npos) c.fix += (c.fix.empty() ? "" : " ") + f;
  }
  return c;
}

}  // namespace vp::cli::doctor
