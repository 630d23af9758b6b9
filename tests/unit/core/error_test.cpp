#include "core/error.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace vp {
namespace {

TEST(ErrorTaxonomy, StatusAndSourceForEveryCode) {
  struct Row {
    core::ErrorCode code;
    unsigned status;
    core::ErrorSource source;
    std::string_view name;
  };
  const Row rows[] = {
      {core::ErrorCode::bad_request, 400, core::ErrorSource::downstream, "bad_request"},
      {core::ErrorCode::header_too_large, 431, core::ErrorSource::downstream, "header_too_large"},
      {core::ErrorCode::uri_too_long, 414, core::ErrorSource::downstream, "uri_too_long"},
      {core::ErrorCode::misdirected_request, 421, core::ErrorSource::downstream, "misdirected_request"},
      {core::ErrorCode::forbidden_origin, 403, core::ErrorSource::downstream, "forbidden_origin"},
      {core::ErrorCode::method_not_allowed, 405, core::ErrorSource::downstream, "method_not_allowed"},
      {core::ErrorCode::not_found, 404, core::ErrorSource::downstream, "not_found"},
      {core::ErrorCode::overloaded, 503, core::ErrorSource::internal, "overloaded"},
      {core::ErrorCode::credentials_missing, 503, core::ErrorSource::internal, "credentials_missing"},
      {core::ErrorCode::token_unavailable, 503, core::ErrorSource::internal, "token_unavailable"},
      {core::ErrorCode::local_policy, 403, core::ErrorSource::downstream, "local_policy"},
      {core::ErrorCode::upstream_connect, 502, core::ErrorSource::upstream, "upstream_connect"},
      {core::ErrorCode::upstream_tls, 502, core::ErrorSource::upstream, "upstream_tls"},
      {core::ErrorCode::upstream_timeout, 504, core::ErrorSource::upstream, "upstream_timeout"},
      {core::ErrorCode::upstream_protocol, 502, core::ErrorSource::upstream, "upstream_protocol"},
      {core::ErrorCode::upstream_closed, 502, core::ErrorSource::upstream, "upstream_closed"},
      {core::ErrorCode::internal, 500, core::ErrorSource::internal, "internal"},
  };
  for (auto const& r : rows) {
    EXPECT_EQ(status_for(r.code), r.status) << r.name;
    EXPECT_EQ(source_of(r.code), r.source) << r.name;
    EXPECT_EQ(code_name(r.code), r.name);
    EXPECT_FALSE(default_message(r.code).empty()) << r.name;
  }
}

TEST(ErrorBody, IsJsonWithMessageAndErrorEvenForHostileText) {
  auto body = error_body(core::ErrorCode::upstream_tls, "bad \"quote\"\n\x01 and \xff byte");
  auto j = nlohmann::json::parse(body);
  EXPECT_EQ(j["error"], "upstream_tls");
  EXPECT_NE(j["message"].get<std::string>().find("\"quote\""), std::string::npos);
}

TEST(ErrorBody, CredentialsMissingNamesTheVariables) {
  auto msg = std::string(default_message(core::ErrorCode::credentials_missing));
  EXPECT_NE(msg.find("CF_ACCESS_CLIENT_ID"), std::string::npos);
  EXPECT_NE(msg.find("CF_ACCESS_CLIENT_SECRET"), std::string::npos);
}

}  // namespace
}  // namespace vp
