// Reach (issue 3, docs/security.md §2.1–2.4 and §2.6): who can get a request through the proxy.
// Each rule is driven with hostile input against the real binary and the in-process TLS upstream:
// a refused request is checked for its status, its X-Vault-Proxy-Error code and for reaching
// nothing upstream; an allowed one for what the upstream received.

#include "support/proxy_fixture.hpp"
#include "support/secrets.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <future>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace {

using namespace vp::test;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// Replaces every `from` in `s` with `to`.
std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
  return s;
}

/// Permission bits of `path` (0 if it does not exist); lstat, so a symlink is not followed.
struct FileInfo {
  bool exists = false;
  mode_t type = 0;
  mode_t mode = 0;
  uid_t uid = 0;
};
FileInfo file_info(const std::string& path) {
  struct stat st {};
  FileInfo f;
  if (::lstat(path.c_str(), &st) != 0) return f;
  f.exists = true;
  f.type = st.st_mode & S_IFMT;
  f.mode = st.st_mode & 07777;
  f.uid = st.st_uid;
  return f;
}

std::string octal(mode_t m) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0%o", static_cast<unsigned>(m));
  return buf;
}

class Reach : public ProxyTest {
 protected:
  /// The Host value a well-behaved local client sends.
  std::string self_host() const { return "127.0.0.1:" + std::to_string(port()); }

  /// A port that is not the proxy's.
  std::string other_port() const { return std::to_string(port() == 65535 ? 1024 : port() + 1); }

  /// `{P}` → the proxy's port, `{O}` → another port, `{H}` → 127.0.0.1:{P}.
  std::string fill(const std::string& s) const {
    return replace_all(replace_all(replace_all(s, "{H}", self_host()), "{P}", std::to_string(port())), "{O}",
                       other_port());
  }

  /// One request on a fresh connection, with a short deadline so a hang fails instead of stalling.
  ClientResponse exchange(const ClientRequest& req) {
    HttpClient c(port(), 5s);
    return c.request(req);
  }
  ClientResponse exchange_raw(const std::string& bytes) {
    HttpClient c(port(), 5s);
    c.send_raw(bytes);
    return c.read_response();
  }

  /// A refusal made by the proxy: status, exactly one X-Vault-Proxy-Error, JSON body with the code.
  static void expect_refused(const ClientResponse& res, unsigned status, const std::string& code) {
    EXPECT_EQ(res.status, status) << res.body;
    EXPECT_EQ(res.values("X-Vault-Proxy-Error"), std::vector<std::string>{code}) << dump(res.headers);
    auto body = parse_error_body(res.body);
    EXPECT_TRUE(body.valid_json) << res.body;
    EXPECT_EQ(body.error, code) << res.body;
  }

  /// A forwarded answer: the fake upstream's default 200 "ok", no proxy error.
  static void expect_forwarded(const ClientResponse& res) {
    EXPECT_EQ(res.status, 200u) << res.body << "\n" << dump(res.headers);
    EXPECT_EQ(res.body, "ok");
    EXPECT_EQ(res.count("X-Vault-Proxy-Error"), 0u) << dump(res.headers);
  }

  /// docs/security.md §2.2: the proxy never emits CORS headers.
  static void expect_no_cors(const ClientResponse& res) {
    for (const auto& f : res.headers)
      EXPECT_FALSE(lower(f.name).starts_with("access-control-"))
          << "a response carries a CORS header: " << f.name << ": " << f.value;
  }

  /// Sends `barrier` (which must be forwarded) and returns the targets the upstream saw before it.
  /// Once the barrier is answered, anything an earlier request caused upstream has arrived.
  std::vector<std::string> upstream_targets_before(const std::string& barrier) {
    ClientRequest req;
    req.target = barrier;
    auto res = exchange(req);
    EXPECT_EQ(res.status, 200u) << "barrier " << barrier << ": " << res.body;
    std::vector<std::string> targets;
    for (const auto& r : upstream().requests()) targets.push_back(r.target);
    EXPECT_FALSE(targets.empty());
    if (!targets.empty()) {
      EXPECT_EQ(targets.back(), "/__barrier") << "the barrier did not arrive as the last request";
      targets.pop_back();
    }
    return targets;
  }
};

// ---- 1. loopback only (§2.1) ------------------------------------------------------------------

struct ListenCase {
  std::string name;
  std::string listen;
  std::map<std::string, std::string> extra_env;
};
std::ostream& operator<<(std::ostream& os, const ListenCase& c) { return os << c.name; }

class ReachLoopback : public Reach, public ::testing::WithParamInterface<ListenCase> {};

TEST_P(ReachLoopback, NonLoopbackListenWithoutTheFlagExits2AndNeverListens) {
  const auto& c = GetParam();
  std::map<std::string, std::string> env = c.extra_env;
  env["VAULT_PROXY_LISTEN"] = c.listen;
  start(ProxySetup{}.with_env(env).without_waiting_for_ready());
  auto code = proxy().wait_exit(10s);
  stopped_by_test_ = true;
  ASSERT_TRUE(code.has_value()) << "the proxy kept running with VAULT_PROXY_LISTEN=" << c.listen;
  EXPECT_EQ(*code, 2);
  const std::string err = proxy().stderr_text();
  EXPECT_NE(err.find("--unsafe-listen"), std::string::npos) << "the message must name the flag\n" << err;
  EXPECT_NE(err.find(c.listen), std::string::npos) << "the message should name the address\n" << err;
  EXPECT_EQ(err.find("listening on"), std::string::npos) << "it must refuse before binding\n" << err;
  EXPECT_EQ(upstream().connections(), 0u);
  expect_no_secrets_in_output();
}

INSTANTIATE_TEST_SUITE_P(
    Reach, ReachLoopback,
    ::testing::Values(ListenCase{"AnyV4", "0.0.0.0", {}}, ListenCase{"AnyV6", "::", {}},
                      ListenCase{"LanAddress", "192.0.2.10", {}},
                      // --unsafe-listen is a flag only: an environment variable of that name is no way round it.
                      ListenCase{"AnyV4WithUnsafeListenEnv", "0.0.0.0", {{"VAULT_PROXY_UNSAFE_LISTEN", "true"}}}),
    [](const auto& info) { return info.param.name; });

// ---- 2. Host allowlist (§2.2, DNS rebinding) --------------------------------------------------

struct HostCase {
  std::string name;
  std::vector<std::string> hosts;  ///< Host fields to send ({P}, {O} filled in); none = no Host
  std::string version = "HTTP/1.1";
  unsigned status = 200;           ///< 200: forwarded
  std::string code;                ///< refusal code
};

class ReachHost : public Reach {};

TEST_F(ReachHost, OnlyLoopbackNamesOnOurPortAndConfiguredNamesAreAccepted) {
  start(ProxySetup{}.with_env({{"VAULT_PROXY_ALLOWED_HOSTS", "vault-proxy.internal, second.internal"}}));
  const std::vector<HostCase> cases = {
      // Accepted.
      {"Localhost", {"localhost:{P}"}, "HTTP/1.1", 200, ""},
      {"Ipv4Loopback", {"127.0.0.1:{P}"}, "HTTP/1.1", 200, ""},
      {"Ipv6Loopback", {"[::1]:{P}"}, "HTTP/1.1", 200, ""},
      {"ConfiguredName", {"vault-proxy.internal:{P}"}, "HTTP/1.1", 200, ""},
      {"SecondConfiguredName", {"second.internal"}, "HTTP/1.1", 200, ""},
      {"LocalhostNoPort", {"localhost"}, "HTTP/1.1", 200, ""},
      {"NameCaseInsensitive", {"LocalHost:{P}"}, "HTTP/1.1", 200, ""},
      {"Http10WithoutHost", {}, "HTTP/1.0", 200, ""},
      // Not on the list: 421.
      {"EvilName", {"evil.example"}, "HTTP/1.1", 421, "misdirected_request"},
      {"EvilNameOurPort", {"evil.example:{P}"}, "HTTP/1.1", 421, "misdirected_request"},
      {"LoopbackOtherPort", {"127.0.0.1:{O}"}, "HTTP/1.1", 421, "misdirected_request"},
      {"LocalhostOtherPort", {"localhost:{O}"}, "HTTP/1.1", 421, "misdirected_request"},
      {"Ipv6OtherPort", {"[::1]:{O}"}, "HTTP/1.1", 421, "misdirected_request"},
      {"ConfiguredNameOtherPort", {"vault-proxy.internal:{O}"}, "HTTP/1.1", 421, "misdirected_request"},
      {"LocalhostSubdomainOfEvil", {"localhost.evil.example:{P}"}, "HTTP/1.1", 421, "misdirected_request"},
      {"LoopbackIpPrefixOfEvil", {"127.0.0.1.evil.example:{P}"}, "HTTP/1.1", 421, "misdirected_request"},
      {"ConfiguredNameSubdomainOfEvil", {"vault-proxy.internal.evil.example"}, "HTTP/1.1", 421,
       "misdirected_request"},
      {"OtherLoopbackAddress", {"127.0.0.2:{P}"}, "HTTP/1.1", 421, "misdirected_request"},
      {"EmptyPort", {"localhost:"}, "HTTP/1.1", 421, "misdirected_request"},
      {"EmptyHost", {""}, "HTTP/1.1", 421, "misdirected_request"},
      // Not a valid host[:port] at all: 400 (RFC 9112 §3.2), whatever it names.
      {"UnbracketedIpv6", {"::1:{P}"}, "HTTP/1.1", 400, "bad_request"},
      {"UserinfoTrick", {"127.0.0.1:{P}@evil.example"}, "HTTP/1.1", 400, "bad_request"},
      {"UserinfoBeforeLoopback", {"user@127.0.0.1:{P}"}, "HTTP/1.1", 400, "bad_request"},
      {"PathAfterPort", {"127.0.0.1:{P}/x"}, "HTTP/1.1", 400, "bad_request"},
      {"SecondAuthority", {"127.0.0.1:{P}, evil.example"}, "HTTP/1.1", 400, "bad_request"},
      {"PortTwice", {"127.0.0.1:{P}:{P}"}, "HTTP/1.1", 400, "bad_request"},
      // Missing or repeated Host on HTTP/1.1: 400 (RFC 9112 §3.2), checked before the allowlist.
      {"MissingHostHttp11", {}, "HTTP/1.1", 400, "bad_request"},
      {"TwoAllowedHosts", {"127.0.0.1:{P}", "127.0.0.1:{P}"}, "HTTP/1.1", 400, "bad_request"},
      {"AllowedThenEvil", {"127.0.0.1:{P}", "evil.example"}, "HTTP/1.1", 400, "bad_request"},
      {"EvilThenAllowed", {"evil.example", "127.0.0.1:{P}"}, "HTTP/1.1", 400, "bad_request"},
  };
  std::vector<std::string> expected_upstream;
  for (const auto& c : cases) {
    SCOPED_TRACE("case " + c.name);
    ClientRequest req;
    req.target = "/host/" + c.name;
    req.version = c.version;
    req.add_host = false;
    for (const auto& h : c.hosts) req.headers.push_back({"Host", fill(h)});
    auto res = exchange(req);
    expect_no_cors(res);
    if (c.status == 200) {
      expect_forwarded(res);
      expected_upstream.push_back(req.target);
    } else {
      expect_refused(res, c.status, c.code);
    }
  }
  EXPECT_EQ(upstream_targets_before("/__barrier"), expected_upstream)
      << "exactly the accepted requests, and nothing of the refused ones, may reach the upstream";
  // The client's Host never reaches the upstream: the proxy sets its own.
  for (const auto& r : upstream().requests())
    EXPECT_EQ(r.values("Host"), std::vector<std::string>{"vault.test"}) << r.target << "\n" << dump(r.headers);
}

// ---- 3. browser shield (§2.2) -----------------------------------------------------------------

struct BrowserCase {
  std::string name;
  HeaderList headers;      ///< {P}, {O} filled in
  unsigned status = 200;   ///< 200: forwarded, else 403 forbidden_origin
  std::string method = "GET";
};

class ReachBrowser : public Reach {};

TEST_F(ReachBrowser, CrossSiteMarkersAre403AndOwnOriginIsForwarded) {
  start();
  const std::vector<BrowserCase> cases = {
      // Forwarded.
      {"NoMarkers", {}, 200, "GET"},
      {"FetchSiteNone", {{"Sec-Fetch-Site", "none"}}, 200, "GET"},
      {"FetchSiteSameOrigin", {{"Sec-Fetch-Site", "same-origin"}}, 200, "GET"},
      {"OwnOriginIpv4", {{"Origin", "http://127.0.0.1:{P}"}}, 200, "GET"},
      {"OwnOriginLocalhost", {{"Origin", "http://localhost:{P}"}}, 200, "GET"},
      {"OwnOriginIpv6", {{"Origin", "http://[::1]:{P}"}}, 200, "GET"},
      {"OwnOriginAndSameOrigin", {{"Origin", "http://127.0.0.1:{P}"}, {"Sec-Fetch-Site", "same-origin"}}, 200, "GET"},
      // Refused.
      {"EvilHttpsOrigin", {{"Origin", "https://evil.example"}}, 403, "GET"},
      {"EvilHttpOrigin", {{"Origin", "http://evil.example"}}, 403, "GET"},
      {"NullOrigin", {{"Origin", "null"}}, 403, "GET"},
      {"EmptyOrigin", {{"Origin", ""}}, 403, "GET"},
      {"HttpsLoopbackOrigin", {{"Origin", "https://127.0.0.1:{P}"}}, 403, "GET"},
      {"LoopbackOriginOtherPort", {{"Origin", "http://127.0.0.1:{O}"}}, 403, "GET"},
      {"LoopbackOriginSuffixedByEvil", {{"Origin", "http://127.0.0.1:{P}.evil.example"}}, 403, "GET"},
      {"LocalhostSubdomainOfEvilOrigin", {{"Origin", "http://localhost.evil.example:{P}"}}, 403, "GET"},
      {"FetchSiteCrossSite", {{"Sec-Fetch-Site", "cross-site"}}, 403, "GET"},
      {"FetchSiteSameSite", {{"Sec-Fetch-Site", "same-site"}}, 403, "GET"},
      {"FetchSiteCrossSiteUppercase", {{"Sec-Fetch-Site", "CROSS-SITE"}}, 403, "GET"},
      {"OwnOriginButCrossSite", {{"Origin", "http://127.0.0.1:{P}"}, {"Sec-Fetch-Site", "cross-site"}}, 403, "GET"},
      {"FetchSiteNoneButEvilOrigin", {{"Sec-Fetch-Site", "none"}, {"Origin", "https://evil.example"}}, 403, "GET"},
      // A "simple" cross-origin form POST, which a browser sends without a preflight.
      {"EvilFormPost",
       {{"Origin", "https://evil.example"},
        {"Sec-Fetch-Site", "cross-site"},
        {"Content-Type", "application/x-www-form-urlencoded"}},
       403,
       "POST"},
  };
  std::vector<std::string> expected_upstream;
  for (const auto& c : cases) {
    SCOPED_TRACE("case " + c.name);
    ClientRequest req;
    req.method = c.method;
    req.target = "/browser/" + c.name;
    for (const auto& f : c.headers) req.headers.push_back({f.name, fill(f.value)});
    if (c.method == "POST") req.body = "secretPath=%2F&value=pwned";
    auto res = exchange(req);
    expect_no_cors(res);
    if (c.status == 200) {
      expect_forwarded(res);
      expected_upstream.push_back(req.target);
    } else {
      expect_refused(res, 403, "forbidden_origin");
    }
  }
  EXPECT_EQ(upstream_targets_before("/__barrier"), expected_upstream);
}

TEST_F(ReachBrowser, PreflightGetsNoCorsHeadersAndACrossOriginOneReachesNothing) {
  start();
  // A cross-origin preflight: refused, no Access-Control-* so the browser stops there.
  ClientRequest evil;
  evil.method = "OPTIONS";
  evil.target = "/api/v3/secrets/raw";
  evil.headers = {{"Origin", "https://evil.example"},
                  {"Access-Control-Request-Method", "POST"},
                  {"Access-Control-Request-Headers", "content-type, authorization"},
                  {"Sec-Fetch-Mode", "cors"},
                  {"Sec-Fetch-Site", "cross-site"}};
  auto res = exchange(evil);
  expect_refused(res, 403, "forbidden_origin");
  expect_no_cors(res);

  // A preflight from our own origin is forwarded like any OPTIONS; still no CORS in the answer.
  ClientRequest own = evil;
  own.target = "/preflight/own";
  own.headers = {{"Origin", fill("http://127.0.0.1:{P}")}, {"Access-Control-Request-Method", "POST"}};
  auto ok = exchange(own);
  expect_forwarded(ok);
  expect_no_cors(ok);

  // Local endpoints answer without CORS too.
  ClientRequest health;
  health.target = "/__vault-proxy/health";
  health.headers = {{"Origin", fill("http://localhost:{P}")}};
  auto h = exchange(health);
  EXPECT_EQ(h.status, 200u) << h.body;
  expect_no_cors(h);

  EXPECT_EQ(upstream_targets_before("/__barrier"), std::vector<std::string>{"/preflight/own"});
  auto reqs = upstream().requests();
  ASSERT_FALSE(reqs.empty());
  EXPECT_EQ(reqs.front().method, "OPTIONS");
}

TEST_F(ReachBrowser, CorsHeadersFromTheUpstreamAreNotRelayed) {
  // §2.2 says the proxy never emits Access-Control-* headers: an upstream that grants CORS must not
  // make the proxy's answers readable from a web page.
  start(ProxySetup{}.with_handler([](const RecordedRequest&) {
    Response r = Response::text(200, "ok");
    r.headers = {{"Access-Control-Allow-Origin", "*"},
                 {"Access-Control-Allow-Credentials", "true"},
                 {"Access-Control-Allow-Methods", "GET, POST, OPTIONS"}};
    return r;
  }));
  ClientRequest req;
  req.method = "OPTIONS";
  req.target = "/api/v3/secrets/raw";
  req.headers = {{"Origin", fill("http://127.0.0.1:{P}")}, {"Access-Control-Request-Method", "GET"}};
  auto res = exchange(req);
  EXPECT_EQ(res.status, 200u) << res.body;
  EXPECT_EQ(upstream().request_count(), 1u);
  expect_no_cors(res);
}

// ---- 4. not an open proxy (§2.3) --------------------------------------------------------------

struct TargetCase {
  std::string name;
  std::string bytes;     ///< {H} = 127.0.0.1:PORT
  unsigned status;
  std::string code;
};

class ReachOpenProxy : public Reach {};

TEST_F(ReachOpenProxy, ConnectAndNonOriginFormTargetsAreRefusedAndReachNothing) {
  start();
  const std::vector<TargetCase> cases = {
      {"ConnectToUpstream", "CONNECT vault.test:443 HTTP/1.1\r\nHost: vault.test:443\r\n\r\n", 405,
       "method_not_allowed"},
      {"ConnectToOtherHost", "CONNECT other.example:443 HTTP/1.1\r\nHost: {H}\r\n\r\n", 405, "method_not_allowed"},
      {"ConnectOriginForm", "CONNECT /x HTTP/1.1\r\nHost: {H}\r\n\r\n", 405, "method_not_allowed"},
      {"AbsoluteFormOtherHost", "GET http://other.example/x HTTP/1.1\r\nHost: other.example\r\n\r\n", 400,
       "bad_request"},
      {"AbsoluteFormUpstreamHttps", "GET https://vault.test/api/status HTTP/1.1\r\nHost: {H}\r\n\r\n", 400,
       "bad_request"},
      {"AbsoluteFormMetadataService",
       "GET http://169.254.169.254/latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n", 400,
       "bad_request"},
      {"AbsoluteFormOptions", "OPTIONS http://other.example HTTP/1.1\r\nHost: {H}\r\n\r\n", 400, "bad_request"},
      {"AuthorityFormGet", "GET other.example:443 HTTP/1.1\r\nHost: {H}\r\n\r\n", 400, "bad_request"},
      {"AsteriskGet", "GET * HTTP/1.1\r\nHost: {H}\r\n\r\n", 400, "bad_request"},
      {"AsteriskPost", "POST * HTTP/1.1\r\nHost: {H}\r\nContent-Length: 0\r\n\r\n", 400, "bad_request"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("case " + c.name);
    auto res = exchange_raw(fill(c.bytes));
    expect_refused(res, c.status, c.code);
    expect_no_cors(res);
    if (c.status == 405) {
      auto allow = res.header("Allow").value_or("");
      EXPECT_FALSE(allow.empty()) << "405 needs an Allow field\n" << dump(res.headers);
      EXPECT_EQ(allow.find("CONNECT"), std::string::npos) << allow;
    }
  }
  EXPECT_TRUE(upstream_targets_before("/__barrier").empty())
      << "a CONNECT or a non-origin-form target reached the upstream";
}

TEST_F(ReachOpenProxy, OptionsAsteriskAndDoubleSlashPathsGoToTheOneFixedUpstream) {
  start();
  auto star = exchange_raw(fill("OPTIONS * HTTP/1.1\r\nHost: {H}\r\n\r\n"));
  expect_forwarded(star);
  // A path that looks like a network-path reference is still a path on the fixed upstream.
  auto slashes = exchange_raw(fill("GET //other.example/x HTTP/1.1\r\nHost: {H}\r\n\r\n"));
  expect_forwarded(slashes);

  auto reqs = upstream().requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method, "OPTIONS");
  EXPECT_EQ(reqs[0].target, "*");
  EXPECT_EQ(reqs[0].raw_header.rfind("OPTIONS * HTTP/1.1\r\n", 0), 0u) << reqs[0].raw_header;
  EXPECT_EQ(reqs[1].method, "GET");
  EXPECT_EQ(reqs[1].target, "//other.example/x");
  for (const auto& r : reqs) {
    EXPECT_EQ(r.values("Host"), std::vector<std::string>{"vault.test"}) << dump(r.headers);
    EXPECT_EQ(r.sni, "vault.test");
    EXPECT_TRUE(r.header("CF-Access-Client-Secret") == client_secret) << "service token not injected";
  }
}

TEST_F(ReachOpenProxy, AbsoluteFormNamingThisProxyIsServedAsOriginForm) {
  // RFC 9112 §3.2.2: a server MUST accept absolute-form; the target's authority replaces Host.
  start();
  expect_forwarded(exchange_raw(fill("GET http://{H}/abs/one?q=1 HTTP/1.1\r\nHost: {H}\r\n\r\n")));
  expect_forwarded(exchange_raw(fill("GET HTTP://localhost:{P} HTTP/1.1\r\nHost: {H}\r\n\r\n")));
  // The client's Host is ignored when the target names the authority, even a foreign one.
  expect_forwarded(exchange_raw(fill("GET http://[::1]:{P}/abs/three HTTP/1.1\r\nHost: evil.example\r\n\r\n")));
  auto reqs = upstream().requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].target, "/abs/one?q=1");
  EXPECT_EQ(reqs[1].target, "/");
  EXPECT_EQ(reqs[2].target, "/abs/three");
  for (const auto& r : reqs) {
    EXPECT_EQ(r.values("Host"), std::vector<std::string>{"vault.test"}) << dump(r.headers);
    EXPECT_EQ(r.raw_header.find("http://"), std::string::npos) << r.raw_header;
  }
}

class ReachConformance : public Reach {};

TEST_F(ReachConformance, AnHttp09SimpleRequestIsRefusedAtOnceNotLeftToTheHeaderTimeout) {
  // The header timeout is 30 s by default; the client's 5 s deadline would fail a wait for it.
  start();
  auto res = exchange_raw("GET /path\r\n");
  expect_refused(res, 400, "bad_request");
  EXPECT_NE(parse_error_body(res.body).message.find("HTTP/0.9"), std::string::npos) << res.body;
  EXPECT_TRUE(upstream_targets_before("/__barrier").empty());
}

TEST_F(ReachConformance, AHigherMinorVersionIsServedAsHttp11) {
  // RFC 9110 §2.5: a higher minor version is handled as the highest one supported.
  start();
  auto res = exchange_raw(fill("GET /v12 HTTP/1.2\r\nHost: {H}\r\n\r\n"));
  expect_forwarded(res);
  EXPECT_EQ(res.version, 11u);
  auto reqs = upstream().requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/v12");
  EXPECT_EQ(reqs[0].version, 11u);
}

// ---- 5. capability prefix (§2.4) --------------------------------------------------------------

class ReachCapability : public Reach {
 protected:
  /// Starts with the capability on, writing the token to `cap_path`; returns the token.
  std::string start_with_capability(const std::string& cap_path) {
    start(ProxySetup{}.with_env({{"VAULT_PROXY_CAPABILITY", "true"}, {"VAULT_PROXY_CAPABILITY_FILE", cap_path}}));
    // The file is written just after the readiness line.
    EXPECT_TRUE(proxy().wait_for_stderr("capability prefix required", 5s)) << redacted_stderr();
    std::string token = read_file(cap_path);
    if (!token.empty() && token.back() == '\n') token.pop_back();
    return token;
  }
};

TEST_F(ReachCapability, PrefixIsRequiredComparedExactlyAndStrippedBeforeForwarding) {
  TempDir caps("vp-cap-");
  const std::string cap_path = caps.file("capability");
  // A stale, world-readable file at the path: the proxy must tighten it, not inherit its mode.
  write_file(cap_path, "stale\n", 0644);
  ASSERT_EQ(::chmod(cap_path.c_str(), 0644), 0);

  const std::string token = start_with_capability(cap_path);
  auto info = file_info(cap_path);
  ASSERT_TRUE(info.exists);
  EXPECT_EQ(info.type, static_cast<mode_t>(S_IFREG));
  EXPECT_EQ(octal(info.mode), "0600") << "the capability file must be readable by its owner only";
  EXPECT_EQ(info.uid, ::geteuid());
  ASSERT_EQ(token.size(), 48u) << "the capability file should hold the 48-character token";
  for (char ch : token)
    ASSERT_TRUE((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z')) << "unexpected byte in the token file";

  // Wrong tokens that differ in the last byte, in case, or by one byte too few.
  std::string wrong_last = token;
  wrong_last.back() = wrong_last.back() == 'a' ? 'b' : 'a';
  std::string upper = token;
  for (auto& ch : upper)
    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
  const std::string short_token = token.substr(0, token.size() - 1);

  struct CapCase {
    std::string name;
    std::string target;
    std::string upstream_target;  ///< empty: refused with 404
  };
  const std::vector<CapCase> cases = {
      {"PrefixedPathWithQuery", "/" + token + "/api/status?b=2&a=%2F%00&x=y%20z&&", "/api/status?b=2&a=%2F%00&x=y%20z&&"},
      {"PrefixOnly", "/" + token, "/"},
      {"PrefixThenQuery", "/" + token + "?q=1", "/?q=1"},
      {"PrefixThenSlash", "/" + token + "/", "/"},
      {"NoPrefix", "/api/status", ""},
      {"Root", "/", ""},
      {"WrongLastByte", "/" + wrong_last + "/api/status", ""},
      {"Uppercase", "/" + upper + "/api/status", ""},
      {"OneByteShort", "/" + short_token + "/api/status", ""},
      {"PrefixNotFollowedBySeparator", "/" + token + "x/api", ""},
      {"PrefixFollowedByDot", "/" + token + ".", ""},
      {"DoubleSlashBeforePrefix", "//" + token + "/api/status", ""},
      {"PrefixDeeperInPath", "/api/" + token + "/status", ""},
      {"LocalStatusWithoutPrefix", "/__vault-proxy/status", ""},
  };
  std::vector<std::string> expected_upstream;
  for (const auto& c : cases) {
    SCOPED_TRACE("case " + c.name);  // never the token itself
    ClientRequest req;
    req.target = c.target;
    auto res = exchange(req);
    if (c.upstream_target.empty()) {
      expect_refused(res, 404, "not_found");
    } else {
      expect_forwarded(res);
      expected_upstream.push_back(c.upstream_target);
    }
  }
  // The health endpoint stays open without the prefix.
  ClientRequest health;
  health.target = "/__vault-proxy/health";
  EXPECT_EQ(exchange(health).status, 200u);

  EXPECT_EQ(upstream_targets_before("/" + token + "/__barrier"), expected_upstream)
      << "the upstream must see exactly the prefixed requests, without the prefix, query byte for byte";
  for (const auto& r : upstream().requests())
    EXPECT_EQ(r.raw_header.find(token), std::string::npos) << "the token reached the upstream";

  // The token is redacted from the log like the credentials; the file goes away at exit.
  proxy().send_signal(SIGTERM);
  auto code = proxy().wait_exit(15s);
  stopped_by_test_ = true;
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
  const std::string log = proxy().stderr_text();
  EXPECT_EQ(log.find(token), std::string::npos) << "the capability token is in the log";
  // A refused target's first segment is logged as <redacted>: a near-miss (one byte off) would
  // otherwise give away all but one byte of the token.
  EXPECT_EQ(log.find(short_token), std::string::npos) << "a near-miss of the token is in the log";
  EXPECT_EQ(log.find(wrong_last), std::string::npos) << "a near-miss of the token is in the log";
  EXPECT_NE(log.find("/<redacted>/api/status"), std::string::npos) << log;
  EXPECT_FALSE(file_info(cap_path).exists) << "the capability file must be removed at exit";
  expect_no_secrets_in_output();
}

TEST_F(ReachCapability, PlantedSymlinkAtTheFilePathIsNotFollowed) {
  TempDir caps("vp-cap-");
  const std::string victim = caps.file("victim");
  const std::string cap_path = caps.file("capability");
  write_file(victim, "victim content\n", 0644);
  ASSERT_EQ(::chmod(victim.c_str(), 0644), 0);
  ASSERT_EQ(::symlink(victim.c_str(), cap_path.c_str()), 0);

  start(ProxySetup{}
            .with_env({{"VAULT_PROXY_CAPABILITY", "true"}, {"VAULT_PROXY_CAPABILITY_FILE", cap_path}})
            .without_waiting_for_ready());
  auto code = proxy().wait_exit(10s);
  stopped_by_test_ = true;
  ASSERT_TRUE(code.has_value()) << "the proxy kept running without a usable capability file";
  EXPECT_EQ(*code, 1);
  EXPECT_EQ(read_file(victim), "victim content\n") << "the token was written through the symlink";
  EXPECT_EQ(octal(file_info(victim).mode), "0644");
  EXPECT_NE(redacted_stderr().find("capability file"), std::string::npos) << redacted_stderr();
  EXPECT_EQ(upstream().connections(), 0u);
}

// ---- 6. Unix socket listener (§2.4) -----------------------------------------------------------

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using local = net::local::stream_protocol;

/// A minimal HTTP/1.1 exchange over a Unix socket, bounded by `timeout`.
http::response<http::string_body> unix_exchange(const std::string& path, const std::string& bytes,
                                                std::chrono::milliseconds timeout = 5s) {
  net::io_context ioc;
  local::socket s(ioc);
  s.connect(local::endpoint(path));
  net::write(s, net::buffer(bytes));
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  std::optional<beast::error_code> result;
  http::async_read(s, buf, parser, [&](beast::error_code ec, std::size_t) { result = ec; });
  ioc.run_for(timeout);
  if (!result) throw std::runtime_error("no response over the Unix socket in time");
  if (*result) throw std::runtime_error("reading over the Unix socket: " + result->message());
  return parser.release();
}

std::string field(const http::response<http::string_body>& res, std::string_view name) {
  auto it = res.find(name);
  return it == res.end() ? std::string() : std::string(it->value());
}

class ReachUnixSocket : public Reach {};

TEST_F(ReachUnixSocket, SocketIsOwnerOnlyAndForwardsWithTheSameChecks) {
  TempDir sockdir("vp-sock-");
  const std::string path = sockdir.file("vp.sock");
  start(ProxySetup{}.with_env({{"VAULT_PROXY_UNIX_SOCKET", path}}));
  ASSERT_TRUE(proxy().wait_for_stderr("also listening on unix:", 5s)) << redacted_stderr();

  auto info = file_info(path);
  ASSERT_TRUE(info.exists) << path;
  EXPECT_EQ(info.type, static_cast<mode_t>(S_IFSOCK));
  EXPECT_EQ(octal(info.mode), "0600") << "default socket mode must be owner-only";
  EXPECT_EQ(info.uid, ::geteuid());

  auto res = unix_exchange(path, "GET /over/unix?q=a%2Fb HTTP/1.1\r\nHost: localhost\r\n\r\n");
  EXPECT_EQ(res.result_int(), 200u) << res.body();
  EXPECT_EQ(res.body(), "ok");
  EXPECT_TRUE(field(res, "X-Vault-Proxy-Error").empty());

  // The Unix listener does not bypass the browser and rebinding checks.
  auto evil_host = unix_exchange(path, "GET /over/unix/evil-host HTTP/1.1\r\nHost: evil.example\r\n\r\n");
  EXPECT_EQ(evil_host.result_int(), 421u) << evil_host.body();
  EXPECT_EQ(field(evil_host, "X-Vault-Proxy-Error"), "misdirected_request");
  auto evil_origin = unix_exchange(
      path, "GET /over/unix/evil-origin HTTP/1.1\r\nHost: localhost\r\nOrigin: https://evil.example\r\n\r\n");
  EXPECT_EQ(evil_origin.result_int(), 403u) << evil_origin.body();
  EXPECT_EQ(field(evil_origin, "X-Vault-Proxy-Error"), "forbidden_origin");

  EXPECT_EQ(upstream_targets_before("/__barrier"), std::vector<std::string>{"/over/unix?q=a%2Fb"});
  auto reqs = upstream().requests();
  ASSERT_FALSE(reqs.empty());
  EXPECT_EQ(reqs.front().values("Host"), std::vector<std::string>{"vault.test"}) << dump(reqs.front().headers);
  EXPECT_TRUE(reqs.front().header("CF-Access-Client-Secret") == client_secret) << "service token not injected";

  proxy().send_signal(SIGTERM);
  auto code = proxy().wait_exit(15s);
  stopped_by_test_ = true;
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
  EXPECT_FALSE(file_info(path).exists) << "the socket file should be removed at exit";
  expect_no_secrets_in_output();
}

TEST_F(ReachUnixSocket, ConfiguredModeIsApplied) {
  TempDir sockdir("vp-sock-");
  const std::string path = sockdir.file("vp.sock");
  start(ProxySetup{}.with_env({{"VAULT_PROXY_UNIX_SOCKET", path}, {"VAULT_PROXY_UNIX_SOCKET_MODE", "0660"}}));
  ASSERT_TRUE(proxy().wait_for_stderr("also listening on unix:", 5s)) << redacted_stderr();
  EXPECT_EQ(octal(file_info(path).mode), "0660");
  auto res = unix_exchange(path, "GET /mode HTTP/1.1\r\nHost: localhost\r\n\r\n");
  EXPECT_EQ(res.result_int(), 200u) << res.body();
}

TEST_F(ReachUnixSocket, ARegularFileAtThePathIsNeitherReplacedNorListenedOn) {
  TempDir sockdir("vp-sock-");
  const std::string path = sockdir.file("vp.sock");
  write_file(path, "not a socket\n", 0600);
  start(ProxySetup{}.with_env({{"VAULT_PROXY_UNIX_SOCKET", path}}).without_waiting_for_ready());
  auto code = proxy().wait_exit(10s);
  stopped_by_test_ = true;
  ASSERT_TRUE(code.has_value()) << "the proxy kept running although its socket path is a regular file";
  EXPECT_EQ(*code, 3);
  EXPECT_EQ(read_file(path), "not a socket\n");
  EXPECT_NE(redacted_stderr().find("not a socket"), std::string::npos) << redacted_stderr();
}

// ---- 7. connection limit (§2.6) ---------------------------------------------------------------

class ReachConnectionLimit : public Reach {};

TEST_F(ReachConnectionLimit, ConnectionsBeyondTheLimitGet503WhileHeldOnesAreServed) {
  start(ProxySetup{}.with_env({{"VAULT_PROXY_MAX_CONNECTIONS", "2"}}));
  ClientRequest req;
  HttpClient a(port(), 5s);
  req.target = "/held/a/1";
  auto ra = a.request(req);
  ASSERT_EQ(ra.status, 200u) << ra.body;
  ASSERT_TRUE(ra.keep_alive);
  HttpClient b(port(), 5s);
  req.target = "/held/b/1";
  auto rb = b.request(req);
  ASSERT_EQ(rb.status, 200u) << rb.body;
  ASSERT_TRUE(rb.keep_alive);

  // Over the limit: an immediate 503, then the connection closes. Some send first (a real client
  // does), some only read.
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE("excess connection " + std::to_string(i));
    auto t0 = clock_type::now();
    HttpClient c(port(), 5s);
    if (i % 2 == 1) {
      ClientRequest over;
      over.target = "/over/" + std::to_string(i);
      c.send(over);
    }
    std::optional<ClientResponse> res;
    try {
      res = c.try_read_response();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "no 503 over the limit: " << e.what();
    }
    auto took = clock_type::now() - t0;
    if (!res) {
      ADD_FAILURE() << "the connection closed without a 503";
      continue;
    }
    expect_refused(*res, 503, "overloaded");
    EXPECT_EQ(res->header("Retry-After").value_or(""), "1");
    EXPECT_FALSE(res->keep_alive);
    EXPECT_LT(took, 1s) << "the 503 must come at once, not after a timeout";
    EXPECT_TRUE(c.server_closed(2s)) << "an over-the-limit connection must be closed";
  }

  // The held keep-alive connections are still answered.
  req.target = "/held/a/2";
  auto ra2 = a.request(req);
  EXPECT_EQ(ra2.status, 200u) << ra2.body;
  req.target = "/held/b/2";
  auto rb2 = b.request(req);
  EXPECT_EQ(rb2.status, 200u) << rb2.body;

  // A freed slot is usable again (the session ends when the proxy sees the close: retry briefly).
  b.close();
  std::optional<ClientResponse> after;
  for (auto deadline = clock_type::now() + 3s; clock_type::now() < deadline;) {
    try {
      HttpClient d(port(), 5s);
      ClientRequest again;
      again.target = "/after-release";
      auto r = d.request(again);
      if (r.status != 503) {
        after = r;
        break;
      }
    } catch (const std::exception&) {
      // Still over the limit and the 503 was lost to the close: try again.
    }
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(after.has_value()) << "a slot freed by a closed connection never became usable";
  expect_forwarded(*after);

  // /after-release was answered, so anything an over-the-limit connection caused has arrived.
  std::vector<std::string> targets;
  for (const auto& r : upstream().requests()) targets.push_back(r.target);
  EXPECT_EQ(targets, (std::vector<std::string>{"/held/a/1", "/held/b/1", "/held/a/2", "/held/b/2", "/after-release"}))
      << "nothing sent on an over-the-limit connection may reach the upstream";
}

// ---- 8. slowloris (§2.6) ----------------------------------------------------------------------

/// Waits until the proxy closes `c` (bytes that arrive meanwhile are kept); false on timeout.
bool wait_closed(HttpClient& c, std::chrono::milliseconds wait) {
  auto deadline = clock_type::now() + wait;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    if (left <= 0ms) return false;
    if (c.server_closed(left)) return true;
  }
}

class ReachSlowloris : public Reach {};

TEST_F(ReachSlowloris, HalfAHeaderIsCutAtTheHeaderTimeoutWhileOthersAreServed) {
  constexpr auto header_timeout = 800ms;
  start(ProxySetup{}.with_toml("[timeouts]\nrequest_header_ms = 800\n"));
  const std::string host = self_host();

  // Client 1 sends half a header and stops.
  auto stalled = std::async(std::launch::async, [p = port(), host] {
    HttpClient c(p, 5s);
    auto t0 = clock_type::now();
    c.send_raw("GET /slowloris HTTP/1.1\r\nHost: " + host + "\r\nX-Half: ");
    bool closed = wait_closed(c, 4s);
    return std::make_tuple(closed, clock_type::now() - t0, c.pending_bytes());
  });

  // Client 2 trickles a header one byte at a time; the timeout bounds the whole header, not a gap.
  HttpClient trickle(port(), 5s);
  auto t0 = clock_type::now();
  trickle.send_raw("GET /trickle HTTP/1.1\r\nHost: " + host + "\r\nX-Trickle: ");
  bool trickle_closed = false;
  bool served_meanwhile = false;
  clock_type::duration trickle_took{};
  while (clock_type::now() - t0 < 4s) {
    try {
      trickle.send_raw("a");
    } catch (const std::exception&) {
      trickle_closed = true;
    }
    if (trickle_closed || trickle.server_closed(100ms)) {
      trickle_closed = true;
      trickle_took = clock_type::now() - t0;
      break;
    }
    if (!served_meanwhile && clock_type::now() - t0 > 300ms) {
      // Others are answered while both stall.
      ClientRequest req;
      req.target = "/meanwhile";
      auto r0 = clock_type::now();
      auto res = exchange(req);
      expect_forwarded(res);
      EXPECT_LT(clock_type::now() - r0, header_timeout) << "a normal request waited behind the stalled ones";
      served_meanwhile = true;
    }
  }
  EXPECT_TRUE(served_meanwhile);
  EXPECT_TRUE(trickle_closed) << "a client trickling its header was never disconnected";
  if (trickle_closed) {
    EXPECT_GE(trickle_took, header_timeout - 100ms);
    EXPECT_LT(trickle_took, header_timeout + 1500ms) << "the trickled header was not bounded by request_header_ms";
  }
  EXPECT_EQ(trickle.pending_bytes().find("200 OK"), std::string::npos);

  auto [closed, took, bytes] = stalled.get();
  EXPECT_TRUE(closed) << "a client that sent half a header was never disconnected";
  if (closed) {
    EXPECT_GE(took, header_timeout - 100ms) << "disconnected before the timeout";
    EXPECT_LT(took, header_timeout + 1500ms);
  }
  EXPECT_EQ(bytes.find("200 OK"), std::string::npos) << bytes;

  EXPECT_EQ(upstream_targets_before("/__barrier"), std::vector<std::string>{"/meanwhile"})
      << "a partial header must never be forwarded";
  // Still healthy.
  EXPECT_EQ(http_get(port(), "/__vault-proxy/health").status, 200u);
}

TEST_F(ReachSlowloris, HalfAHeaderAfterAKeptAliveRequestIsAlsoCut) {
  // A slowloris client can first send one quick request so that its next header falls under the
  // keep-alive idle timeout (75 s by default) instead of request_header_ms (30 s).
  constexpr auto header_timeout = 600ms;
  start(ProxySetup{}.with_toml("[timeouts]\nrequest_header_ms = 600\nidle_keepalive_ms = 20000\n"));
  HttpClient c(port(), 5s);
  ClientRequest first;
  first.target = "/first";
  auto res = c.request(first);
  ASSERT_EQ(res.status, 200u);
  ASSERT_TRUE(res.keep_alive);
  auto t0 = clock_type::now();
  c.send_raw("GET /second HTTP/1.1\r\nHost: " + self_host() + "\r\nX-Half: ");
  bool closed = wait_closed(c, header_timeout + 2s);
  EXPECT_TRUE(closed) << "the second header was still open " << (header_timeout + 2s).count()
                      << " ms after it started: it is bounded by idle_keepalive_ms, not request_header_ms";
  if (closed) {
    EXPECT_LT(clock_type::now() - t0, header_timeout + 1500ms);
  }
  EXPECT_EQ(upstream_targets_before("/__barrier"), std::vector<std::string>{"/first"});
}

}  // namespace
