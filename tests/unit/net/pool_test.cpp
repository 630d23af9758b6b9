// BasicPool without sockets: a fake connection whose liveness and unread bytes the test sets.

#include "net/pool.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace vp::net_upstream {
namespace {

using namespace std::chrono_literals;

struct FakeConn {
  int id = 0;
  bool closed = false;  ///< what peer_closed() reports
  bool unread = false;  ///< what has_unread() reports
  bool lean = false;
  int released = 0;
  clock::time_point idle_since{};
};

struct FakePolicy {
  static bool peer_closed(FakeConn& c) { return c.closed; }
  static bool has_unread(FakeConn& c) { return c.unread; }
  static void set_lean(FakeConn& c, bool lean) { c.lean = lean; }
  static void release_buffers(FakeConn& c) { ++c.released; }
};

using FakePool = BasicPool<FakeConn, FakePolicy>;

std::unique_ptr<FakeConn> conn(int id) {
  auto c = std::make_unique<FakeConn>();
  c->id = id;
  return c;
}

const clock::time_point t0 = clock::now();

TEST(BasicPool, AnEmptyPoolHasNothingToLend) {
  FakePool pool({4, 30s});
  EXPECT_EQ(pool.take_idle(t0), nullptr);
  EXPECT_EQ(pool.stats().reuses, 0u);
}

TEST(BasicPool, TheLastConnectionGivenBackIsTheFirstTaken) {
  FakePool pool({4, 30s});
  for (int id = 1; id <= 3; ++id) pool.give_back(conn(id), t0);
  EXPECT_EQ(pool.idle_count(), 3u);
  EXPECT_EQ(pool.take_idle(t0)->id, 3);
  EXPECT_EQ(pool.take_idle(t0)->id, 2);
  EXPECT_EQ(pool.take_idle(t0)->id, 1);
  EXPECT_EQ(pool.take_idle(t0), nullptr);
  EXPECT_EQ(pool.stats().reuses, 3u);
}

TEST(BasicPool, AFullPoolDropsTheConnectionGivenBack) {
  FakePool pool({2, 30s});
  for (int id = 1; id <= 3; ++id) pool.give_back(conn(id), t0);
  EXPECT_EQ(pool.idle_count(), 2u);
  EXPECT_EQ(pool.take_idle(t0)->id, 2);
}

TEST(BasicPool, ASizeOfZeroPoolsNothing) {
  FakePool pool({0, 30s});
  pool.give_back(conn(1), t0);
  EXPECT_EQ(pool.idle_count(), 0u);
}

TEST(BasicPool, AConnectionWithUnreadBytesIsRefused) {
  FakePool pool({4, 30s});
  auto c = conn(1);
  c->unread = true;
  pool.give_back(std::move(c), t0);
  EXPECT_EQ(pool.idle_count(), 0u);
  EXPECT_EQ(pool.stats().unread_dropped, 1u);
}

TEST(BasicPool, AnExpiredConnectionIsDroppedAndTheNextOneTaken) {
  FakePool pool({4, 30s});
  pool.give_back(conn(1), t0 + 20s);
  pool.give_back(conn(2), t0);  // the warmest by order, but given back earlier
  auto c = pool.take_idle(t0 + 40s);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->id, 1);
  EXPECT_EQ(pool.stats().stale_dropped, 1u);
}

TEST(BasicPool, AConnectionIdleForExactlyTheTimeoutHasExpired) {
  FakePool pool({4, 30s});
  pool.give_back(conn(1), t0);
  EXPECT_EQ(pool.take_idle(t0 + 30s), nullptr);
  EXPECT_EQ(pool.stats().stale_dropped, 1u);
}

TEST(BasicPool, AConnectionThePeerClosedIsNeverLent) {
  FakePool pool({4, 30s});
  auto c = conn(1);
  auto* raw = c.get();
  pool.give_back(std::move(c), t0);
  raw->closed = true;
  EXPECT_EQ(pool.take_idle(t0), nullptr);
  EXPECT_EQ(pool.stats().stale_dropped, 1u);
  EXPECT_EQ(pool.stats().reuses, 0u);
}

TEST(BasicPool, ConnectionsThatSinkBelowTheHotOnesReleaseTheirBuffers) {
  FakePool pool({64, 30s});
  std::vector<FakeConn*> raw;
  for (int id = 0; id < int(FakePool::hot_connections) + 2; ++id) {
    auto c = conn(id);
    raw.push_back(c.get());
    pool.give_back(std::move(c), t0);
  }
  EXPECT_EQ(raw[0]->released, 1);
  EXPECT_EQ(raw[1]->released, 1);
  EXPECT_EQ(raw[2]->released, 0);
  EXPECT_EQ(raw.back()->released, 0);
}

TEST(BasicPool, ALentConnectionIsLeanOnlyWhenManyAreOut) {
  FakePool pool({4, 30s});
  pool.give_back(conn(1), t0);
  *pool.live() = 2;  // the pooled one and one other
  EXPECT_FALSE(pool.take_idle(t0)->lean);
  pool.give_back(conn(2), t0);
  *pool.live() = FakePool::lean_above + 2;
  EXPECT_TRUE(pool.take_idle(t0)->lean);
}

TEST(BasicPool, ClearDropsEveryIdleConnection) {
  FakePool pool({4, 30s});
  pool.give_back(conn(1), t0);
  pool.give_back(conn(2), t0);
  pool.clear();
  EXPECT_EQ(pool.idle_count(), 0u);
  EXPECT_EQ(pool.take_idle(t0), nullptr);
}

}  // namespace
}  // namespace vp::net_upstream
