#include "cli/status.hpp"

#include "cli/exit_codes.hpp"
#include "cli/runtime_state.hpp"
#include "net/http_client.hpp"
#include "net/port_owner.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>

namespace vp::cli {

namespace {

using json = nlohmann::json;

/// What the proxy's own status endpoint said.
struct EndpointResult {
  std::string state;  ///< "ok", "missing" (older proxy without the endpoint), "error", "unreachable"
  json body;          ///< the endpoint's JSON when state == "ok"
  std::string detail; ///< why it is not "ok"
};

EndpointResult query_endpoint(const FoundProxy& p, std::chrono::milliseconds timeout) {
  const RuntimeState& s = p.state;
  std::string error;
  auto host = loopback_connect_address(s.listen, error);
  if (!host)
    return {"error", nullptr,
            fmt::format("refusing to query the proxy: the state file {} {}; nothing was sent", p.path, error)};
  // With --capability on, every local endpoint but health needs the prefix too.
  auto prefix = capability_prefix(s, error);
  if (!prefix) return {"error", nullptr, error + "; nothing was sent"};
  auto res = net_http::send_blocking(net_http::local_endpoint(*host, s.port),
                                     net_http::Request::get(*prefix + "/__vault-proxy/status"), timeout);
  if (!res.ok()) return {"unreachable", nullptr, res.error};
  if (res.status == 404 && res.header("X-Vault-Proxy-Error") == "not_found")
    return {"missing", nullptr,
            fmt::format("this proxy (version {}) has no /__vault-proxy/status endpoint; only its state file "
                        "is shown. Restart it with a newer vault-proxy for request counts and credentials",
                        s.version.empty() ? "unknown" : s.version)};
  auto body = json::parse(res.body, nullptr, false);
  if (res.status != 200 || !body.is_object())
    return {"error", nullptr,
            fmt::format("GET /__vault-proxy/status answered {}{}", res.status,
                        body.is_object() ? "" : " without a JSON object")};
  return {"ok", std::move(body), {}};
}

json proxy_json(const FoundProxy& p, const EndpointResult& e) {
  json j = to_json(p.state);
  j.erase("proc_start_ticks");
  j["capability"] = !p.state.capability_file.empty();
  j["url"] = proxy_url(p.state.listen, p.state.port);
  j["state_file"] = p.path;
  std::optional<std::int64_t> uptime;
  if (e.state == "ok" && e.body.contains("uptime_s") && e.body["uptime_s"].is_number_integer())
    uptime = e.body["uptime_s"].get<std::int64_t>();
  else
    uptime = seconds_since(p.state.started_at);
  j["uptime_s"] = uptime ? json(*uptime) : json(nullptr);
  j["endpoint"] = e.state;
  j["status"] = e.state == "ok" ? e.body : json(nullptr);
  j["endpoint_error"] = e.detail.empty() ? json(nullptr) : json(e.detail);
  return j;
}

std::string counts_line(const json& requests) {
  auto n = [&](const char* k) { return requests.value(k, static_cast<std::uint64_t>(0)); };
  return fmt::format("{} total: {} proxied, {} local, {} refused, {} upstream errors", n("total"), n("proxied"),
                     n("local"), n("refused"), n("upstream_errors"));
}

/// "ready, token expires in 2841 s (max TTL in 6441 s), 2 logins, 5 renews", or the state and reason.
std::string auto_auth_line(const json& aa) {
  auto seconds = [&](const char* key) { return aa.contains(key) && aa[key].is_number() ? aa[key].dump() + " s" : "-"; };
  std::string out = aa.value("state", "?");
  if (aa.contains("reason")) out += ": " + aa.value("reason", "");
  return fmt::format("{}; token expires in {} (max TTL in {}), {} logins, {} renews, {} failures", out,
                     seconds("token_expires_in_s"), seconds("token_max_ttl_in_s"), aa.value("logins", 0),
                     aa.value("renews", 0), aa.value("failures", 0));
}

/// "\"read-only\"; 3 allowed, 1 refused", with the Unix socket's when it differs; "off" for none.
std::string policy_line(const json& pol) {
  const json tcp = pol.value("tcp", json("off"));
  const json unix_socket = pol.value("unix_socket", json(nullptr));
  auto label = [](const json& n) { return n == "off" ? std::string("off") : "\"" + n.get<std::string>() + "\""; };
  std::string out = label(tcp);
  if (unix_socket.is_string() && unix_socket != tcp) out += " on TCP, " + label(unix_socket) + " on the Unix socket";
  return fmt::format("{}; {} allowed, {} refused", out, pol.value("allowed", 0), pol.value("refused", 0));
}

/// "/home/u/.local/state/vault-proxy/audit.jsonl: 12 written, 0 dropped, 0 failed", and the last problem.
std::string audit_line(const json& au) {
  auto n = [&](const char* k) { return au.value(k, static_cast<std::uint64_t>(0)); };
  std::string out = fmt::format("{}: {} written, {} dropped, {} failed", au.value("path", "?"), n("written"),
                                n("dropped"), n("failed"));
  if (const json p = au.value("last_problem", json(nullptr)); p.is_string()) out += " (last problem: " + p.get<std::string>() + ")";
  return out;
}

void print_human(const FoundProxy& p, const EndpointResult& e, const json& j) {
  auto& out = std::cout;
  out << fmt::format("vault-proxy is running (pid {}, port {})\n", p.state.pid, p.state.port);
  auto row = [&](std::string_view label, const std::string& value) {
    out << fmt::format("  {:<12} {}\n", label, value);
  };
  row("url", j["url"].get<std::string>() +
                 (p.state.capability_file.empty() ? "" : " (capability prefix required; it is in " + p.state.capability_file + ")"));
  row("upstream", p.state.upstream.empty() ? "unknown" : p.state.upstream);
  row("version", p.state.version.empty() ? "unknown" : p.state.version);
  if (j["uptime_s"].is_number())
    row("uptime", fmt::format("{} (since {})", format_duration(j["uptime_s"].get<std::int64_t>()), p.state.started_at));
  if (e.state != "ok") {
    row("status", "not available: " + e.detail);
    row("state file", p.path);
    return;
  }
  const json& b = e.body;
  if (b.contains("connections")) row("connections", b["connections"].dump());
  if (b.contains("requests") && b["requests"].is_object()) row("requests", counts_line(b["requests"]));
  std::string diag;
  if (b.contains("diagnoses") && b["diagnoses"].is_object())
    for (auto& [k, v] : b["diagnoses"].items()) diag += fmt::format("{}{} {}", diag.empty() ? "" : ", ", k, v.dump());
  row("diagnoses", diag.empty() ? "none" : diag);
  const json le = b.value("last_error", json(nullptr));
  if (le.is_object())
    row("last error", fmt::format("{} at {}: {}", le.value("code", "?"), le.value("at", "?"), le.value("detail", "")));
  else
    row("last error", "none");
  const json cr = b.value("credentials", json(nullptr));
  if (cr.is_object() && cr.value("loaded", false))
    row("credentials", fmt::format("loaded from {}, fingerprint {} (version {})", cr.value("source", "?"),
                                   cr.value("fingerprint", "?"), cr.contains("version") ? cr["version"].dump() : "?"));
  else
    row("credentials", "NOT loaded: every proxied request gets 503 credentials_missing. Set CF_ACCESS_CLIENT_ID "
                       "and CF_ACCESS_CLIENT_SECRET and restart the proxy");
  if (const json aa = b.value("auto_auth", json(nullptr)); aa.is_object()) row("auto-auth", auto_auth_line(aa));
  if (const json pol = b.value("policy", json(nullptr)); pol.is_object()) row("policy", policy_line(pol));
  if (const json au = b.value("audit", json(nullptr)); au.is_object()) row("audit", audit_line(au));
  if (b.contains("pid") && b["pid"].is_number_integer() && b["pid"].get<int>() != p.state.pid)
    row("warning", fmt::format("the status endpoint on port {} answered for pid {}, not the recorded pid {}",
                               p.state.port, b["pid"].get<int>(), p.state.pid));
  row("state file", p.path);
}

}  // namespace

void add_status(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<StatusOptions>();
  auto* cmd = app.add_subcommand("status", "Show whether the proxy runs, with its pid, port, upstream, uptime, "
                                           "request counts by diagnosis, last error and credential fingerprint");
  cmd->add_option_function<std::uint16_t>("-p,--port", [options](std::uint16_t p) { options->port = p; },
                                          "only the proxy listening on this port")
      ->check(CLI::Range(1, 65535));
  cmd->add_flag("--json", options->json, "print JSON on stdout");
  cmd->footer("The proxy is found through its state file in $VAULT_PROXY_STATE_DIR (else "
              "$XDG_RUNTIME_DIR/vault-proxy, else /tmp/vault-proxy-<uid>). Exit codes: 0 running, "
              "1 the state directory is refused (another user's, or writable by others), 4 not running.");
  cmd->callback([options, &exit_code] { exit_code = run_status(*options, config::process_env()); });
}

int run_status(const StatusOptions& options, const config::Env& env) {
  Survey survey = survey_proxies(env, options.port);
  if (!survey.refused.empty()) {
    std::cerr << "vault-proxy status: " << survey.refused << "\n";
    if (options.json)
      std::cout << json{{"running", false}, {"state_dir", survey.dir}, {"refused", survey.refused}}.dump(2) << "\n";
    return exit_failure;
  }
  for (auto& n : survey.notes) std::cerr << "vault-proxy status: note: " << n << "\n";

  json proxies = json::array();
  std::vector<EndpointResult> endpoints;
  for (auto& p : survey.running) {
    endpoints.push_back(query_endpoint(p, options.timeout));
    proxies.push_back(proxy_json(p, endpoints.back()));
  }
  const bool running = !survey.running.empty();

  std::optional<std::string> port_holder;
  if (!running && options.port) port_holder = net_util::port_owner(*options.port);

  if (options.json) {
    json out{{"running", running}, {"state_dir", survey.dir}, {"proxies", proxies}, {"notes", survey.notes}};
    if (port_holder) out["port_in_use_by"] = *port_holder;
    std::cout << out.dump(2) << "\n";
    return running ? exit_ok : exit_not_running;
  }

  if (!running) {
    std::cout << fmt::format("vault-proxy is not running{} (no live proxy recorded in {}).\n",
                             options.port ? fmt::format(" on port {}", *options.port) : "", survey.dir);
    if (port_holder)
      std::cout << fmt::format("Port {} is in use by {}, which is not a proxy recorded there; 'vault-proxy doctor' "
                               "tells more.\n",
                               *options.port, *port_holder);
    std::cout << "Start it with 'vault-proxy serve' (or 'vault-proxy run -- <command>').\n";
    return exit_not_running;
  }
  for (std::size_t i = 0; i < survey.running.size(); ++i) {
    if (i) std::cout << "\n";
    print_human(survey.running[i], endpoints[i], proxies[i]);
  }
  return exit_ok;
}

}  // namespace vp::cli
