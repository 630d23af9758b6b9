// The order of doctor's checks and what each requires, as data, and the runner that walks it. What
// a check does is elsewhere: its I/O in doctor_gather.cpp, its verdict in doctor_judge*.cpp.

#include "cli/doctor_checks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <variant>
#include <vault_proxy/version.hpp>
#include <vector>

#include "cli/doctor_gather.hpp"
#include "cli/doctor_judge.hpp"
#include "core/authority.hpp"
#include "core/redact.hpp"

namespace vp::cli::doctor {
namespace {

using namespace std::chrono_literals;

/// What an earlier check must have come to.
enum class Outcome { passed, passed_or_warned };

/// A premise on an earlier check: when it did not come to `at_least`, this one is skipped with
/// `otherwise` and does no I/O.
struct After {
  std::string_view check;
  Outcome at_least = Outcome::passed;
  std::string_view otherwise;
};

/// A premise on doctor's inputs: the verdict when they are missing (doctor_judge.hpp), else nullopt.
using Needs = std::optional<CheckResult> (*)(const Inputs&);

using Requirement = std::variant<After, Needs>;

/// Whether a check spends the overall time budget: one the budget did not reach is `fail`.
enum class Cost { network, local };

using Run = net::awaitable<CheckResult> (*)(Session&);

/// One row of the runbook's "How to diagnose (in order)".
struct Check {
  std::string_view name;
  std::vector<Requirement> premises;  ///< in order; the first that does not hold decides
  Run run;
  bool (*listed)(const Inputs&) = nullptr;  ///< null: always in the report
  Cost cost = Cost::network;
};

template <auto gather, auto judge>
net::awaitable<CheckResult> gather_then_judge(Session& s) {
  auto observed = co_await gather(s);
  co_return judge(observed);
}

/// Check 8 needs no network: its gather is reading the file, its judge evaluate_mcp_json.
net::awaitable<CheckResult> run_mcp_json(Session& s) {
  co_return evaluate_mcp_json(s.in.mcp_json, read_text_file(s.in.mcp_json.path), s.proxy_host, s.in.cfg.port, s.in.env);
}

bool has_out_of_scope_path(const Inputs& in) { return in.reads.out_of_scope_path.has_value(); }

constexpr std::string_view not_listening = "skipped: vault-proxy is not listening (see listener)";
constexpr std::string_view no_access_token = "skipped: no access token (identity-login did not pass)";

const std::vector<Check>& checks() {
  static const std::vector<Check> list = {
      {"listener", {need_known_port}, gather_then_judge<gather_listener, judge_listener>},
      {"health", {After{"listener", Outcome::passed, not_listening}}, gather_then_judge<gather_health, judge_health>},
      {"upstream", {}, gather_then_judge<gather_upstream, judge_upstream>},
      {"access",
       {After{"upstream", Outcome::passed_or_warned, "skipped: no verified TLS connection to the vault (see upstream)"},
        need_readable_service_token},
       gather_then_judge<gather_access, judge_access>},
      {"infisical",
       {After{"listener", Outcome::passed, not_listening}},
       gather_then_judge<gather_infisical, judge_infisical>},
      // A login through a broken path would only count toward the identity's lockout.
      {"identity-login",
       {need_identity_variables,
        After{"infisical", Outcome::passed,
              "skipped: the vault does not answer through the proxy (see infisical); no login was tried, so "
              "nothing counts toward the identity's lockout"}},
       gather_then_judge<gather_login, judge_identity_login>},
      {"secret-read",
       {need_read_plan, After{"identity-login", Outcome::passed, no_access_token}},
       gather_then_judge<gather_read_in_scope, judge_secret_read>},
      {"secret-scope",
       {need_read_plan, After{"identity-login", Outcome::passed, no_access_token}},
       gather_then_judge<gather_read_out_of_scope, judge_secret_scope>,
       has_out_of_scope_path},
      {"mcp-json", {}, run_mcp_json, nullptr, Cost::local},
  };
  return list;
}

const CheckResult* find(const std::vector<CheckResult>& results, std::string_view name) {
  auto it = std::find_if(results.begin(), results.end(), [&](const CheckResult& r) { return r.name == name; });
  return it == results.end() ? nullptr : &*it;
}

/// The verdict of the first premise that does not hold; nullopt when the check may run.
std::optional<CheckResult> unmet_premise(const Check& check, const Inputs& in,
                                         const std::vector<CheckResult>& earlier) {
  for (const Requirement& premise : check.premises) {
    if (const auto* needs = std::get_if<Needs>(&premise)) {
      if (auto verdict = (*needs)(in)) return verdict;
      continue;
    }
    const auto& after = std::get<After>(premise);
    const CheckResult* r = find(earlier, after.check);
    const bool held = r != nullptr && (r->status == Status::pass ||
                                       (after.at_least == Outcome::passed_or_warned && r->status == Status::warn));
    if (!held) {
      CheckResult skipped;
      skipped.status = Status::skip;
      skipped.message = after.otherwise;
      return skipped;
    }
  }
  return std::nullopt;
}

/// Belt and braces: whatever path a secret took into a result, its bytes do not leave.
void scrub(std::vector<CheckResult>& results, Session& s) {
  std::vector<std::string> needles;
  auto add = [&](const core::Secret& secret) { needles.emplace_back(secret.reveal()); };
  if (s.token) {
    add(s.token->client_id);
    add(s.token->client_secret);
  }
  if (s.in.identity_client_secret) add(*s.in.identity_client_secret);
  if (s.access_token) add(*s.access_token);
  for (const auto& secret : s.seen) add(secret);
  for (auto& r : results)
    for (std::string* field : {&r.message, &r.detail, &r.fix}) *field = core::redact(*field, needles);
  for (auto& n : needles) core::wipe(n);
}

net::awaitable<std::vector<CheckResult>> run_all(Session& s) {
  std::vector<CheckResult> results;
  for (const Check& check : checks()) {
    if (check.listed != nullptr && !check.listed(s.in)) continue;
    CheckResult c;
    if (check.cost == Cost::network && s.budget_spent()) {
      c = not_run(s.in.budget);
    } else if (auto unmet = unmet_premise(check, s.in, results)) {
      c = std::move(*unmet);
    } else {
      c = co_await check.run(s);
    }
    c.name = std::string(check.name);
    results.push_back(std::move(c));
  }
  // Hygiene: the token doctor obtained is of no further use; do not leave it valid for its TTL.
  if (auto revoked = co_await revoke_access_token(s)) {
    for (auto& r : results)
      if (r.name == "identity-login")
        r.detail +=
            *revoked ? "; the access token was revoked afterwards" : "; revoking the access token afterwards failed";
  }
  scrub(results, s);
  co_return results;
}

}  // namespace

std::string proxy_dial_host(const config::Config& cfg) {
  if (cfg.listen == "0.0.0.0" || cfg.listen.empty()) return "127.0.0.1";
  if (cfg.listen == "::" || cfg.listen == "[::]") return "::1";
  return cfg.listen;
}

Report run_checks(const Inputs& inputs) {
  net::io_context ioc;
  Session session(inputs, ioc.get_executor());
  std::exception_ptr failure;
  std::vector<CheckResult> results;
  net::co_spawn(ioc, run_all(session), [&](std::exception_ptr e, std::vector<CheckResult> r) {
    failure = e;
    results = std::move(r);
  });
  ioc.run();
  if (failure) std::rethrow_exception(failure);
  Report report;
  report.version = vp::version;
  report.proxy = "http://" + core::host_port(session.proxy_host, inputs.cfg.port);
  report.upstream = inputs.cfg.upstream.url();
  if (inputs.cfg.connect_to)
    report.upstream +=
        fmt::format(" (dialing {})", core::host_port(inputs.cfg.connect_to->host, inputs.cfg.connect_to->port));
  report.checks = std::move(results);
  return report;
}

}  // namespace vp::cli::doctor
