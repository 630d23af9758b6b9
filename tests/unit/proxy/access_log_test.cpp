#include "proxy/access_log.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace vp::proxy {
namespace {

AccessRecord sample() {
  AccessRecord r;
  r.method = "GET";
  r.target = "/api/v3/secrets/raw/KEY?workspaceId=abc&secretPath=%2F";
  r.status = 403;
  r.upstream_status = 403;
  r.bytes = 120;
  r.duration = std::chrono::microseconds(1500);
  return r;
}

TEST(AccessLog, TextLineHasFieldsAndNoQuery) {
  auto line = format_access(sample(), config::LogFormat::text);
  EXPECT_EQ(line, "GET /api/v3/secrets/raw/KEY 403 upstream=403 bytes=120 1.500ms error=- diagnosis=-");
}

TEST(AccessLog, JsonLineParsesAndHasNoQuery) {
  auto r = sample();
  r.error = "upstream_timeout";
  r.diagnosis = "upstream_timeout";
  auto j = nlohmann::json::parse(format_access(r, config::LogFormat::json));
  EXPECT_EQ(j["path"], "/api/v3/secrets/raw/KEY");
  EXPECT_EQ(j["status"], 403);
  EXPECT_EQ(j["upstream_status"], 403);
  EXPECT_EQ(j["error"], "upstream_timeout");
  EXPECT_EQ(j["diagnosis"], "upstream_timeout");
  EXPECT_EQ(j.dump().find("workspaceId"), std::string::npos);
}

}  // namespace
}  // namespace vp::proxy
