// The first request after start (issue 17): each worker opens one upstream connection in the
// background once it is up, so the first request finds it pooled and handshaken; an upstream that is
// down at start delays nothing and fails nothing.

#include "support/proxy_fixture.hpp"

#include <gtest/gtest.h>

namespace {

using namespace vp::test;
using namespace std::chrono_literals;

class Preconnect : public ProxyTest {
 protected:
  // One worker, so that "one connection per worker" is one connection.
  static ProxySetup one_worker() { return ProxySetup{}.with_env({{"VAULT_PROXY_THREADS", "1"}}); }
};

TEST_F(Preconnect, TheUpstreamHasATlsConnectionBeforeAnyRequest) {
  start(one_worker());
  EXPECT_TRUE(upstream().wait_for_handshakes(1, 10s)) << redacted_stderr();
  EXPECT_EQ(upstream().request_count(), 0u);
}

TEST_F(Preconnect, TheFirstRequestIsServedOnThePreopenedConnection) {
  start(one_worker());
  ASSERT_TRUE(upstream().wait_for_handshakes(1, 10s)) << redacted_stderr();
  auto res = http_get(port(), "/api/status");
  EXPECT_EQ(res.status, 200u) << res.body;
  EXPECT_EQ(upstream().connections(), 1u) << "the first request opened a connection of its own";
  EXPECT_EQ(upstream().handshakes(), 1u);
  auto reqs = upstream().requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].connection_id, 1u);
}

TEST_F(Preconnect, ARequestThatArrivesWhileTheSpareConnectsWaitsForIt) {
  // No wait for the handshake: the request may come while the spare is still connecting.
  start(one_worker());
  auto res = http_get(port(), "/api/status");
  EXPECT_EQ(res.status, 200u) << res.body;
  EXPECT_EQ(upstream().connections(), 1u) << "the first request dialled a connection beside the spare";
}

TEST_F(Preconnect, EachWorkerOpensOne) {
  start(ProxySetup{}.with_env({{"VAULT_PROXY_THREADS", "3"}}));
  EXPECT_TRUE(upstream().wait_for_handshakes(3, 10s)) << redacted_stderr();
  EXPECT_EQ(upstream().request_count(), 0u);
}

TEST_F(Preconnect, NoneWhenPoolingIsOff) {
  start(one_worker().with_env({{"VAULT_PROXY_POOL_SIZE", "0"}}));
  // The health answer comes from the worker's thread, after the spare connection would have been
  // started there.
  ASSERT_EQ(http_get(port(), "/__vault-proxy/health").status, 200u);
  EXPECT_FALSE(upstream().wait_for_handshakes(1, 300ms));
}

TEST_F(Preconnect, AnUpstreamDownAtStartFailsNothingAndTheFirstRequestConnects) {
  start(one_worker().without_upstream().with_env({{"VAULT_PROXY_LOG_LEVEL", "debug"}}));
  EXPECT_TRUE(proxy().wait_for_stderr("no upstream connection opened ahead of the first request", 10s))
      << redacted_stderr();
  // The upstream comes up on the port the proxy dials, which nothing listened on until now.
  const auto dead = dead_port_->port();
  dead_port_.reset();
  FakeUpstream::Options o{shared_pki().valid};
  o.port = dead;
  upstream_ = std::make_unique<FakeUpstream>(o, FakeUpstream::Handler{});
  auto res = http_get(port(), "/api/status");
  EXPECT_EQ(res.status, 200u) << res.body << redacted_stderr();
  EXPECT_EQ(upstream().request_count(), 1u);
}

}  // namespace
