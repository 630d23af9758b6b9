// Large bodies each way through the real binary: they arrive intact (digest) and the proxy's peak RSS
// stays flat, i.e. it streams rather than buffers.

#include "support/digest.hpp"
#include "support/proxy_fixture.hpp"
#include "support/rss.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace {

using namespace vp::test;
using namespace std::chrono_literals;

/// 200 MiB each way, as the issue asks (about 30 s for both under the ASan dev preset on a busy
/// 2-core machine). VP_IT_BIG_MB overrides the size for a quick local run; the RSS-growth bound
/// below still tells streaming (under 1 MiB of growth measured) from buffering down to ~32 MiB.
std::uint64_t big_size() {
  const char* mb = std::getenv("VP_IT_BIG_MB");
  return (mb && *mb ? std::strtoull(mb, nullptr, 10) : 200ull) * 1024 * 1024;
}
const std::uint64_t big = big_size();

/// Asserts the RSS bounds and records the numbers in the test's XML output.
void expect_streamed(ProxyProcess& proxy, std::uint64_t before_kb) {
  ::testing::Test::RecordProperty("body_bytes", std::to_string(big));
  expect_flat_rss(proxy, before_kb, "a " + std::to_string(big / (1024 * 1024)) + " MiB body");
}

class LargeBodies : public ProxyTest {};

TEST_F(LargeBodies, LargeDownloadIsStreamedWithFlatRss) {
  start(ProxySetup{}
            .with_handler([](const RecordedRequest& r) {
              Response resp;
              resp.generated_body = r.target == "/big" ? big : std::uint64_t{1};
              resp.chunk_size = 256 * 1024;  // Content-Length framing; chunked is covered in forwarding_test
              return resp;
            })
            .with_env(rss_child_env()));
  HttpClient c(port(), 60s);
  ClientRequest warm;
  warm.target = "/warm";
  ASSERT_EQ(c.request(warm).status, 200u);
  const auto before = proxy().status_kb("VmRSS").value_or(0);

  ClientRequest req;
  req.target = "/big";
  c.send(req);
  auto res = c.read_response(ReadOptions::streaming());
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(res.body_size, big);
  EXPECT_EQ(res.body_sha256, PatternBody::sha256(big));

  expect_streamed(proxy(), before);
}

TEST_F(LargeBodies, LargeUploadIsStreamedWithFlatRss) {
  start(ProxySetup{}.with_store_body_limit(1024).with_env(rss_child_env()));
  HttpClient c(port(), 60s);
  ClientRequest warm;  // warms the request-body path too
  warm.method = "PUT";
  warm.target = "/warm";
  warm.body = PatternBody::make(100'000);
  ASSERT_EQ(c.request(warm).status, 200u);
  const auto before = proxy().status_kb("VmRSS").value_or(0);

  ClientRequest req;
  req.method = "PUT";
  req.target = "/upload";
  c.send_generated(req, big, 256 * 1024);
  auto res = c.read_response();
  EXPECT_EQ(res.status, 200u);
  auto reqs = upstream().requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_TRUE(reqs[1].body_complete);
  EXPECT_EQ(reqs[1].body_size, big);
  EXPECT_EQ(reqs[1].body_sha256, PatternBody::sha256(big));

  expect_streamed(proxy(), before);
}

}  // namespace
