// The entry mcp-config writes, and which entries count as its own (the marker, or the shape the
// runbook's enable script wrote).

#include "cli/mcp_config.hpp"

#include "core/authority.hpp"
#include "core/env_refs.hpp"
#include "infisical/client.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace vp::cli {

namespace {

/// True when the entry's command or args name the Infisical MCP server package.
bool runs_infisical_mcp(const ojson& entry) {
  auto names_it = [](const ojson& v) {
    return v.is_string() && v.get<std::string>().find("@infisical/mcp") != std::string::npos;
  };
  if (auto c = entry.find("command"); c != entry.end() && names_it(*c)) return true;
  if (auto a = entry.find("args"); a != entry.end() && a->is_array())
    return std::any_of(a->begin(), a->end(), names_it);
  return false;
}

}  // namespace

std::string managed_marker(const ojson& entry) {
  if (!entry.is_object()) return {};
  auto env = entry.find("env");
  if (env == entry.end() || !env->is_object()) return {};
  auto m = env->find(std::string(managed_marker_key));
  if (m == env->end() || !m->is_string()) return {};
  return m->get<std::string>();
}

std::optional<std::string> ownership(const ojson& entry) {
  if (!entry.is_object()) return std::nullopt;
  if (auto m = managed_marker(entry); m == managed_entry || m == managed_entry_and_file)
    return fmt::format("it carries the {} marker of vault-proxy mcp-config", managed_marker_key);
  auto env = entry.find("env");
  if (!runs_infisical_mcp(entry) || env == entry.end() || !env->is_object()) return std::nullopt;
  auto host = env->find("INFISICAL_HOST_URL");
  if (host == env->end() || !host->is_string()) return std::nullopt;
  // Defaults only: what the URL is when no variable of this shell decides it.
  const auto url = core::expand_env_refs(host->get<std::string>(), [](std::string_view) {
                     return std::optional<std::string>();
                   }).value;
  std::string problem;
  auto target = infisical::parse_base_url(url, problem);
  if (!target || target->scheme != infisical::Endpoint::Scheme::http || !core::is_loopback_name(target->host))
    return std::nullopt;
  return fmt::format("it runs the Infisical MCP server against this machine's proxy (INFISICAL_HOST_URL {}), as "
                     "the runbook's enable script wrote it",
                     url);
}

ojson build_entry(const McpEntrySpec& spec) {
  ojson env = ojson::object();
  env["INFISICAL_HOST_URL"] =
      spec.by_reference ? fmt::format("${{{}:-{}}}", proxy_url_var, spec.host_url) : spec.host_url;
  if (spec.auto_auth) {
    env["INFISICAL_AUTH_METHOD"] = "access-token";
    env["INFISICAL_TOKEN"] = fmt::format("${{{}}}", local_token_var);
  } else {
    env["INFISICAL_UNIVERSAL_AUTH_CLIENT_ID"] = "${" + spec.client_id_var + "}";
    env["INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET"] = "${" + spec.client_secret_var + "}";
  }
  env["NO_PROXY"] = loopback_no_proxy;
  // axios reads proxy variables through proxy-from-env, which prefers the lower-case spelling: an
  // inherited `no_proxy` would otherwise win over NO_PROXY.
  env["no_proxy"] = loopback_no_proxy;
  env[std::string(managed_marker_key)] = spec.created_file ? managed_entry_and_file : managed_entry;
  ojson entry = ojson::object();
  entry["command"] = "npx";
  entry["args"] = ojson::array({"-y", infisical_mcp_package});
  entry["env"] = std::move(env);
  return entry;
}

}  // namespace vp::cli
