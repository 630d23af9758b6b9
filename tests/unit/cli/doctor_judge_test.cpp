// Tables over observations for the verdicts of doctor's checks that go to the proxy (listener,
// health, infisical, identity-login, secret reads) and for the premises on doctor's inputs. No
// sockets: each row is what a gather function would have recorded.

#include "cli/doctor_judge.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "unit/cli/doctor_judge_table.hpp"

namespace {

using namespace vp::cli::doctor;
using namespace vp::test::doctor;
using namespace std::chrono_literals;

// ---- what every verdict shares

TEST(DoctorJudgeDescribe, NamesStatusTypeClassLocationMitigationAndMessage) {
  EXPECT_EQ(describe(no_answer("connect 127.0.0.1:2019: Connection refused")),
            "no answer (connect 127.0.0.1:2019: Connection refused)");
  EXPECT_EQ(describe(answer(200)), "200");
  EXPECT_EQ(describe(access_login_redirect()),
            "302 text/html → cf_access_unauthenticated, Location: "
            "https://team.cloudflareaccess.com/cdn-cgi/access/login/vault.test?kid=0123abcd");
  // The proxy's X-Vault-Proxy-Diagnosis wins over the class of the JSON it replaced the page with.
  EXPECT_EQ(describe(relayed(403, "", "cf_access_forbidden", "Cloudflare Access rejected")),
            "403 application/json → cf_access_forbidden, message: \"Cloudflare Access rejected\"");
  Answer odd = answer(200, Diagnosis::none, "text/plain\r\nX-Injected: 1");
  EXPECT_EQ(describe(odd), "200 text/plain  X-Injected: 1") << "control bytes never reach the report";
}

TEST(DoctorJudgeBudget, ACheckTheBudgetDidNotReachFails) {
  expect_verdict(not_run(2000ms), {Status::fail,
                                   "not run: the overall time budget (--timeout 2 s) ran out before "
                                   "this check",
                                   "Re-run with a larger --timeout"});
  EXPECT_TRUE(contains(not_run(2500ms).message, "(--timeout 2.5 s)")) << not_run(2500ms).message;
}

// ---- premises

Inputs inputs() {
  Inputs in;
  in.cfg.port = 2019;
  return in;
}

TEST(DoctorPremises, PortZeroFailsTheListenerBeforeAnyDial) {
  auto in = inputs();
  EXPECT_EQ(need_known_port(in), std::nullopt);
  in.cfg.port = 0;
  auto c = need_known_port(in);
  ASSERT_TRUE(c);
  expect_verdict(*c, {Status::fail,
                      "the configured port is 0 (ephemeral), so doctor cannot know where the proxy "
                      "listens",
                      "Pass --port (or VAULT_PROXY_PORT)"});
}

TEST(DoctorPremises, AnUnreadableServiceTokenFailsAccessAndNamesTheIssue) {
  auto in = inputs();
  EXPECT_EQ(need_readable_service_token(in), std::nullopt);
  in.credentials.issues.push_back({"CF_ACCESS_CLIENT_SECRET_FILE", "cannot read /run/x", "check the path"});
  auto c = need_readable_service_token(in);
  ASSERT_TRUE(c);
  expect_verdict(*c, {Status::fail, "the service token in this environment cannot be read", "Runbook failure mode B."});
  EXPECT_TRUE(contains(c->detail, "CF_ACCESS_CLIENT_SECRET_FILE")) << c->detail;
}

TEST(DoctorPremises, IdentityLoginNeedsBothVariables) {
  struct Row {
    bool id, secret;
    std::optional<Expect> verdict;
  };
  const std::vector<Row> rows = {
      {false, false, Expect{Status::skip, "skipped: MY_ID and MY_SECRET are not set, so no login was tried", ""}},
      {true, false,
       Expect{Status::warn, "MY_ID is set but MY_SECRET is not, so no login was tried",
              "Export both of the identity's variables (runbook Session start, step 3)."}},
      {false, true, Expect{Status::warn, "MY_SECRET is set but MY_ID is not, so no login was tried", "step 3"}},
      {true, true, std::nullopt},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(::testing::Message() << "id " << row.id << ", secret " << row.secret);
    auto in = inputs();
    in.client_id_var = "MY_ID";
    in.client_secret_var = "MY_SECRET";
    if (row.id) in.identity_client_id.emplace("id-value");
    if (row.secret) in.identity_client_secret.emplace("secret-value");
    auto c = need_identity_variables(in);
    ASSERT_EQ(c.has_value(), row.verdict.has_value());
    if (c) expect_verdict(*c, *row.verdict);
  }
}

TEST(DoctorPremises, SecretReadsNeedTheWholePlan) {
  const std::string s = "x";
  struct Row {
    ReadPlan plan;
    std::optional<Expect> verdict;
  };
  const std::vector<Row> rows = {
      {{},
       Expect{Status::skip, "skipped: pass --project-id, --environment, --in-scope-path and --key to test reads", ""}},
      {{s, s, s, s, std::nullopt}, std::nullopt},
      {{s, s, s, s, s}, std::nullopt},
      {{s, std::nullopt, s, std::nullopt, std::nullopt},
       Expect{Status::warn, "secret reads need --environment, --key as well; no read was tried",
              "Pass all of --project-id, --environment, --in-scope-path and --key."}},
      {{std::nullopt, std::nullopt, std::nullopt, std::nullopt, s},
       Expect{Status::warn,
              "secret reads need --project-id, --environment, --in-scope-path, --key as well; no read was tried",
              "Pass all of"}},
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    SCOPED_TRACE(i);
    auto in = inputs();
    in.reads = rows[i].plan;
    auto c = need_read_plan(in);
    ASSERT_EQ(c.has_value(), rows[i].verdict.has_value());
    if (c) expect_verdict(*c, *rows[i].verdict);
  }
}

// ---- 1. listener

ListenerObservation listening(std::optional<std::string> owner, std::uint16_t port = 2019) {
  ListenerObservation o;
  o.host = "127.0.0.1";
  o.port = port;
  o.owner = std::move(owner);
  return o;
}

TEST(DoctorJudgeListener, FailureModeAAndItsLookAlikes) {
  const std::string collision = "Port collision (runbook failure mode A)";
  auto refused = listening(std::nullopt);
  refused.dial = Dial::connect_failed;
  refused.error = "Connection refused";
  auto dropped = listening(std::nullopt);
  dropped.dial = Dial::connect_timed_out;
  dropped.error = "The socket was closed due to a timeout";
  auto unresolved = listening(std::nullopt);
  unresolved.host = "proxy.invalid";
  unresolved.dial = Dial::resolve_failed;
  unresolved.error = "Host not found";
  auto renamed = listening("pid 77 (vp-renamed)");
  renamed.health_ok = true;
  auto invisible_proxy = listening(std::nullopt);
  invisible_proxy.health_ok = true;
  auto caddy = listening("pid 9 (caddy)");
  caddy.health = answer(404, Diagnosis::upstream_client_error, "text/plain");
  auto invisible_other = listening(std::nullopt, 8080);
  invisible_other.health = answer(200, Diagnosis::none, "text/html");

  expect_table<ListenerObservation>(
      {
          {"nothing listening",
           refused,
           {Status::fail, "nothing is listening on 127.0.0.1:2019 (Connection refused)", "vault-proxy serve"},
           "runbook symptom 1: connection refused"},
          {"connections dropped",
           dropped,
           {Status::fail, "connecting to 127.0.0.1:2019 timed out", "failure mode A"},
           "something drops connections to this port (a firewall rule?) instead of refusing them"},
          {"listen address does not resolve",
           unresolved,
           {Status::fail, "cannot resolve the listen address 'proxy.invalid': Host not found",
            "Check VAULT_PROXY_LISTEN / --listen."},
           ""},
          {"vault-proxy by name",
           listening("pid 4242 (vault-proxy)"),
           {Status::pass, "vault-proxy is listening on 127.0.0.1:2019", ""},
           "owner: pid 4242 (vault-proxy)"},
          {"renamed proxy",
           renamed,
           {Status::pass, "vault-proxy is listening on 127.0.0.1:2019", ""},
           "owner: pid 77 (vp-renamed) (answers /__vault-proxy/health)"},
          {"another user's proxy",
           invisible_proxy,
           {Status::pass, "vault-proxy is listening on 127.0.0.1:2019", ""},
           "the owning process is not visible to this user; it answers /__vault-proxy/health"},
          {"Caddy on 2019",
           caddy,
           {Status::fail, "port 2019 is held by pid 9 (caddy), not vault-proxy", collision},
           "GET /__vault-proxy/health → 404 text/plain → upstream_client_error\n"
           "2019 is also the default port of Caddy's admin API."},
          {"something invisible on 8080",
           invisible_other,
           {Status::fail, "something other than vault-proxy listens on 127.0.0.1:8080", "vault-proxy mcp-config"},
           "GET /__vault-proxy/health → 200 text/html"},
      },
      judge_listener);
}

TEST(DoctorJudgeListener, OwnerNameIsBetweenTheOuterParentheses) {
  EXPECT_EQ(owner_process_name(std::string("pid 1 (vault-proxy)")), "vault-proxy");
  EXPECT_EQ(owner_process_name(std::string("pid 1 (a (b))")), "a (b)");
  EXPECT_EQ(owner_process_name(std::string("pid 1")), "");
  EXPECT_EQ(owner_process_name(std::nullopt), "");
}

// ---- 2. health

HealthObservation healthy() {
  HealthObservation o;
  o.health = answer(200, Diagnosis::none, "application/json");
  o.healthy = true;
  o.health_version = "0.1.0";
  o.status = ProxyStatus{4242, "0.1.0", 310, ProxyCredentials{true, "env", "3f9a0c1d22e4"}};
  o.ready = answer(200, Diagnosis::none, "application/json");
  o.is_ready = true;
  o.upstream_status = 200;
  o.local_fingerprint = "3f9a0c1d22e4";
  return o;
}

TEST(DoctorJudgeHealth, UpReadyAndHoldingThisEnvironmentsTokenPasses) {
  auto c = judge_health(healthy());
  expect_verdict(c, {Status::pass, "the proxy is up and ready (its probe of the vault got 200)", ""});
  EXPECT_EQ(c.detail,
            "pid 4242, version 0.1.0, uptime 310 s, service token from env (fingerprint 3f9a0c1d22e4)\n"
            "ready → 200, upstream_status 200");
}

TEST(DoctorJudgeHealth, EachProblemOfTheRunningProxy) {
  auto unhealthy = healthy();
  unhealthy.health = answer(404, Diagnosis::upstream_client_error, "text/plain");
  unhealthy.healthy = false;
  auto no_token = healthy();
  no_token.status->credentials = ProxyCredentials{false, "?", ""};
  auto other_token = healthy();
  other_token.local_fingerprint = "00aa00aa00aa";
  auto not_ready = healthy();
  not_ready.ready = answer(503, Diagnosis::upstream_server_error, "application/json");
  not_ready.is_ready = false;
  not_ready.upstream_status = 403;
  not_ready.ready_reason = "the upstream answered 403 to GET /api/status through Cloudflare Access";
  auto no_status = healthy();
  no_status.status.reset();
  auto no_ready_answer = healthy();
  no_ready_answer.ready = no_answer("timed out");
  no_ready_answer.is_ready = false;
  no_ready_answer.upstream_status.reset();
  auto no_token_here = other_token;
  no_token_here.local_fingerprint.reset();

  const std::string ready_200 = "\nready → 200, upstream_status 200";
  const std::string status_line =
      "pid 4242, version 0.1.0, uptime 310 s, service token from env (fingerprint 3f9a0c1d22e4)";
  expect_table<HealthObservation>(
      {
          {"health does not answer ok",
           unhealthy,
           {Status::fail, "GET /__vault-proxy/health did not answer 200 {\"status\":\"ok\"}", "Restart the proxy"},
           "404 text/plain → upstream_client_error"},
          {"no service token loaded",
           no_token,
           {Status::fail, "the proxy runs without a Cloudflare Access service token (every request gets 503)",
            "Runbook failure mode B."},
           "pid 4242, version 0.1.0, uptime 310 s, no service token loaded" + ready_200},
          {"another token than this environment's",
           other_token,
           {Status::warn, "the proxy runs with a different service token than the one in this environment",
            "If the token was rotated"},
           status_line + ready_200 + "\nthis environment's token: fingerprint 00aa00aa00aa"},
          {"no token here to compare",
           no_token_here,
           {Status::pass, "the proxy is up and ready (its probe of the vault got 200)", ""},
           status_line + ready_200},
          {"not ready",
           not_ready,
           {Status::warn, "the proxy is up but not ready: its probe of the vault did not get 200",
            "The upstream, access and infisical checks below name the cause."},
           status_line +
               "\nready → 503, upstream_status 403, reason: the upstream answered 403 to GET /api/status through "
               "Cloudflare Access"},
          {"ready does not answer",
           no_ready_answer,
           {Status::warn, "the proxy is up but not ready: its probe of the vault did not get 200", "name the cause"},
           status_line + "\nready → no answer (timed out)"},
          {"an older proxy without /status",
           no_status,
           {Status::pass, "the proxy is up and ready (its probe of the vault got 200)", ""},
           "version 0.1.0" + ready_200},
      },
      judge_health);
}

// ---- 5. infisical, and what the proxy relays for every check through it

TEST(DoctorJudgeInfisical, ThroughTheProxy) {
  expect_table<InfisicalObservation>(
      {
          {"Ok",
           {answer(200), true, "ua"},
           {Status::pass, "Infisical answers through the proxy: GET /api/status → 200 {\"message\":\"Ok\"}", ""}},
          {"proxy gone",
           {no_answer("connect 127.0.0.1:2019: Connection refused"), false, "ua"},
           {Status::fail, "GET /api/status through the proxy: no answer from the proxy", "vault-proxy serve"}},
          {"credentials_missing",
           {relayed(503, "credentials_missing"), false, "ua"},
           {Status::fail, "the proxy has no Cloudflare Access service token loaded (503 credentials_missing)",
            "Restart vault-proxy with CF_ACCESS_CLIENT_ID"}},
          {"upstream_connect",
           {relayed(502, "upstream_connect"), false, "ua"},
           {Status::fail, "the proxy is running but cannot reach the vault (502 upstream_connect)",
            "runbook symptom 6"}},
          {"upstream_tls",
           {relayed(502, "upstream_tls"), false, "ua"},
           {Status::fail, "the proxy is running but cannot reach the vault (502 upstream_tls)", "runbook symptom 6"}},
          {"refused by the proxy",
           {relayed(400, "bad_request", "", "Host not allowed"), false, "ua"},
           {Status::fail, "the proxy refused the request (400 bad_request): Host not allowed", "the proxy's log"}},
          {"Access rejects the proxy's token",
           {relayed(403, "", "cf_access_forbidden"), false, "ua"},
           {Status::fail, "Cloudflare Access rejected the proxy's service token (403 cf_access_forbidden)",
            "Runbook failure mode B."}},
          {"edge block",
           {relayed(403, "", "cf_edge_block"), false, "vp-test/1.0"},
           {Status::fail, "Cloudflare's edge blocked the proxy's request (403 cf_edge_block)",
            "vault-proxy sends User-Agent 'vp-test/1.0'."}},
          {"challenge",
           {relayed(403, "", "cf_challenge"), false, "ua"},
           {Status::fail, "Cloudflare challenged the proxy's request (403 cf_challenge)",
            std::string(vp::core::diagnosis_message(Diagnosis::cf_challenge))}},
          {"5xx",
           {answer(502, Diagnosis::upstream_server_error, "text/html"), false, "ua"},
           {Status::fail, "the vault answered 502 through the proxy", "runbook symptom 6"}},
          {"200 but not Infisical",
           {answer(200, Diagnosis::none, "text/html"), false, "ua"},
           {Status::fail, "GET /api/status answered 200 but not Infisical's {\"message\":\"Ok\"}",
            "it must be the Infisical instance."}},
          {"404",
           {answer(404, Diagnosis::upstream_client_error), false, "ua"},
           {Status::fail, "GET /api/status through the proxy answered 404", "VAULT_PROXY_UPSTREAM"}},
      },
      judge_infisical);
}

TEST(DoctorJudgeInfisical, DetailNamesTheRequestAndTheAnswer) {
  auto c = judge_infisical({relayed(502, "upstream_connect"), false, "ua"});
  EXPECT_EQ(c.detail, "GET /api/status through the proxy → 502 application/json");
  EXPECT_EQ(judge_infisical({no_answer("connect: refused"), false, "ua"}).detail, "connect: refused");
}

// ---- 6. identity-login

TEST(DoctorJudgeIdentityLogin, FailureModeCAndNeverARetry) {
  const std::string not_retried = "Doctor does not retry the login.";
  LoginObservation locked{infisical_error(401, Diagnosis::origin_auth, "Identity is temporarily locked"), std::nullopt,
                          0, true, "ua"};
  expect_table<LoginObservation>(
      {
          {"token",
           {answer(200), 43, 7200, false, "ua"},
           {Status::pass, "the identity logged in through the proxy (token present, len=43)", ""}},
          {"401",
           {infisical_error(401, Diagnosis::origin_auth, "Invalid credentials"), std::nullopt, 0, false, "ua"},
           {Status::fail, "Infisical rejected the identity's credentials (401) (failure mode C)",
            "three wrong secrets lock the identity for 5 minutes"}},
          {"403 TokenError",
           {infisical_error(403, Diagnosis::origin_auth, "malformed"), std::nullopt, 0, false, "ua"},
           {Status::fail, "Infisical rejected the identity's credentials (403) (failure mode C)",
            "MCP_RO_CLIENT_SECRET"}},
          {"lockout",
           locked,
           {Status::fail, "the identity is temporarily locked after repeated wrong client secrets (401)",
            "Wait 5 minutes (Infisical's lockout)"}},
          {"429",
           {infisical_error(429, Diagnosis::upstream_client_error, "Too many"), std::nullopt, 0, false, "ua"},
           {Status::fail, "Infisical rate-limited the login (429)", "Wait a minute and re-run doctor"}},
          {"200 without a token",
           {answer(200, Diagnosis::none, "text/html"), std::nullopt, 0, false, "ua"},
           {Status::fail, "the login answered 200 without an accessToken (a login page, not Infisical?)",
            "Runbook failure mode B."}},
          {"other status",
           {answer(418, Diagnosis::upstream_client_error), std::nullopt, 0, false, "ua"},
           {Status::fail, "the login answered 418", "Check the proxy's log for this request. " + not_retried}},
          {"proxy gone",
           {no_answer("connect: refused"), std::nullopt, 0, false, "ua"},
           {Status::fail,
            "POST /api/v1/auth/universal-auth/login through the proxy (one attempt): no answer from the proxy",
            "Runbook failure mode A. " + not_retried}},
          {"Access rejects the proxy's token",
           {relayed(401, "", "cf_access_unauthenticated"), std::nullopt, 0, false, "ua"},
           {Status::fail, "Cloudflare Access rejected the proxy's service token (401 cf_access_unauthenticated)",
            "Runbook failure mode B. " + not_retried}},
      },
      judge_identity_login);
}

TEST(DoctorJudgeIdentityLogin, DetailShowsTheOneAttemptAndOnlyTheTokenLength) {
  auto pass = judge_identity_login({answer(200), 43, 7200, false, "ua"});
  EXPECT_EQ(pass.detail,
            "POST /api/v1/auth/universal-auth/login through the proxy (one attempt) → 200, expiresIn 7200 s");
  auto fail = judge_identity_login(
      {infisical_error(401, Diagnosis::origin_auth, "Invalid credentials"), std::nullopt, 0, false, "ua"});
  EXPECT_EQ(fail.detail,
            "POST /api/v1/auth/universal-auth/login through the proxy (one attempt) → 401 "
            "application/json; charset=utf-8 → origin_auth, message: \"Invalid credentials\"");
}

// ---- 7. secret reads

ReadObservation read(Answer a, bool found = false, std::optional<std::size_t> len = std::nullopt) {
  return {"KNOWN_KEY", "prod", "/MooseQuest", std::move(a), found, len, "ua"};
}

TEST(DoctorJudgeSecretRead, FailureModeDEscalates) {
  const auto denied = infisical_error(403, Diagnosis::origin_rbac, "You are not allowed to read on secrets");
  expect_table<ReadObservation>(
      {
          {"readable",
           read(answer(200), true, 20),
           {Status::pass, "KNOWN_KEY is readable at prod:/MooseQuest (value not shown, len=20)", ""}},
          {"403 PermissionDenied",
           read(denied),
           {Status::fail,
            "Infisical denied the in-scope read of KNOWN_KEY at /MooseQuest (403): RBAC regression (failure "
            "mode D)",
            "wake the operator"}},
          {"403 TokenError",
           read(infisical_error(403, Diagnosis::origin_auth, "The provided access token is malformed")),
           {Status::fail, "Infisical refused the fresh access token (403)", "Runbook failure mode C."}},
          {"404",
           read(infisical_error(404, Diagnosis::upstream_client_error, "Secret not found")),
           {Status::fail, "KNOWN_KEY was not found at prod:/MooseQuest", "Pass a --key that exists"}},
          {"400",
           read(infisical_error(400, Diagnosis::upstream_client_error, "bad workspace")),
           {Status::fail, "the in-scope read answered 400", "Check --project-id and --environment"}},
          {"5xx through the proxy",
           read(answer(500, Diagnosis::upstream_server_error)),
           {Status::fail, "the vault answered 500 through the proxy", "runbook symptom 6"}},
      },
      judge_secret_read);
  EXPECT_TRUE(contains(judge_secret_read(read(denied)).fix, "mcp-main-loop-read"));
  EXPECT_EQ(judge_secret_read(read(denied)).detail,
            "get-secret KNOWN_KEY at prod:/MooseQuest (in scope) → 403 application/json; charset=utf-8 → origin_rbac, "
            "message: \"You are not allowed to read on secrets\"");
}

TEST(DoctorJudgeSecretScope, OutsideTheScope403IsThePass) {
  expect_table<ReadObservation>(
      {
          {"403",
           read(infisical_error(403, Diagnosis::origin_rbac, "not allowed")),
           {Status::pass, "the out-of-scope read at /MooseQuest is refused (403), as expected", ""}},
          {"200",
           read(answer(200), true, 20),
           {Status::warn,
            "the identity can read KNOWN_KEY at /MooseQuest, outside its scope: its privilege is too broad",
            "Narrow the identity's additional privilege"}},
          {"404",
           read(infisical_error(404, Diagnosis::upstream_client_error, "Secret not found")),
           {Status::warn,
            "the out-of-scope read at /MooseQuest was not refused (404 rather than 403): the identity may "
            "have read access there",
            "out-of-scope paths must answer 403"}},
          {"400",
           read(infisical_error(400, Diagnosis::upstream_client_error, "bad workspace")),
           {Status::warn, "the out-of-scope read answered 400, not the expected 403", "Check --out-of-scope-path"}},
          {"proxy gone",
           read(no_answer("connect: refused")),
           {Status::fail, "get-secret KNOWN_KEY at prod:/MooseQuest (out of scope): no answer from the proxy",
            "vault-proxy serve"}},
          {"Access rejects the proxy's token",
           read(relayed(403, "", "cf_access_forbidden")),
           {Status::fail, "Cloudflare Access rejected the proxy's service token (403 cf_access_forbidden)",
            "Runbook failure mode B."}},
      },
      judge_secret_scope);
  EXPECT_EQ(judge_secret_scope(read(answer(200), true, 20)).detail,
            "get-secret KNOWN_KEY at prod:/MooseQuest (out of scope) → 200");
}

}  // namespace
