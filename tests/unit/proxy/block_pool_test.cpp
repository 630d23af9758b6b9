// proxy::BlockPool / RelayBuffer: body buffers lent only while a body moves, large while few are lent.

#include "proxy/worker.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace vp::proxy {
namespace {

TEST(RelayBuffer, TakesNoBlockUntilUsedAndGivesItBack) {
  BlockPool pool;
  {
    RelayBuffer r(pool);
    EXPECT_EQ(pool.lent(), 0u);
    char* p = r.data();
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(pool.lent(), 1u);
    EXPECT_EQ(r.data(), p);  // the same block until released
    r.release();
    EXPECT_EQ(pool.lent(), 0u);
    r.release();  // twice is harmless
    EXPECT_EQ(pool.lent(), 0u);
  }
  {
    RelayBuffer r(pool);
    r.size();  // asking the size takes the block too
    EXPECT_EQ(pool.lent(), 1u);
  }
  EXPECT_EQ(pool.lent(), 0u);  // the destructor gave it back
}

TEST(RelayBuffer, LargeBlocksWhileFewAreLentSmallBeyond) {
  BlockPool pool;
  std::vector<std::unique_ptr<RelayBuffer>> held;
  for (std::size_t i = 0; i < BlockPool::large_below; ++i) {
    held.push_back(std::make_unique<RelayBuffer>(pool));
    EXPECT_EQ(held.back()->size(), BlockPool::large_size) << i;
  }
  RelayBuffer extra(pool);
  EXPECT_EQ(extra.size(), BlockPool::small_size);
  // Once the load falls, the next block is large again, and a reused block keeps its size.
  held.clear();
  extra.release();
  RelayBuffer next(pool);
  EXPECT_EQ(next.size(), BlockPool::large_size);
  next.data()[BlockPool::large_size - 1] = 'x';  // the whole block is usable (ASan checks)
}

TEST(RelayBuffer, ReusesGivenBackBlocks) {
  BlockPool pool;
  char* first = nullptr;
  {
    RelayBuffer r(pool);
    first = r.data();
  }
  RelayBuffer again(pool);
  EXPECT_EQ(again.data(), first);
}

}  // namespace
}  // namespace vp::proxy
