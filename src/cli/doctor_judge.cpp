// The verdicts of the checks that go to the proxy (listener, health, infisical, identity-login,
// secret reads), the premises on doctor's inputs, and what every verdict shares. The checks that
// go straight to the vault are judged in doctor_judge_vault.cpp.

#include "cli/doctor_judge.hpp"

#include <fmt/format.h>

#include "cli/doctor_runbook.hpp"
#include "core/authority.hpp"

namespace vp::cli::doctor {

using namespace runbook;

namespace {

CheckResult verdict(Status status, std::string message, std::string fix = {}) {
  CheckResult c;
  c.status = status;
  c.message = std::move(message);
  c.fix = std::move(fix);
  return c;
}

std::string secs(std::chrono::milliseconds ms) {
  if (ms.count() % 1000 == 0) return fmt::format("{} s", ms.count() / 1000);
  return fmt::format("{:.1f} s", static_cast<double>(ms.count()) / 1000.0);
}

std::optional<core::Diagnosis> diagnosis_from_name(std::string_view name) {
  if (name.empty()) return std::nullopt;
  for (int i = 0; i <= static_cast<int>(core::Diagnosis::upstream_server_error); ++i) {
    auto d = static_cast<core::Diagnosis>(i);
    if (core::diagnosis_name(d) == name) return d;
  }
  return std::nullopt;
}

/// The class of an answer the proxy relayed: the one it named in X-Vault-Proxy-Diagnosis (the body
/// of a replaced Cloudflare page no longer classifies), none for the proxy's own errors.
core::Diagnosis relayed_diagnosis(const Answer& a) {
  if (auto d = diagnosis_from_name(a.proxy_diagnosis)) return *d;
  return a.proxy_error.empty() ? a.diagnosis : core::Diagnosis::none;
}

/// The verdict for answers through the proxy that are not the check's own business (transport,
/// the proxy's errors, Cloudflare, 5xx); nullopt when the check must interpret the answer itself.
std::optional<CheckResult> judge_proxy_failure(const Answer& a, std::string_view what, std::string_view user_agent) {
  if (!a.answered) {
    auto c = verdict(Status::fail, fmt::format("{}: no answer from the proxy", what), std::string(fix_start_proxy));
    c.detail = a.error;
    return c;
  }
  CheckResult c = verdict(Status::fail, "");
  c.detail = fmt::format("{} → {}", what, describe(a));
  const auto d = relayed_diagnosis(a);
  if (a.proxy_error == "credentials_missing") {
    c.message = "the proxy has no Cloudflare Access service token loaded (503 credentials_missing)";
    c.fix = fix_restart_with_token;
  } else if (a.proxy_error.starts_with("upstream_")) {
    c.message = fmt::format("the proxy is running but cannot reach the vault ({} {})", a.status, a.proxy_error);
    c.fix = fix_symptom_6;
  } else if (!a.proxy_error.empty()) {
    c.message =
        fmt::format("the proxy refused the request ({} {}): {}", a.status, a.proxy_error, one_line(a.api_message));
    c.fix = "Check the proxy's log for this request; the message above says what it refused.";
  } else if (d == core::Diagnosis::cf_access_unauthenticated || d == core::Diagnosis::cf_access_forbidden) {
    c.message =
        fmt::format("Cloudflare Access rejected the proxy's service token ({} {})", a.status, core::diagnosis_name(d));
    c.fix = fix_mode_b;
  } else if (d == core::Diagnosis::cf_edge_block) {
    c.message = fmt::format("Cloudflare's edge blocked the proxy's request ({} cf_edge_block)", a.status);
    c.fix = fix_edge(user_agent);
  } else if (d == core::Diagnosis::cf_challenge) {
    c.message = fmt::format("Cloudflare challenged the proxy's request ({} cf_challenge)", a.status);
    c.fix = fix_challenge();
  } else if (d == core::Diagnosis::upstream_server_error) {
    c.message = fmt::format("the vault answered {} through the proxy", a.status);
    c.fix = fix_symptom_6;
  } else {
    return std::nullopt;
  }
  return c;
}

std::string read_what(const ReadObservation& o, std::string_view scope) {
  return fmt::format("get-secret {} at {}:{} ({})", o.key, o.environment, o.secret_path, scope);
}

}  // namespace

std::string describe(const Answer& a) {
  if (!a.answered) return "no answer (" + a.error + ")";
  std::string s = std::to_string(a.status);
  if (!a.content_type.empty()) s += " " + one_line(a.content_type, 60);
  if (!a.proxy_diagnosis.empty()) {
    s += " → " + one_line(a.proxy_diagnosis, 60);
  } else if (a.diagnosis != core::Diagnosis::none) {
    s += " → " + std::string(core::diagnosis_name(a.diagnosis));
  }
  if (a.status >= 300 && a.status < 400 && !a.location.empty()) s += ", Location: " + one_line(a.location, 160);
  if (!a.cf_mitigated.empty()) s += ", cf-mitigated: " + one_line(a.cf_mitigated, 40);
  if (!a.api_message.empty()) s += ", message: \"" + one_line(a.api_message) + "\"";
  return s;
}

// ---- Premises

std::optional<CheckResult> need_known_port(const Inputs& in) {
  if (in.cfg.port != 0) return std::nullopt;
  return verdict(Status::fail, "the configured port is 0 (ephemeral), so doctor cannot know where the proxy listens",
                 "Pass --port (or VAULT_PROXY_PORT) with the port from the proxy's 'listening on' line.");
}

std::optional<CheckResult> need_readable_service_token(const Inputs& in) {
  if (in.credentials.issues.empty()) return std::nullopt;
  auto c = verdict(Status::fail, "the service token in this environment cannot be read",
                   "Fix CF_ACCESS_CLIENT_ID / CF_ACCESS_CLIENT_SECRET (or their _FILE variants) as vault-proxy "
                   "serve reports them. Runbook failure mode B.");
  c.detail = config::format_issues(in.credentials.issues);
  return c;
}

std::optional<CheckResult> need_identity_variables(const Inputs& in) {
  const bool have_id = in.identity_client_id.has_value();
  const bool have_secret = in.identity_client_secret.has_value();
  if (have_id && have_secret) return std::nullopt;
  if (!have_id && !have_secret)
    return verdict(Status::skip, fmt::format("skipped: {} and {} are not set, so no login was tried", in.client_id_var,
                                             in.client_secret_var));
  return verdict(
      Status::warn,
      fmt::format("{} is set but {} is not, so no login was tried", have_id ? in.client_id_var : in.client_secret_var,
                  have_id ? in.client_secret_var : in.client_id_var),
      "Export both of the identity's variables (runbook Session start, step 3).");
}

std::optional<CheckResult> need_read_plan(const Inputs& in) {
  const auto& r = in.reads;
  if (!r.project_id && !r.environment && !r.in_scope_path && !r.key && !r.out_of_scope_path)
    return verdict(Status::skip, "skipped: pass --project-id, --environment, --in-scope-path and --key to test reads");
  std::string missing;
  auto note = [&](const std::optional<std::string>& v, const char* flag) {
    if (!v) missing += (missing.empty() ? "" : ", ") + std::string(flag);
  };
  note(r.project_id, "--project-id");
  note(r.environment, "--environment");
  note(r.in_scope_path, "--in-scope-path");
  note(r.key, "--key");
  if (missing.empty()) return std::nullopt;
  return verdict(Status::warn, "secret reads need " + missing + " as well; no read was tried",
                 "Pass all of --project-id, --environment, --in-scope-path and --key.");
}

CheckResult not_run(std::chrono::milliseconds budget) {
  // Not a skip: a diagnosis that could not finish must not end in "OK" (exit 0).
  return verdict(Status::fail,
                 fmt::format("not run: the overall time budget (--timeout {}) ran out before this check", secs(budget)),
                 "Re-run with a larger --timeout; the checks above show where the time went.");
}

// ---- 1. listener

std::string owner_process_name(const std::optional<std::string>& owner) {
  if (!owner) return {};
  auto open = owner->find('(');
  auto close = owner->rfind(')');
  if (open == std::string::npos || close == std::string::npos || close <= open) return {};
  return owner->substr(open + 1, close - open - 1);
}

CheckResult judge_listener(const ListenerObservation& o) {
  const std::string address = core::host_port(o.host, o.port);
  switch (o.dial) {
    case Dial::resolve_failed:
      return verdict(Status::fail, fmt::format("cannot resolve the listen address '{}': {}", o.host, o.error),
                     "Check VAULT_PROXY_LISTEN / --listen.");
    case Dial::connect_timed_out: {
      auto c = verdict(Status::fail, fmt::format("connecting to {} timed out", address), std::string(fix_start_proxy));
      c.detail = "something drops connections to this port (a firewall rule?) instead of refusing them";
      return c;
    }
    case Dial::connect_failed: {
      auto c = verdict(Status::fail, fmt::format("nothing is listening on {} ({})", address, o.error),
                       std::string(fix_start_proxy));
      c.detail = "runbook symptom 1: connection refused";
      return c;
    }
    case Dial::connected:
      break;
  }
  if (owner_process_name(o.owner) == "vault-proxy") {
    auto c = verdict(Status::pass, fmt::format("vault-proxy is listening on {}", address));
    c.detail = "owner: " + *o.owner;
    return c;
  }
  // The owner is not visible (another user's process) or has another name (a renamed binary):
  // only vault-proxy answers /__vault-proxy/health with {"status":"ok"}.
  if (o.health_ok) {
    auto c = verdict(Status::pass, fmt::format("vault-proxy is listening on {}", address));
    c.detail = o.owner ? "owner: " + *o.owner + " (answers /__vault-proxy/health)"
                       : "the owning process is not visible to this user; it answers /__vault-proxy/health";
    return c;
  }
  auto c = verdict(Status::fail,
                   o.owner ? fmt::format("port {} is held by {}, not vault-proxy", o.port, *o.owner)
                           : fmt::format("something other than vault-proxy listens on {}", address),
                   "Port collision (runbook failure mode A): stop that process, or pick another port for the "
                   "proxy (VAULT_PROXY_PORT=<free port> vault-proxy serve) and regenerate .mcp.json with "
                   "vault-proxy mcp-config so that the MCP server follows it.");
  c.detail = "GET /__vault-proxy/health → " + describe(o.health);
  if (o.port == 2019) c.detail += "\n2019 is also the default port of Caddy's admin API.";
  return c;
}

// ---- 2. health

namespace {

/// "pid 4242, version 0.1.0, uptime 310 s, service token from env (fingerprint …)".
std::string status_line(const HealthObservation& o) {
  if (!o.status) return "version " + o.health_version;
  const ProxyStatus& s = *o.status;
  std::string line = fmt::format("pid {}, version {}, uptime {} s", s.pid, s.version, s.uptime_s);
  if (s.credentials && s.credentials->loaded) {
    line += fmt::format(", service token from {} (fingerprint {})", s.credentials->source, s.credentials->fingerprint);
  } else if (s.credentials) {
    line += ", no service token loaded";
  }
  return line;
}

std::string ready_line(const HealthObservation& o) {
  std::string line =
      "ready → " + (o.ready.answered ? std::to_string(o.ready.status) : "no answer (" + o.ready.error + ")");
  if (o.upstream_status) line += fmt::format(", upstream_status {}", *o.upstream_status);
  if (o.ready_reason) line += ", reason: " + one_line(*o.ready_reason, 300);
  return line;
}

}  // namespace

CheckResult judge_health(const HealthObservation& o) {
  if (!o.healthy) {
    auto c = verdict(Status::fail, "GET /__vault-proxy/health did not answer 200 {\"status\":\"ok\"}",
                     "Restart the proxy (vault-proxy stop; vault-proxy serve) and look at its log.");
    c.detail = describe(o.health);
    return c;
  }
  const ProxyCredentials* proxy_token = o.status && o.status->credentials ? &*o.status->credentials : nullptr;
  CheckResult c;
  c.detail = status_line(o) + "\n" + ready_line(o);
  if (proxy_token && !proxy_token->loaded) {
    c.status = Status::fail;
    c.message = "the proxy runs without a Cloudflare Access service token (every request gets 503)";
    c.fix = fix_restart_with_token;
  } else if (proxy_token && o.local_fingerprint && !proxy_token->fingerprint.empty() &&
             proxy_token->fingerprint != *o.local_fingerprint) {
    c.status = Status::warn;
    c.message = "the proxy runs with a different service token than the one in this environment";
    c.detail += fmt::format("\nthis environment's token: fingerprint {}", *o.local_fingerprint);
    c.fix =
        "If the token was rotated, restart the proxy with the new one (vault-proxy stop; "
        "vault-proxy serve). Otherwise doctor's access check tests another token than the proxy uses.";
  } else if (!o.is_ready) {
    c.status = Status::warn;
    c.message = "the proxy is up but not ready: its probe of the vault did not get 200";
    c.fix = "The upstream, access and infisical checks below name the cause.";
  } else {
    c.status = Status::pass;
    c.message = "the proxy is up and ready (its probe of the vault got 200)";
  }
  return c;
}

// ---- 5. infisical

CheckResult judge_infisical(const InfisicalObservation& o) {
  if (o.ok)
    return verdict(Status::pass, "Infisical answers through the proxy: GET /api/status → 200 {\"message\":\"Ok\"}");
  const std::string what = "GET /api/status through the proxy";
  if (auto c = judge_proxy_failure(o.answer, what, o.user_agent)) return *c;
  auto c = o.answer.status == 200
               ? verdict(Status::fail, "GET /api/status answered 200 but not Infisical's {\"message\":\"Ok\"}",
                         "Check VAULT_PROXY_UPSTREAM: it must be the Infisical instance.")
               : verdict(Status::fail, fmt::format("GET /api/status through the proxy answered {}", o.answer.status),
                         "Check the proxy's log for this request and VAULT_PROXY_UPSTREAM.");
  c.detail = fmt::format("{} → {}", what, describe(o.answer));
  return c;
}

// ---- 6. identity-login

CheckResult judge_identity_login(const LoginObservation& o) {
  const std::string what = "POST /api/v1/auth/universal-auth/login through the proxy (one attempt)";
  if (o.token_length) {
    auto c = verdict(Status::pass,
                     fmt::format("the identity logged in through the proxy (token present, len={})", *o.token_length));
    c.detail = fmt::format("{} → 200, expiresIn {} s", what, o.expires_in);
    return c;
  }
  if (auto c = judge_proxy_failure(o.answer, what, o.user_agent)) {
    c->fix += fix_not_retried;
    return *c;
  }
  const unsigned status = o.answer.status;
  CheckResult c;
  if (status == 200) {
    c = verdict(Status::fail, "the login answered 200 without an accessToken (a login page, not Infisical?)",
                std::string(fix_mode_b));
  } else if (o.locked) {
    c = verdict(Status::fail, "the identity is temporarily locked after repeated wrong client secrets (401)",
                std::string(fix_locked));
  } else if (status == 401 || relayed_diagnosis(o.answer) == core::Diagnosis::origin_auth) {
    c = verdict(Status::fail,
                fmt::format("Infisical rejected the identity's credentials ({}) (failure mode C)", status),
                std::string(fix_mode_c));
  } else if (status == 429) {
    c = verdict(Status::fail, "Infisical rate-limited the login (429)",
                "Wait a minute and re-run doctor; something else is logging in very often.");
  } else {
    c = verdict(Status::fail, fmt::format("the login answered {}", status),
                "Check the proxy's log for this request." + std::string(fix_not_retried));
  }
  c.detail = what + " → " + describe(o.answer);
  return c;
}

// ---- 7. secret reads

CheckResult judge_secret_read(const ReadObservation& o) {
  const std::string what = read_what(o, "in scope");
  if (o.found) {
    auto c = verdict(Status::pass, fmt::format("{} is readable at {}:{} (value not shown, len={})", o.key,
                                               o.environment, o.secret_path, o.value_length.value_or(0)));
    c.detail = what + " → 200";
    return c;
  }
  if (auto c = judge_proxy_failure(o.answer, what, o.user_agent)) return *c;
  const auto d = relayed_diagnosis(o.answer);
  CheckResult c;
  if (d == core::Diagnosis::origin_rbac) {
    c = verdict(Status::fail,
                fmt::format("Infisical denied the in-scope read of {} at {} ({}): RBAC regression (failure mode D)",
                            o.key, o.secret_path, o.answer.status),
                std::string(fix_mode_d));
  } else if (d == core::Diagnosis::origin_auth) {
    c = verdict(Status::fail, fmt::format("Infisical refused the fresh access token ({})", o.answer.status),
                std::string(fix_mode_c));
  } else if (o.answer.status == 404) {
    c = verdict(Status::fail, fmt::format("{} was not found at {}:{}", o.key, o.environment, o.secret_path),
                "Pass a --key that exists at --in-scope-path in --environment (and the right --project-id).");
  } else {
    c = verdict(Status::fail, fmt::format("the in-scope read answered {}", o.answer.status),
                "Check --project-id and --environment, and the proxy's log for this request.");
  }
  c.detail = what + " → " + describe(o.answer);
  return c;
}

CheckResult judge_secret_scope(const ReadObservation& o) {
  const std::string what = read_what(o, "out of scope");
  if (o.found) {
    auto c = verdict(Status::warn,
                     fmt::format("the identity can read {} at {}, outside its scope: its privilege is too broad", o.key,
                                 o.secret_path),
                     std::string(fix_too_broad));
    c.detail = what + " → 200";
    return c;
  }
  const Answer& a = o.answer;
  CheckResult c;
  if (a.answered && a.status == 403 && relayed_diagnosis(a) == core::Diagnosis::origin_rbac) {
    c = verdict(Status::pass, fmt::format("the out-of-scope read at {} is refused (403), as expected", o.secret_path));
  } else if (a.answered && a.status == 404) {
    c = verdict(Status::warn,
                fmt::format("the out-of-scope read at {} was not refused (404 rather than 403): the identity "
                            "may have read access there",
                            o.secret_path),
                std::string(fix_too_broad));
  } else if (auto failure = judge_proxy_failure(a, what, o.user_agent)) {
    return *failure;
  } else {
    c = verdict(Status::warn, fmt::format("the out-of-scope read answered {}, not the expected 403", a.status),
                "Check --out-of-scope-path and the proxy's log for this request.");
  }
  c.detail = what + " → " + describe(a);
  return c;
}

}  // namespace vp::cli::doctor
