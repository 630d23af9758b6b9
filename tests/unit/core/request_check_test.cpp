// check_request: which requests may go upstream, fed hostile request headers.
#include "core/request_check.hpp"

#include <gtest/gtest.h>

namespace vp::core {
namespace {

struct Req {
  http::verb method = http::verb::get;
  std::string target = "/api/status";
  unsigned version = 11;
  std::vector<std::pair<std::string, std::string>> fields{{"Host", "127.0.0.1:2019"}};
};

CheckResult check(const Req& r, CheckPolicy policy = {}) {
  http::request_header<> h;
  h.method(r.method);
  h.target(r.target);
  h.version(r.version);
  for (auto const& [n, v] : r.fields) h.insert(n, v);
  return check_request(h, policy);
}

std::optional<ErrorCode> refusal(const Req& r, CheckPolicy policy = {}) {
  auto c = check(r, std::move(policy));
  if (!c.refusal) return std::nullopt;
  return c.refusal->code;
}

TEST(CheckRequest, PlainRequestGoesUpstream) {
  auto c = check({});
  EXPECT_FALSE(c.refusal);
  EXPECT_EQ(c.route, Route::upstream);
}

TEST(CheckRequest, LocalPrefixIsRoutedLocally) {
  EXPECT_EQ(check({.target = "/__vault-proxy/health"}).route, Route::local);
  EXPECT_EQ(check({.target = "/__vault-proxy/ready?x=1"}).route, Route::local);
  EXPECT_EQ(check({.target = "/api/__vault-proxy/health"}).route, Route::upstream);
}

TEST(CheckRequest, TargetForms) {
  EXPECT_EQ(refusal({.target = "http://evil.example/api"}), ErrorCode::bad_request);
  EXPECT_EQ(refusal({.target = "vault.raxx.app:443"}), ErrorCode::bad_request);
  EXPECT_EQ(refusal({.target = "*"}), ErrorCode::bad_request);
  EXPECT_EQ(refusal({.method = http::verb::options, .target = "*"}), std::nullopt);
  EXPECT_EQ(refusal({.method = http::verb::connect, .target = "vault.raxx.app:443"}),
            ErrorCode::method_not_allowed);
}

TEST(CheckRequest, TraceIsRefusedSoNoEchoCarriesTheInjectedToken) {
  EXPECT_EQ(refusal({.method = http::verb::trace}), ErrorCode::method_not_allowed);
  EXPECT_EQ(refusal({.method = http::verb::trace, .target = "/__vault-proxy/status"}),
            ErrorCode::method_not_allowed);
  for (auto m : {http::verb::get, http::verb::head, http::verb::post, http::verb::put, http::verb::patch,
                 http::verb::delete_, http::verb::options})
    EXPECT_EQ(refusal({.method = m}), std::nullopt) << http::to_string(m);
}

TEST(CheckRequest, HostRules) {
  EXPECT_EQ(refusal({.fields = {}}), ErrorCode::bad_request);  // HTTP/1.1 without Host
  EXPECT_EQ(refusal({.version = 10, .fields = {}}), std::nullopt);
  EXPECT_EQ(refusal({.fields = {{"Host", "127.0.0.1:2019"}, {"host", "127.0.0.1:2019"}}}),
            ErrorCode::bad_request);
  for (auto ok : {"127.0.0.1:2019", "localhost:2019", "LOCALHOST:2019", "[::1]:2019", "localhost",
                  "127.0.0.1"})
    EXPECT_EQ(refusal({.fields = {{"Host", ok}}}), std::nullopt) << ok;
  // Well-formed but not this proxy: 421.
  for (auto other : {"evil.example:2019", "127.0.0.1:2020", "localhost.evil.example:2019", "", "127.0.0.2:2019",
                     "localhost:", "a,b:2019"})
    EXPECT_EQ(refusal({.fields = {{"Host", other}}}), ErrorCode::misdirected_request) << other;
  // Not a host[:port] at all: 400 (RFC 9112 §3.2), before the allowlist.
  for (auto malformed : {"127.0.0.1:2019x", "[::1", "::1:2019", "user@127.0.0.1:2019", "127.0.0.1:2019/x",
                         "127.0.0.1:2019, evil.example", "127.0.0.1:2019:2019", "local host", "[::1]x",
                         "%zz:2019", "127.0.0.1:2019@evil.example"})
    EXPECT_EQ(refusal({.fields = {{"Host", malformed}}}), ErrorCode::bad_request) << malformed;
}

TEST(HostFieldValid, Grammar) {
  struct Case {
    std::string_view value;
    bool valid;
  };
  const Case cases[] = {
      {"", true},
      {"localhost", true},
      {"localhost:2019", true},
      {"localhost:", true},  // port = *DIGIT
      {"127.0.0.1:2019", true},
      {"[::1]:2019", true},
      {"[::1]", true},
      {"[::ffff:127.0.0.1]:80", true},
      {"[v1.fe80::a+en1]", true},
      {"vault%2Dproxy.internal", true},
      {"a!$&'()*+,;=b", true},
      {"[]", false},
      {"[::1", false},
      {"[::1]:", true},
      {"[::1]x", false},
      {"[::g]", false},
      {"::1", false},
      {"user@host", false},
      {"host/x", false},
      {"host?x", false},
      {"host#x", false},
      {"host x", false},
      {"host:80 ", false},
      {"host:8o", false},
      {"host:1:2", false},
      {"ho%2", false},
      {"ho%zz", false},
      {"h\xc3\xa9", false},
  };
  for (const auto& c : cases) EXPECT_EQ(host_field_valid(c.value), c.valid) << c.value;
}

TEST(OwnAbsoluteForm, OnlyThisProxyNamedOverHttpIsTakenApart) {
  struct Case {
    std::string_view target;
    std::optional<std::pair<std::string, std::string>> out;  // authority, origin-form
  };
  const std::vector<Case> cases{
      {"http://127.0.0.1:2019/api/status", {{"127.0.0.1:2019", "/api/status"}}},
      {"HTTP://localhost:2019/a?b=c", {{"localhost:2019", "/a?b=c"}}},
      {"http://[::1]:2019", {{"[::1]:2019", "/"}}},
      {"http://localhost?x=1", {{"localhost", "/?x=1"}}},
      {"http://127.0.0.1:2019//double", {{"127.0.0.1:2019", "//double"}}},
      {"http://127.0.0.1:2020/api", std::nullopt},
      {"http://evil.example/api", std::nullopt},
      {"https://127.0.0.1:2019/api", std::nullopt},
      {"http://user@127.0.0.1:2019/api", std::nullopt},
      {"http://127.0.0.1:2019@evil.example/api", std::nullopt},
      {"http:///api", std::nullopt},
      {"http://", std::nullopt},
      {"http://127.0.0.1:2019#frag", std::nullopt},
      {"/api/status", std::nullopt},
      {"vault.raxx.app:443", std::nullopt},
  };
  for (const auto& c : cases) {
    auto got = own_absolute_form(c.target, {});
    ASSERT_EQ(got.has_value(), c.out.has_value()) << c.target;
    if (got) {
      EXPECT_EQ(got->authority, c.out->first) << c.target;
      EXPECT_EQ(got->origin_form, c.out->second) << c.target;
    }
  }
}

TEST(CheckRequest, ConfiguredExtraHostsAreAllowed) {
  CheckPolicy p;
  p.extra_hosts = {"vault-proxy.internal"};
  EXPECT_EQ(refusal({.fields = {{"Host", "vault-proxy.internal:2019"}}}, p), std::nullopt);
  EXPECT_EQ(refusal({.fields = {{"Host", "other.internal:2019"}}}, p), ErrorCode::misdirected_request);
}

TEST(CheckRequest, BrowserMarkersAreRefused) {
  auto with = [](std::string name, std::string value) {
    return Req{.fields = {{"Host", "127.0.0.1:2019"}, {name, value}}};
  };
  EXPECT_EQ(refusal(with("Origin", "https://evil.example")), ErrorCode::forbidden_origin);
  EXPECT_EQ(refusal(with("Origin", "null")), ErrorCode::forbidden_origin);
  EXPECT_EQ(refusal(with("Origin", "http://127.0.0.1:2019")), std::nullopt);
  EXPECT_EQ(refusal(with("Origin", "http://localhost:2019")), std::nullopt);
  EXPECT_EQ(refusal(with("Origin", "http://localhost:3000")), ErrorCode::forbidden_origin);
  EXPECT_EQ(refusal(with("Sec-Fetch-Site", "cross-site")), ErrorCode::forbidden_origin);
  EXPECT_EQ(refusal(with("sec-fetch-site", "Same-Site")), ErrorCode::forbidden_origin);
  EXPECT_EQ(refusal(with("Sec-Fetch-Site", "same-origin")), std::nullopt);
  EXPECT_EQ(refusal(with("Sec-Fetch-Site", "none")), std::nullopt);
}

TEST(CheckRequest, EveryRefusalHasAMessage) {
  auto c = check({.target = "http://x/"});
  ASSERT_TRUE(c.refusal);
  EXPECT_FALSE(c.refusal->message.empty());
}

}  // namespace
}  // namespace vp::core

namespace vp::core {
namespace {

TEST(Capability, PrefixRequiredCheckedAndStripped) {
  const std::string tok = "abcdefghijklmnopqrstuvwxyz012345";
  struct Row {
    std::string target;
    std::optional<std::string> want;
  };
  const std::vector<Row> rows{
      {"/" + tok + "/api/status", "/api/status"},
      {"/" + tok, "/"},
      {"/" + tok + "?a=1", "/?a=1"},
      {"/" + tok + "/", "/"},
      {"/" + tok + "x/api", std::nullopt},  // a longer token is not ours
      {"/" + tok.substr(0, 31) + "/api", std::nullopt},
      {"/api/status", std::nullopt},
      {"/__vault-proxy/ready", std::nullopt},
      {"/__vault-proxy/health", "/__vault-proxy/health"},
      {"*", std::nullopt},
      {"", std::nullopt},
      {"/" + tok + "/__vault-proxy/ready", "/__vault-proxy/ready"},
  };
  for (auto const& r : rows) EXPECT_EQ(strip_capability(r.target, tok), r.want) << r.target;
}

TEST(Capability, OffLeavesEveryTargetAlone) {
  EXPECT_EQ(strip_capability("/api/status", ""), "/api/status");
  EXPECT_EQ(strip_capability("*", ""), "*");
}

}  // namespace
}  // namespace vp::core
