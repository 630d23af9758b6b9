#include "core/error.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace vp {
namespace {

TEST(ErrorTaxonomy, StatusAndSourceForEveryCode) {
  struct Row {
    ErrorCode code;
    unsigned status;
    ErrorSource source;
    std::string_view name;
  };
  const Row rows[] = {
      {ErrorCode::bad_request, 400, ErrorSource::downstream, "bad_request"},
      {ErrorCode::header_too_large, 431, ErrorSource::downstream, "header_too_large"},
      {ErrorCode::uri_too_long, 414, ErrorSource::downstream, "uri_too_long"},
      {ErrorCode::misdirected_request, 421, ErrorSource::downstream, "misdirected_request"},
      {ErrorCode::forbidden_origin, 403, ErrorSource::downstream, "forbidden_origin"},
      {ErrorCode::method_not_allowed, 405, ErrorSource::downstream, "method_not_allowed"},
      {ErrorCode::not_found, 404, ErrorSource::downstream, "not_found"},
      {ErrorCode::overloaded, 503, ErrorSource::internal, "overloaded"},
      {ErrorCode::credentials_missing, 503, ErrorSource::internal, "credentials_missing"},
      {ErrorCode::token_unavailable, 503, ErrorSource::internal, "token_unavailable"},
      {ErrorCode::upstream_connect, 502, ErrorSource::upstream, "upstream_connect"},
      {ErrorCode::upstream_tls, 502, ErrorSource::upstream, "upstream_tls"},
      {ErrorCode::upstream_timeout, 504, ErrorSource::upstream, "upstream_timeout"},
      {ErrorCode::upstream_protocol, 502, ErrorSource::upstream, "upstream_protocol"},
      {ErrorCode::upstream_closed, 502, ErrorSource::upstream, "upstream_closed"},
      {ErrorCode::internal, 500, ErrorSource::internal, "internal"},
  };
  for (auto const& r : rows) {
    EXPECT_EQ(status_for(r.code), r.status) << r.name;
    EXPECT_EQ(source_of(r.code), r.source) << r.name;
    EXPECT_EQ(code_name(r.code), r.name);
    EXPECT_FALSE(default_message(r.code).empty()) << r.name;
  }
}

TEST(ErrorBody, IsJsonWithMessageAndErrorEvenForHostileText) {
  auto body = error_body(ErrorCode::upstream_tls, "bad \"quote\"\n\x01 and \xff byte");
  auto j = nlohmann::json::parse(body);
  EXPECT_EQ(j["error"], "upstream_tls");
  EXPECT_NE(j["message"].get<std::string>().find("\"quote\""), std::string::npos);
}

TEST(ErrorBody, CredentialsMissingNamesTheVariables) {
  auto msg = std::string(default_message(ErrorCode::credentials_missing));
  EXPECT_NE(msg.find("CF_ACCESS_CLIENT_ID"), std::string::npos);
  EXPECT_NE(msg.find("CF_ACCESS_CLIENT_SECRET"), std::string::npos);
}

}  // namespace
}  // namespace vp
