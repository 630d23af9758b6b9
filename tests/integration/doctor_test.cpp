// `vault-proxy doctor` against a fake vault (Cloudflare Access in front of Infisical) that shows one
// failure mode or diagnosis class per test. Each test runs the real binary with --json, asserts the
// exit code and the status of every check (golden-style), and the message/fix text of the check that
// names the cause. No test may find a secret in doctor's output.

#include "support/fake_upstream.hpp"
#include "support/lifetime_pki.hpp"
#include "support/proxy_fixture.hpp"
#include "support/proxy_process.hpp"
#include "support/secrets.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <csignal>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace vp::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

// ---- The fake vault.

/// What the fake vault does. The default is a healthy vault behind Access with a Service Auth policy.
struct Vault {
  enum class Reject { deny_403_html, deny_401, redirect_login };
  enum class Edge { none, challenge, block_1010 };

  bool access_in_front = true;
  bool token_accepted = true;                 ///< false: Access rejects even the right token (mode B)
  Reject reject = Reject::redirect_login;     ///< how Access turns a request away
  Edge edge = Edge::none;                     ///< Cloudflare's edge, before Access
  unsigned status_code = 200;                 ///< GET /api/status at the origin
  bool login_accepts = true;                  ///< false: 401 Invalid credentials (mode C)
  unsigned in_scope_status = 200;             ///< 403 = PermissionDenied (mode D)
  unsigned out_of_scope_status = 403;         ///< 200 = the identity is too broad
  bool stall_anonymous = false;               ///< requests without a service token stall for 10 s

  std::string cf_id, cf_secret;
  std::string identity_id, identity_secret;
  std::string access_token, secret_value;
  std::string in_scope_path = "/MooseQuest", out_of_scope_path = "/Other";
};

Response json_response(unsigned status, json body) {
  return Response::text(status, body.dump(), "application/json; charset=utf-8");
}

Response infisical_error(unsigned status, const std::string& error, const std::string& message) {
  return json_response(status, {{"reqId", "req-test"}, {"statusCode", status}, {"message", message}, {"error", error}});
}

std::string query_param(const std::string& target, const std::string& name) {
  auto q = target.find('?');
  if (q == std::string::npos) return {};
  std::string query = target.substr(q + 1);
  std::size_t pos = 0;
  while (pos <= query.size()) {
    auto amp = query.find('&', pos);
    std::string pair = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      std::string v = eq == std::string::npos ? "" : pair.substr(eq + 1);
      std::string out;
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '%' && i + 2 < v.size()) {
          out += static_cast<char>(std::stoi(v.substr(i + 1, 2), nullptr, 16));
          i += 2;
        } else {
          out += v[i];
        }
      }
      return out;
    }
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return {};
}

Response serve(const Vault& v, const RecordedRequest& req) {
  const bool has_token = req.header("CF-Access-Client-Id").has_value();
  if (v.stall_anonymous && !has_token) {
    Response r = Response::text(200, "late");
    r.stall_before_header = 10s;
    return r;
  }
  // Cloudflare's edge runs before Access.
  if (v.edge == Vault::Edge::challenge) {
    Response r = Response::text(403, "<!DOCTYPE html><html><title>Just a moment...</title></html>", "text/html");
    r.headers.push_back({"cf-mitigated", "challenge"});
    r.headers.push_back({"cf-ray", "8a1b2c3d4e5f-AMS"});
    return r;
  }
  if (v.edge == Vault::Edge::block_1010) return Response::text(403, "error code: 1010", "text/plain; charset=UTF-8");
  if (v.access_in_front) {
    const bool valid = req.header("CF-Access-Client-Id") == v.cf_id &&
                       req.header("CF-Access-Client-Secret") == v.cf_secret && v.token_accepted;
    if (!valid) {
      switch (v.reject) {
        case Vault::Reject::deny_403_html: {
          Response r = Response::text(
              403, "<!DOCTYPE html><html><head><title>Forbidden</title></head><body>Cloudflare Access: "
                   "you do not have access to this application.</body></html>",
              "text/html");
          r.headers.push_back({"cf-ray", "8a1b2c3d4e5f-AMS"});
          return r;
        }
        case Vault::Reject::deny_401:
          return Response::text(401, "", "text/html");
        case Vault::Reject::redirect_login: {
          Response r = Response::text(302, "", "text/html");
          r.headers.push_back({"Location",
                               "https://team.cloudflareaccess.com/cdn-cgi/access/login/vault.test?kid=0123abcd&"
                               "redirect_url=%2Fapi%2Fstatus"});
          return r;
        }
      }
    }
  }
  // Infisical.
  const std::string path = req.target.substr(0, req.target.find('?'));
  if (req.method == "GET" && path == "/api/status") {
    if (v.status_code != 200)
      return Response::text(v.status_code, "<html>502 Bad Gateway</html>", "text/html");
    return json_response(200, {{"date", "2026-06-20T15:31:00.000Z"}, {"message", "Ok"}, {"redisConfigured", true}});
  }
  if (req.method == "POST" && path == "/api/v1/auth/universal-auth/login") {
    auto body = json::parse(req.body, nullptr, false);
    const bool ok = v.login_accepts && body.is_object() && body.value("clientId", "") == v.identity_id &&
                    body.value("clientSecret", "") == v.identity_secret;
    if (!ok) return infisical_error(401, "UnauthorizedError", "Invalid credentials");
    return json_response(200, {{"accessToken", v.access_token},
                               {"expiresIn", 7200},
                               {"accessTokenMaxTTL", 7200},
                               {"tokenType", "Bearer"}});
  }
  if (req.method == "POST" && path == "/api/v1/auth/token/revoke")
    return json_response(200, {{"message", "Successfully revoked access token"}});
  if (req.method == "GET" && path.starts_with("/api/v3/secrets/raw/")) {
    if (req.header("Authorization") != "Bearer " + v.access_token)
      return infisical_error(403, "TokenError", "The provided access token is malformed");
    const std::string key = path.substr(std::string("/api/v3/secrets/raw/").size());
    const std::string secret_path = query_param(req.target, "secretPath");
    unsigned status = secret_path == v.in_scope_path ? v.in_scope_status
                      : secret_path == v.out_of_scope_path ? v.out_of_scope_status
                                                           : 404;
    if (status == 403)
      return infisical_error(403, "PermissionDenied", "You are not allowed to read on secrets");
    if (status == 404) return infisical_error(404, "NotFound", "Secret with name '" + key + "' not found");
    return json_response(200, {{"secret",
                                {{"id", "5f0e"},
                                 {"version", 1},
                                 {"type", "shared"},
                                 {"secretKey", key},
                                 {"secretValue", v.secret_value},
                                 {"secretPath", secret_path},
                                 {"secretValueHidden", false}}}});
  }
  return json_response(404, {{"message", "Route " + req.method + ":" + path + " not found"},
                             {"error", "Not Found"},
                             {"statusCode", 404}});
}

/// A 90-day certificate, so the healthy vault passes the expiry check.
const LifetimePki& healthy_pki() {
  static const LifetimePki pki(upstream_name, 90);
  return pki;
}

// ---- The fixture.

/// One doctor run.
struct DoctorRun {
  int exit_code = -1;
  std::string out;
  std::string err;
  json report;

  /// The check named `name` (an empty object when absent, which fails the caller's expectations).
  json check(const std::string& name) const {
    if (report.is_object() && report.contains("checks"))
      for (const auto& c : report["checks"])
        if (c.value("name", "") == name) return c;
    return json::object();
  }
  std::string status(const std::string& name) const { return check(name).value("status", "<absent>"); }
  std::string message(const std::string& name) const { return check(name).value("message", ""); }
  std::string fix(const std::string& name) const { return check(name).value("fix", ""); }
  std::string detail(const std::string& name) const { return check(name).value("detail", ""); }
  /// name → status for every check, in order, for golden comparisons.
  std::vector<std::pair<std::string, std::string>> statuses() const {
    std::vector<std::pair<std::string, std::string>> s;
    if (report.is_object() && report.contains("checks"))
      for (const auto& c : report["checks"]) s.emplace_back(c.value("name", ""), c.value("status", ""));
    return s;
  }
};

using Statuses = std::vector<std::pair<std::string, std::string>>;

class Doctor : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>("vp-doctor-");
    vault_.cf_id = random_token(16) + ".access";
    vault_.cf_secret = random_token(32);
    vault_.identity_id = "2e7e38d8-" + random_token(8);
    vault_.identity_secret = random_token(24);
    vault_.access_token = "eyJhbGciOiJIUzI1NiJ9." + random_token(32);
    vault_.secret_value = random_token(20);
  }

  void TearDown() override {
    if (proxy_ && proxy_->running()) {
      proxy_->send_signal(SIGTERM);
      auto code = proxy_->wait_exit(15s);
      EXPECT_EQ(code, std::optional<int>(0)) << "proxy exit after SIGTERM";
    }
    if (proxy_) {
      for (const std::string* s : secrets())
        EXPECT_TRUE(no_secret_in(proxy_->stderr_text() + proxy_->stdout_text(), *s, "proxy output"));
    }
    proxy_.reset();
    upstream_.reset();
  }

  /// The fake vault with the current `vault_` behaviour, serving `cert`; `ca` goes to doctor and proxy.
  void start_upstream(const CertFiles& cert = healthy_pki().leaf, const std::string& ca = healthy_pki().ca_pem) {
    ca_file_ = ca;
    Vault v = vault_;
    upstream_ = std::make_unique<FakeUpstream>(cert, [v](const RecordedRequest& r) { return serve(v, r); });
    connect_to_ = upstream_->address();
  }

  /// The real proxy on an ephemeral port, pointed at the fake vault.
  void start_proxy() {
    if (connect_to_.empty()) connect_to_ = "127.0.0.1:" + std::to_string(unused_port());
    auto env = base_env();
    env["VAULT_PROXY_PORT"] = "0";
    ProxyProcess::Options o;
    o.env = env;
    proxy_ = std::make_unique<ProxyProcess>(o);
    port_ = proxy_->port();
  }

  /// A .mcp.json as vault-proxy mcp-config writes it, for `port`, referencing the identity's variables.
  std::string write_mcp_json(std::uint16_t port, const std::string& id_var = "INFISICAL_MCP_CLIENT_ID",
                             const std::string& secret_var = "INFISICAL_MCP_CLIENT_SECRET") {
    json j{{"mcpServers",
            {{"other", {{"command", "node"}, {"args", {"server.js"}}}},
             {"infisical",
              {{"command", "npx"},
               {"args", {"-y", "@infisical/mcp@0.0.24"}},
               {"env",
                {{"INFISICAL_HOST_URL", "http://127.0.0.1:" + std::to_string(port)},
                 {"INFISICAL_UNIVERSAL_AUTH_CLIENT_ID", "${" + id_var + "}"},
                 {"INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET", "${" + secret_var + "}"},
                 {"NO_PROXY", "localhost,127.0.0.1,::1"}}}}}}}};
    std::string path = dir_->file("mcp.json");
    write_file(path, j.dump(2));
    return path;
  }

  std::map<std::string, std::string> base_env() const {
    return {{"VAULT_PROXY_UPSTREAM", std::string("https://") + upstream_name},
            {"VAULT_PROXY_CONNECT_TO", connect_to_.empty() ? "127.0.0.1:" + std::to_string(unused_port()) : connect_to_},
            {"VAULT_PROXY_CA_FILE", ca_file_},
            {"VAULT_PROXY_LISTEN", "127.0.0.1"},
            {"VAULT_PROXY_USER_AGENT", "vp-doctor-test/1.0"},
            {"CF_ACCESS_CLIENT_ID", vault_.cf_id},
            {"CF_ACCESS_CLIENT_SECRET", vault_.cf_secret}};
  }

  /// Flags for the optional checks: identity login and both reads.
  std::vector<std::string> read_args() const {
    return {"--project-id", "29b77751-f761-4afa-b3fa-2c842988f95c", "--environment", "prod",
            "--in-scope-path", vault_.in_scope_path, "--key", "KNOWN_KEY", "--out-of-scope-path",
            vault_.out_of_scope_path};
  }

  std::map<std::string, std::string> identity_env() const {
    return {{"INFISICAL_MCP_CLIENT_ID", vault_.identity_id}, {"INFISICAL_MCP_CLIENT_SECRET", vault_.identity_secret}};
  }

  /// Runs `vault-proxy doctor --json` (unless `json_output` is false) against port_ and waits for it.
  DoctorRun run_doctor(std::vector<std::string> args = {}, std::map<std::string, std::string> env_extra = {},
                       bool json_output = true) {
    ProxyProcess::Options o;
    o.env = base_env();
    o.env["VAULT_PROXY_PORT"] = std::to_string(port_);
    for (auto& [k, v] : env_extra) o.env[k] = v;
    o.args = {"doctor", "--timeout", "15"};
    if (json_output) o.args.push_back("--json");
    if (std::find(args.begin(), args.end(), "--mcp-json") == args.end()) {
      o.args.push_back("--mcp-json");
      o.args.push_back(mcp_json_.empty() ? write_mcp_json(port_) : mcp_json_);
    }
    o.args.insert(o.args.end(), args.begin(), args.end());
    o.wait_ready = false;
    ProxyProcess doctor(o);
    auto code = doctor.wait_exit(30s);
    DoctorRun run;
    run.exit_code = code.value_or(-1);
    run.out = doctor.stdout_text();
    run.err = doctor.stderr_text();
    if (json_output) {
      run.report = json::parse(run.out, nullptr, false);
      EXPECT_TRUE(run.report.is_object()) << "doctor --json printed no JSON object:\n" << run.out << run.err;
    }
    for (const std::string* s : secrets()) {
      EXPECT_TRUE(no_secret_in(run.out, *s, "doctor stdout"));
      EXPECT_TRUE(no_secret_in(run.err, *s, "doctor stderr"));
    }
    if (::testing::Test::HasFailure()) std::fprintf(stderr, "---- doctor stdout ----\n%s\n---- stderr ----\n%s\n",
                                                    run.out.c_str(), run.err.c_str());
    return run;
  }

  std::size_t logins() const {
    std::size_t n = 0;
    for (const auto& r : upstream_->requests())
      if (r.target == "/api/v1/auth/universal-auth/login") ++n;
    return n;
  }

  std::vector<const std::string*> secrets() const {
    return {&vault_.cf_id, &vault_.cf_secret, &vault_.identity_secret, &vault_.access_token, &vault_.secret_value};
  }

  Vault vault_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<FakeUpstream> upstream_;
  std::unique_ptr<ProxyProcess> proxy_;
  std::string connect_to_;
  std::string ca_file_ = healthy_pki().ca_pem;
  std::string mcp_json_;
  std::uint16_t port_ = 0;
};

/// The statuses of a run in which only the listed checks differ from a healthy, full run.
Statuses healthy_with(std::map<std::string, std::string> changes) {
  Statuses s{{"listener", "pass"},       {"health", "pass"},      {"upstream", "pass"},
             {"access", "pass"},         {"infisical", "pass"},   {"identity-login", "pass"},
             {"secret-read", "pass"},    {"secret-scope", "pass"}, {"mcp-json", "pass"}};
  for (auto& [name, status] : s)
    if (auto it = changes.find(name); it != changes.end()) status = it->second;
  return s;
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

// ---- Healthy.

TEST_F(Doctor, HealthyVaultPassesEveryCheckAndExitsZero) {
  start_upstream();
  start_proxy();
  auto run = run_doctor(read_args(), identity_env());
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.statuses(), healthy_with({}));
  EXPECT_EQ(run.report.value("ok", false), true);
  EXPECT_TRUE(contains(run.message("identity-login"), "token present, len=" + std::to_string(vault_.access_token.size())))
      << run.message("identity-login");
  EXPECT_TRUE(contains(run.message("secret-read"), "value not shown")) << run.message("secret-read");
  EXPECT_TRUE(contains(run.message("secret-scope"), "refused (403), as expected")) << run.message("secret-scope");
  EXPECT_TRUE(contains(run.detail("identity-login"), "revoked")) << run.detail("identity-login");
  EXPECT_EQ(logins(), 1u);
}

TEST_F(Doctor, TableOutputShowsEveryCheckAndNoSecret) {
  start_upstream();
  start_proxy();
  auto run = run_doctor(read_args(), identity_env(), /*json_output=*/false);
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_TRUE(contains(run.out, "CHECK")) << run.out;
  for (const char* row : {"listener", "health", "upstream", "access", "infisical", "identity-login", "secret-read",
                          "secret-scope", "mcp-json"})
    EXPECT_TRUE(contains(run.out, row)) << row << "\n" << run.out;
  EXPECT_TRUE(contains(run.out, "OK: 0 failed")) << run.out;
  EXPECT_FALSE(contains(run.out, "FAIL")) << run.out;
}

TEST_F(Doctor, WithoutIdentityVariablesTheirChecksSkipAndMcpJsonNamesThem) {
  start_upstream();
  start_proxy();
  auto run = run_doctor();
  // .mcp.json references both variables, so Claude Code started from this shell would give the MCP
  // server empty credentials: the other half of failure mode E.
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_TRUE(contains(run.message("mcp-json"), "INFISICAL_MCP_CLIENT_ID, INFISICAL_MCP_CLIENT_SECRET"))
      << run.message("mcp-json");
  EXPECT_TRUE(contains(run.fix("mcp-json"), "Export INFISICAL_MCP_CLIENT_ID")) << run.fix("mcp-json");
  EXPECT_EQ(run.statuses(), (Statuses{{"listener", "pass"},
                                      {"health", "pass"},
                                      {"upstream", "pass"},
                                      {"access", "pass"},
                                      {"infisical", "pass"},
                                      {"identity-login", "skip"},
                                      {"secret-read", "skip"},
                                      {"mcp-json", "fail"}}));
  EXPECT_EQ(logins(), 0u);
}

// ---- Failure mode A.

TEST_F(Doctor, NoProxyRunningIsModeAAndNamesThePort) {
  start_upstream();
  port_ = unused_port();
  auto run = run_doctor(read_args(), identity_env());
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.statuses(), healthy_with({{"listener", "fail"},
                                          {"health", "skip"},
                                          {"infisical", "skip"},
                                          {"identity-login", "skip"},
                                          {"secret-read", "skip"},
                                          {"secret-scope", "skip"}}));
  EXPECT_TRUE(contains(run.message("listener"), "nothing is listening on 127.0.0.1:" + std::to_string(port_)))
      << run.message("listener");
  EXPECT_TRUE(contains(run.fix("listener"), "vault-proxy serve")) << run.fix("listener");
  EXPECT_TRUE(contains(run.fix("listener"), "failure mode A"));
  EXPECT_TRUE(contains(run.message("health"), "not listening"));
  EXPECT_EQ(logins(), 0u) << "no login may be attempted when the proxy is not there";
}

TEST_F(Doctor, AnotherProcessOnThePortIsNamed) {
  start_upstream();
  // Something that is not vault-proxy holds the port: here, a TLS server in this test process.
  FakeUpstream squatter(shared_pki().valid);
  port_ = squatter.port();
  auto run = run_doctor();
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.status("listener"), "fail");
  EXPECT_EQ(run.status("health"), "skip");
  EXPECT_EQ(run.status("infisical"), "skip");
  const std::string pid = "pid " + std::to_string(::getpid());
  EXPECT_TRUE(contains(run.message("listener"), "is held by " + pid)) << run.message("listener");
  EXPECT_TRUE(contains(run.message("listener"), "not vault-proxy")) << run.message("listener");
  EXPECT_TRUE(contains(run.fix("listener"), "VAULT_PROXY_PORT")) << run.fix("listener");
  EXPECT_TRUE(contains(run.fix("listener"), "mcp-config")) << run.fix("listener");
}

// ---- Failure mode B and the Cloudflare classes.

struct AccessCase {
  Vault::Reject reject;
  std::string diagnosis;
  std::string shape;
};

class DoctorAccess : public Doctor, public ::testing::WithParamInterface<AccessCase> {};

TEST_P(DoctorAccess, RejectedServiceTokenIsModeB) {
  vault_.token_accepted = false;
  vault_.reject = GetParam().reject;
  start_upstream();
  start_proxy();
  auto run = run_doctor(read_args(), identity_env());
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.statuses(), healthy_with({{"health", "warn"},
                                          {"access", "fail"},
                                          {"infisical", "fail"},
                                          {"identity-login", "skip"},
                                          {"secret-read", "skip"},
                                          {"secret-scope", "skip"}}));
  EXPECT_TRUE(contains(run.message("access"), "Cloudflare Access rejected the service token")) << run.message("access");
  EXPECT_TRUE(contains(run.message("access"), GetParam().diagnosis)) << run.message("access");
  EXPECT_TRUE(contains(run.message("access"), GetParam().shape)) << run.message("access");
  EXPECT_TRUE(contains(run.fix("access"), "CF_ACCESS_CLIENT_SECRET")) << run.fix("access");
  EXPECT_TRUE(contains(run.fix("access"), "failure mode B")) << run.fix("access");
  EXPECT_TRUE(contains(run.message("infisical"), "Cloudflare Access rejected the proxy's service token"))
      << run.message("infisical");
  EXPECT_TRUE(contains(run.fix("infisical"), "failure mode B"));
  EXPECT_EQ(logins(), 0u) << "a login through a rejecting gate would only count toward the lockout";
}

INSTANTIATE_TEST_SUITE_P(
    Rejections, DoctorAccess,
    ::testing::Values(AccessCase{Vault::Reject::deny_403_html, "cf_access_forbidden", "deny page"},
                      AccessCase{Vault::Reject::deny_401, "cf_access_unauthenticated", "answered 401"},
                      AccessCase{Vault::Reject::redirect_login, "cf_access_unauthenticated", "Access login page"}),
    [](const auto& info) {
      switch (info.param.reject) {
        case Vault::Reject::deny_403_html: return std::string("Html403");
        case Vault::Reject::deny_401: return std::string("Status401");
        case Vault::Reject::redirect_login: return std::string("RedirectToLogin");
      }
      return std::string("x");
    });

TEST_F(Doctor, RedirectToLoginShowsTheLocation) {
  vault_.token_accepted = false;
  start_upstream();
  start_proxy();
  auto run = run_doctor();
  EXPECT_TRUE(contains(run.detail("access"), "team.cloudflareaccess.com/cdn-cgi/access/login")) << run.detail("access");
}

TEST_F(Doctor, ChallengeIsReportedAsChallenge) {
  vault_.edge = Vault::Edge::challenge;
  start_upstream();
  start_proxy();
  auto run = run_doctor();
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.status("access"), "fail");
  EXPECT_EQ(run.status("infisical"), "fail");
  EXPECT_TRUE(contains(run.message("access"), "cf_challenge")) << run.message("access");
  EXPECT_TRUE(contains(run.fix("access"), "Bot Fight Mode")) << run.fix("access");
  EXPECT_TRUE(contains(run.message("infisical"), "cf_challenge")) << run.message("infisical");
}

TEST_F(Doctor, EdgeBlock1010IsReportedAsEdgeBlock) {
  vault_.edge = Vault::Edge::block_1010;
  start_upstream();
  start_proxy();
  auto run = run_doctor();
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.status("access"), "fail");
  EXPECT_TRUE(contains(run.message("access"), "cf_edge_block")) << run.message("access");
  EXPECT_TRUE(contains(run.fix("access"), "vp-doctor-test/1.0")) << "the fix names the User-Agent: " << run.fix("access");
  EXPECT_TRUE(contains(run.message("infisical"), "cf_edge_block")) << run.message("infisical");
}

TEST_F(Doctor, AccessNotInFrontIsAWarning) {
  vault_.access_in_front = false;
  start_upstream();
  start_proxy();
  auto run = run_doctor({}, identity_env());
  EXPECT_EQ(run.exit_code, 0) << "a warning does not fail doctor";
  EXPECT_EQ(run.status("access"), "warn");
  EXPECT_TRUE(contains(run.message("access"), "not in front")) << run.message("access");
}

// ---- Symptom 6: the vault unreachable or failing behind the proxy.

TEST_F(Doctor, VaultServerErrorIsSymptom6) {
  vault_.status_code = 502;
  start_upstream();
  start_proxy();
  auto run = run_doctor();
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.status("access"), "fail");
  EXPECT_EQ(run.status("infisical"), "fail");
  EXPECT_TRUE(contains(run.message("access"), "the vault answered 502")) << run.message("access");
  EXPECT_TRUE(contains(run.fix("infisical"), "symptom 6")) << run.fix("infisical");
}

TEST_F(Doctor, UnreachableVaultFailsTransportAndProxyPath) {
  start_proxy();  // connect_to_ empty: the proxy and doctor dial a port nothing listens on
  auto run = run_doctor();
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.status("upstream"), "fail");
  EXPECT_EQ(run.status("access"), "skip");
  EXPECT_EQ(run.status("infisical"), "fail");
  EXPECT_TRUE(contains(run.message("upstream"), "cannot connect")) << run.message("upstream");
  EXPECT_TRUE(contains(run.message("infisical"), "upstream_connect")) << run.message("infisical");
  EXPECT_TRUE(contains(run.fix("infisical"), "symptom 6")) << run.fix("infisical");
}

// ---- TLS.

TEST_F(Doctor, ExpiredCertificateFailsTheTlsCheck) {
  start_upstream(shared_pki().expired, shared_pki().ca_pem);
  start_proxy();
  auto run = run_doctor();
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.status("upstream"), "fail");
  EXPECT_EQ(run.status("access"), "skip");
  EXPECT_EQ(run.status("infisical"), "fail");
  EXPECT_TRUE(contains(run.message("upstream"), "certificate has expired")) << run.message("upstream");
  EXPECT_TRUE(contains(run.fix("upstream"), "renew")) << run.fix("upstream");
  EXPECT_FALSE(contains(run.out, "verify_none"));
  EXPECT_TRUE(contains(run.message("infisical"), "upstream_tls")) << run.message("infisical");
  EXPECT_EQ(upstream_->request_count(), 0u) << "nothing may be sent over an unverified connection";
}

TEST_F(Doctor, CertificateExpiringSoonIsAWarning) {
  start_upstream(shared_pki().valid, shared_pki().ca_pem);  // valid for one day
  start_proxy();
  auto run = run_doctor({}, identity_env());
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.status("upstream"), "warn");
  // The leaf ends one day after it was made: 0 days and some hours left, or exactly 1 day when
  // doctor runs within the same second.
  const auto msg = run.message("upstream");
  EXPECT_TRUE(contains(msg, "expires in 0 days") || contains(msg, "expires in 1 day ")) << msg;
  EXPECT_EQ(run.status("access"), "pass");
}

// ---- Failure mode C.

TEST_F(Doctor, IdentityLogin401IsModeCWithExactlyOneAttempt) {
  vault_.login_accepts = false;
  start_upstream();
  start_proxy();
  auto run = run_doctor(read_args(), identity_env());
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.statuses(), healthy_with({{"identity-login", "fail"}, {"secret-read", "skip"}, {"secret-scope", "skip"}}));
  EXPECT_TRUE(contains(run.message("identity-login"), "failure mode C")) << run.message("identity-login");
  EXPECT_TRUE(contains(run.fix("identity-login"), "MCP_RO_CLIENT_SECRET")) << run.fix("identity-login");
  EXPECT_TRUE(contains(run.fix("identity-login"), "three wrong secrets lock")) << run.fix("identity-login");
  EXPECT_EQ(logins(), 1u) << "doctor must try the login exactly once";
}

TEST_F(Doctor, OnlyOneIdentityVariableIsAWarningWithoutLogin) {
  start_upstream();
  start_proxy();
  auto run = run_doctor({}, {{"INFISICAL_MCP_CLIENT_ID", vault_.identity_id}});
  EXPECT_EQ(run.exit_code, 1) << "the .mcp.json entry needs the secret too";
  EXPECT_TRUE(contains(run.message("mcp-json"), "not set here: INFISICAL_MCP_CLIENT_SECRET")) << run.message("mcp-json");
  EXPECT_EQ(run.status("identity-login"), "warn");
  EXPECT_TRUE(contains(run.message("identity-login"), "INFISICAL_MCP_CLIENT_SECRET is not")) << run.message("identity-login");
  EXPECT_EQ(logins(), 0u);
}

TEST_F(Doctor, IdentityVariablesCanBeRenamed) {
  start_upstream();
  start_proxy();
  mcp_json_ = write_mcp_json(port_, "MY_ID", "MY_SECRET");
  auto run = run_doctor({"--client-id-var", "MY_ID", "--client-secret-var", "MY_SECRET"},
                        {{"MY_ID", vault_.identity_id}, {"MY_SECRET", vault_.identity_secret}});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.status("identity-login"), "pass");
  EXPECT_EQ(logins(), 1u);
}

// ---- Failure mode D.

TEST_F(Doctor, InScopeRead403IsModeDAndEscalates) {
  vault_.in_scope_status = 403;
  start_upstream();
  start_proxy();
  auto run = run_doctor(read_args(), identity_env());
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.statuses(), healthy_with({{"secret-read", "fail"}}));
  EXPECT_TRUE(contains(run.message("secret-read"), "RBAC regression (failure mode D)")) << run.message("secret-read");
  EXPECT_TRUE(contains(run.fix("secret-read"), "mcp-main-loop-read")) << run.fix("secret-read");
  EXPECT_TRUE(contains(run.fix("secret-read"), "wake the operator")) << run.fix("secret-read");
  EXPECT_TRUE(contains(run.detail("secret-read"), "origin_rbac")) << run.detail("secret-read");
}

TEST_F(Doctor, ReadableOutOfScopePathIsAWarning) {
  vault_.out_of_scope_status = 200;
  start_upstream();
  start_proxy();
  auto run = run_doctor(read_args(), identity_env());
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.statuses(), healthy_with({{"secret-scope", "warn"}}));
  EXPECT_TRUE(contains(run.message("secret-scope"), "too broad")) << run.message("secret-scope");
}

// ---- Failure mode E.

TEST_F(Doctor, MissingMcpJsonIsAWarningBeforeStep4AndModeEWhenRequired) {
  start_upstream();
  start_proxy();
  const std::string missing = dir_->file("no-such/.mcp.json");
  // Runbook step 2 (doctor) comes before step 4 (mcp-config): every network check passing is a pass.
  auto early = run_doctor({"--mcp-json", missing}, identity_env());
  EXPECT_EQ(early.exit_code, 0);
  EXPECT_EQ(early.status("mcp-json"), "warn");
  EXPECT_TRUE(contains(early.fix("mcp-json"), "vault-proxy mcp-config")) << early.fix("mcp-json");

  auto run = run_doctor({"--mcp-json", missing, "--require-mcp-json"}, identity_env());
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.status("mcp-json"), "fail");
  EXPECT_TRUE(contains(run.message("mcp-json"), "does not exist")) << run.message("mcp-json");
  EXPECT_TRUE(contains(run.fix("mcp-json"), "vault-proxy mcp-config")) << run.fix("mcp-json");
  EXPECT_TRUE(contains(run.fix("mcp-json"), "failure mode E")) << run.fix("mcp-json");
}

TEST_F(Doctor, McpJsonForAnotherPortSaysSo) {
  start_upstream();
  start_proxy();
  mcp_json_ = write_mcp_json(static_cast<std::uint16_t>(port_ == 2019 ? 2020 : 2019));
  auto run = run_doctor({}, identity_env());
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.status("mcp-json"), "fail");
  EXPECT_TRUE(contains(run.message("mcp-json"), "but the proxy is configured for port " + std::to_string(port_)))
      << run.message("mcp-json");
}

// ---- Budget and usage.

TEST_F(Doctor, OneOverallTimeBudgetBoundsEveryStep) {
  vault_.stall_anonymous = true;  // doctor's request without a token never gets an answer in time
  start_upstream();
  start_proxy();
  ProxyProcess::Options o;
  o.env = base_env();
  o.env["VAULT_PROXY_PORT"] = std::to_string(port_);
  o.env["INFISICAL_MCP_CLIENT_ID"] = "id-referenced-by-mcp-json";
  o.env["INFISICAL_MCP_CLIENT_SECRET"] = "secret-referenced-by-mcp-json";
  o.args = {"doctor", "--json", "--timeout", "2", "--mcp-json", write_mcp_json(port_)};
  o.wait_ready = false;
  auto t0 = std::chrono::steady_clock::now();
  ProxyProcess doctor(o);
  auto code = doctor.wait_exit(20s);
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(code, std::optional<int>(1));
  EXPECT_LT(elapsed, 6s) << "doctor ran past its 2 s budget";
  auto report = json::parse(doctor.stdout_text(), nullptr, false);
  ASSERT_TRUE(report.is_object()) << doctor.stdout_text() << doctor.stderr_text();
  std::map<std::string, std::string> status;
  std::string infisical_message;
  for (const auto& c : report["checks"]) {
    status[c["name"]] = c["status"];
    if (c["name"] == "infisical") infisical_message = c["message"];
  }
  EXPECT_EQ(status["listener"], "pass");
  EXPECT_EQ(status["access"], "warn") << "the request without a token timed out";
  EXPECT_EQ(status["infisical"], "fail") << "a check the budget did not reach fails the run";
  EXPECT_TRUE(contains(infisical_message, "time budget")) << infisical_message;
  EXPECT_EQ(status["mcp-json"], "pass") << "the local file check needs no budget";
}

TEST_F(Doctor, ConfigurationErrorExitsTwo) {
  ProxyProcess::Options o;
  o.env = {{"VAULT_PROXY_PORT", "not-a-port"}};
  o.args = {"doctor"};
  o.wait_ready = false;
  ProxyProcess doctor(o);
  EXPECT_EQ(doctor.wait_exit(20s), std::optional<int>(2));
  EXPECT_TRUE(contains(doctor.stderr_text(), "configuration error")) << doctor.stderr_text();
}

}  // namespace
