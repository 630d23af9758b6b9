// core/plan: the request path's decisions, as tables. No sockets.
#include "core/plan.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace vp::core {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;
using Kind = Admission::Kind;

http::request<http::empty_body> make_request(http::verb method, std::string target, Fields fields,
                                             unsigned version = 11) {
  http::request<http::empty_body> r;
  r.method(method);
  r.target(target);
  r.version(version);
  for (auto const& [n, v] : fields) r.insert(n, v);
  return r;
}

Fields dump(const http::fields& f) {
  Fields out;
  for (auto const& field : f) out.emplace_back(field.name_string(), field.value());
  return out;
}

TEST(Admit, RefusalsInTheOrderServeOneAppliesThem) {
  const Fields host{{"Host", "127.0.0.1:2019"}};
  Fields many = host;
  for (int i = 0; i < 256; ++i) many.emplace_back("X-F" + std::to_string(i), "v");
  Fields bad_framing = host;
  bad_framing.emplace_back("Content-Length", "1, 1");
  Fields foreign{{"Host", "evil.example"}};
  struct Row {
    const char* name;
    http::request<http::empty_body> req;
    bool capability_ok;
    Kind kind;
    ErrorCode code;
    bool close;
  };
  const std::string long_target = "/" + std::string(8 * 1024, 'a');
  std::vector<Row> rows{
      {"plain", make_request(http::verb::get, "/api/status", host), true, Kind::forward, {}, false},
      {"local", make_request(http::verb::get, "/__vault-proxy/health", host), true, Kind::local, {}, false},
      {"framing", make_request(http::verb::post, "/x", bad_framing), true, Kind::refuse, ErrorCode::bad_request, true},
      // Framing before the capability: the connection cannot be kept whatever else is wrong.
      {"framing+capability", make_request(http::verb::post, "/x", bad_framing), false, Kind::refuse,
       ErrorCode::bad_request, true},
      {"capability", make_request(http::verb::get, "/x", host), false, Kind::refuse, ErrorCode::not_found, false},
      {"capability+long", make_request(http::verb::get, long_target, host), false, Kind::refuse,
       ErrorCode::not_found, false},
      {"long target", make_request(http::verb::get, long_target, host), true, Kind::refuse, ErrorCode::uri_too_long,
       true},
      {"fields", make_request(http::verb::get, "/x", many), true, Kind::refuse, ErrorCode::header_too_large, true},
      {"fields+foreign host", make_request(http::verb::get, "/x", [&] {
         Fields f = many;
         f[0].second = "evil.example";
         return f;
       }()), true, Kind::refuse, ErrorCode::header_too_large, true},
      {"foreign host", make_request(http::verb::get, "/x", foreign), true, Kind::refuse,
       ErrorCode::misdirected_request, false},
      {"connect", make_request(http::verb::connect, "/x", host), true, Kind::refuse, ErrorCode::method_not_allowed,
       false},
  };
  for (auto& r : rows) {
    SCOPED_TRACE(r.name);
    auto a = admit(r.req, r.capability_ok, CheckPolicy{});
    EXPECT_EQ(a.kind, r.kind);
    if (r.kind != Kind::refuse) continue;
    EXPECT_EQ(a.refusal.code, r.code);
    EXPECT_EQ(a.close, r.close);
  }
}

TEST(Admit, MessagesNameTheCause) {
  Fields f{{"Host", "127.0.0.1:2019"}, {"Content-Length", "1, 1"}};
  EXPECT_NE(admit(make_request(http::verb::post, "/x", f), true, {}).refusal.message.find("malformed"),
            std::string::npos);
  EXPECT_NE(admit(make_request(http::verb::get, "/x", {{"Host", "127.0.0.1:2019"}}), false, {})
                .refusal.message.find("capability"),
            std::string::npos);
  // 414 answers with the default message.
  EXPECT_TRUE(admit(make_request(http::verb::get, "/aaaa", {{"Host", "127.0.0.1:2019"}}), true, {}, {.target = 3})
                  .refusal.message.empty());
}

const ServiceToken& token() {
  static const ServiceToken t{Secret(std::string("id")), Secret(std::string("secret")), "test", 1};
  return t;
}

TEST(PlanRequest, StripsInjectsAndReframesFromTheParsersView) {
  struct Row {
    const char* name;
    Fields in;
    unsigned version;
    RequestFraming framing;
    Fields expected;
  };
  const std::vector<Row> rows{
      {"plain 1.1", {{"Host", "127.0.0.1:2019"}, {"Accept", "*/*"}}, 11, {},
       {{"Accept", "*/*"}, {"Host", "up"}, {"User-Agent", "ua"}, {"CF-Access-Client-Id", "id"},
        {"CF-Access-Client-Secret", "secret"}}},
      // The length is the parser's, whatever the client's field said; a field that already says
      // exactly that stays where it is (no new field is allocated).
      {"Expect dropped, length kept", {{"Expect", "100-continue"}, {"Content-Length", "5"}}, 11, {false, 5},
       {{"Content-Length", "5"}, {"Host", "up"}, {"User-Agent", "ua"}, {"CF-Access-Client-Id", "id"},
        {"CF-Access-Client-Secret", "secret"}}},
      {"length re-set", {{"Content-Length", "05"}}, 11, {false, 5},
       {{"Host", "up"}, {"User-Agent", "ua"}, {"CF-Access-Client-Id", "id"}, {"CF-Access-Client-Secret", "secret"},
        {"Content-Length", "5"}}},
      {"chunked re-established after hop-by-hop strip", {{"Transfer-Encoding", "chunked"}}, 11, {true, {}},
       {{"Host", "up"}, {"User-Agent", "ua"}, {"CF-Access-Client-Id", "id"}, {"CF-Access-Client-Secret", "secret"},
        {"Transfer-Encoding", "chunked"}}},
      {"1.0 client, credentials replaced",
       {{"CF-Access-Client-Id", "client"}, {"Connection", "keep-alive"}}, 10, {},
       {{"Host", "up"}, {"User-Agent", "ua"}, {"CF-Access-Client-Id", "id"}, {"CF-Access-Client-Secret", "secret"}}},
  };
  for (auto const& r : rows) {
    SCOPED_TRACE(r.name);
    auto req = make_request(http::verb::post, "/x", r.in, r.version);
    auto rw = plan_request(req, r.framing, {"up", "ua", &token()});
    EXPECT_TRUE(rw.injected);
    EXPECT_EQ(req.version(), 11u);
    EXPECT_EQ(dump(req), r.expected);
  }
}

TEST(PlanResponse, FramingAndKeepAliveByClientVersion) {
  struct Row {
    const char* name;
    ResponseFraming framing;
    unsigned client_version;
    bool keep_alive;
    bool expect_keep_alive;
    bool expect_chunked;
    const char* content_length;  // nullptr: none
  };
  const std::vector<Row> rows{
      {"length kept", {false, false, 12}, 11, true, true, false, "12"},
      {"length kept for 1.0", {false, false, 12}, 10, true, true, false, "12"},
      {"chunked to 1.1", {false, true, {}}, 11, true, true, true, nullptr},
      {"close-delimited to 1.1 is chunked", {false, false, {}}, 11, true, true, true, nullptr},
      {"chunked to 1.0 is close-delimited", {false, true, {}}, 10, true, false, false, nullptr},
      {"no body keeps nothing but the header", {true, false, {}}, 10, true, true, false, nullptr},
      {"client asked to close", {false, false, 3}, 11, false, false, false, "3"},
  };
  for (auto const& r : rows) {
    SCOPED_TRACE(r.name);
    http::response<http::empty_body> res{http::status::ok, 11};
    res.set("Connection", "X-Hop");
    res.set("X-Hop", "1");
    res.set("Transfer-Encoding", "chunked");
    auto plan = plan_response(res, r.framing, r.client_version, r.keep_alive, "origin_auth");
    EXPECT_EQ(plan.keep_alive, r.expect_keep_alive);
    EXPECT_EQ(plan.chunked, r.expect_chunked);
    EXPECT_EQ(res.keep_alive(), r.expect_keep_alive);
    EXPECT_EQ(res.version(), r.client_version == 10 ? 10u : 11u);
    EXPECT_EQ(res.count("X-Hop"), 0u);
    EXPECT_EQ(res["X-Vault-Proxy-Diagnosis"], "origin_auth");
    EXPECT_EQ(res.chunked(), r.expect_chunked);
    if (r.content_length)
      EXPECT_EQ(res[http::field::content_length], r.content_length);
    else
      EXPECT_EQ(res.count(http::field::content_length), 0u);
  }
}

TEST(PlanResponse, ContentLengthEndsAsOneFieldWithTheParsedLength) {
  struct Row {
    const char* name;
    std::vector<std::pair<std::string, std::string>> fields;
  };
  const std::vector<Row> rows{
      {"the sender's field, as it is", {{"Content-Length", "12"}, {"X-After", "1"}}},
      {"a leading zero is rewritten", {{"Content-Length", "012"}}},
      {"a repeated field becomes one", {{"Content-Length", "12"}, {"Content-Length", "12"}}},
      {"a different value is replaced", {{"Content-Length", "7"}}},
      {"none is added", {{"Transfer-Encoding", "gzip"}}},
  };
  for (auto const& r : rows) {
    SCOPED_TRACE(r.name);
    http::response<http::empty_body> res{http::status::ok, 11};
    for (auto const& [n, v] : r.fields) res.insert(n, v);
    plan_response(res, {false, false, 12}, 11, true);
    EXPECT_EQ(res.count(http::field::content_length), 1u);
    EXPECT_EQ(res[http::field::content_length], "12");
    EXPECT_FALSE(res.chunked());
    EXPECT_EQ(res.count(http::field::transfer_encoding), 0u);
  }
  auto req = make_request(http::verb::post, "/x", {{"Content-Length", "5"}}, 11);
  plan_request(req, {false, 5}, {"up", "ua", &token()});
  EXPECT_EQ(req.count(http::field::content_length), 1u);
  EXPECT_EQ(req[http::field::content_length], "5");
}

TEST(PlanResponse, CountsTheAccessCookieAndAddsNoEmptyDiagnosis) {
  http::response<http::empty_body> res{http::status::ok, 11};
  res.insert(http::field::set_cookie, "CF_Authorization=jwt; Path=/");
  auto plan = plan_response(res, {false, false, 0}, 11, true);
  EXPECT_EQ(plan.rewrite.access_cookies_removed, 1u);
  EXPECT_EQ(res.count("X-Vault-Proxy-Diagnosis"), 0u);
}

TEST(IoFault, ClassifiesReadErrors) {
  namespace asio = boost::asio;
  const std::vector<std::pair<beast::error_code, IoFault>> rows{
      {http::error::end_of_stream, IoFault::disconnect},
      {asio::error::eof, IoFault::disconnect},
      {asio::error::connection_reset, IoFault::disconnect},
      {asio::error::broken_pipe, IoFault::disconnect},
      {asio::ssl::error::stream_truncated, IoFault::disconnect},
      {http::error::partial_message, IoFault::disconnect},
      {beast::error::timeout, IoFault::timeout},
      {asio::error::operation_aborted, IoFault::cancelled},
      {asio::error::bad_descriptor, IoFault::cancelled},
      {http::error::bad_chunk, IoFault::other},
      {http::error::bad_version, IoFault::other},
  };
  for (auto const& [ec, fault] : rows) {
    SCOPED_TRACE(ec.message());
    EXPECT_EQ(io_fault(ec), fault);
    EXPECT_EQ(is_disconnect(ec), fault == IoFault::disconnect);
    EXPECT_EQ(client_gone(ec), fault != IoFault::other);
    const ErrorCode read = fault == IoFault::timeout      ? ErrorCode::upstream_timeout
                           : fault == IoFault::disconnect ? ErrorCode::upstream_closed
                                                          : ErrorCode::upstream_protocol;
    EXPECT_EQ(upstream_read_error(ec), read);
    EXPECT_EQ(upstream_write_error(ec),
              fault == IoFault::disconnect ? ErrorCode::upstream_closed : ErrorCode::upstream_connect);
  }
}

TEST(RetryDecision, OnlyWhatCannotHaveBeenProcessedTwice) {
  using F = AttemptFailure;
  struct Row {
    const char* name;
    F failure;
    Attempt attempt;
    bool retry;
  };
  const std::vector<Row> rows{
      {"header write, reused", F::header_write, {.reused = true}, true},
      {"header write, reused, with a body", F::header_write, {.reused = true, .has_body = true}, true},
      {"header write, fresh", F::header_write, {.reused = false}, false},
      {"header write, second attempt", F::header_write, {.reused = true, .first = false}, false},
      {"closed early, idempotent, no body", F::closed_early, {.reused = true, .idempotent = true}, true},
      {"closed early, not idempotent", F::closed_early, {.reused = true, .idempotent = false}, false},
      {"closed early, with a body", F::closed_early, {.reused = true, .idempotent = true, .has_body = true}, false},
      {"closed after a response byte", F::closed_early,
       {.reused = true, .idempotent = true, .response_bytes = 1}, false},
      {"closed early, fresh connection", F::closed_early, {.reused = false, .idempotent = true}, false},
      {"closed early, second attempt", F::closed_early, {.reused = true, .first = false, .idempotent = true}, false},
  };
  for (auto const& r : rows) {
    SCOPED_TRACE(r.name);
    EXPECT_EQ(retry_decision(r.failure, r.attempt), r.retry);
  }
}

TEST(IsIdempotent, Rfc9110Methods) {
  for (auto v : {http::verb::get, http::verb::head, http::verb::options, http::verb::trace, http::verb::put,
                 http::verb::delete_})
    EXPECT_TRUE(is_idempotent(v)) << http::to_string(v);
  for (auto v : {http::verb::post, http::verb::patch, http::verb::connect})
    EXPECT_FALSE(is_idempotent(v)) << http::to_string(v);
}

TEST(ShouldReadErrorBody, ErrorsAndRedirectsWithASmallBody) {
  struct Row {
    unsigned status;
    bool no_body;
    std::optional<std::uint64_t> length;
    bool read;
  };
  const std::vector<Row> rows{
      {200, false, 10, false},        {204, true, {}, false},      {302, false, 10, true},
      {304, false, 10, false},        {401, false, {}, true},      {403, false, peek_limit, true},
      {403, false, peek_limit + 1, false}, {500, true, 0, false}, {503, false, 0, true},
  };
  for (auto const& r : rows) {
    SCOPED_TRACE(r.status);
    EXPECT_EQ(should_read_error_body(r.status, r.no_body, r.length), r.read);
  }
}

}  // namespace
}  // namespace vp::core
