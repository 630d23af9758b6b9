// net_util::Deadline: the lazily armed per-connection timer that replaced a timer per operation.

#include "net/deadline.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace vp {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(Deadline, PassedDeadlineRunsTheCancelActionOnceAndReportsTimedOut) {
  net::io_context ioc;
  int cancels = 0;
  net_util::Deadline d(ioc.get_executor(), [&] { ++cancels; });
  d.expires_after(20ms);
  EXPECT_FALSE(d.timed_out());
  ioc.run_for(200ms);
  EXPECT_EQ(cancels, 1);
  EXPECT_TRUE(d.timed_out());
  d.expires_after(10s);  // a new deadline clears the state
  EXPECT_FALSE(d.timed_out());
}

TEST(Deadline, ADeadlinePushedLaterIsHonouredAfterTheFirstWakeUp) {
  net::io_context ioc;
  Clock::time_point fired{};
  net_util::Deadline d(ioc.get_executor(), [&] { fired = Clock::now(); });
  auto start = Clock::now();
  d.expires_after(30ms);
  // Moved on before the first deadline passes: the timer wakes at 30 ms, finds the new deadline
  // and sleeps again instead of cancelling.
  net::steady_timer push(ioc);
  push.expires_after(10ms);
  push.async_wait([&](const error_code&) { d.expires_after(120ms); });
  ioc.run_for(400ms);
  ASSERT_NE(fired, Clock::time_point{});
  EXPECT_GE(fired - start, 125ms);
}

TEST(Deadline, AnEarlierDeadlineRearmsTheTimer) {
  net::io_context ioc;
  Clock::time_point fired{};
  net_util::Deadline d(ioc.get_executor(), [&] { fired = Clock::now(); });
  auto start = Clock::now();
  d.expires_after(10s);
  d.expires_after(20ms);
  ioc.run_for(500ms);
  ASSERT_NE(fired, Clock::time_point{});
  EXPECT_LT(fired - start, 400ms);
}

TEST(Deadline, NeverMeansNoCancel) {
  net::io_context ioc;
  int cancels = 0;
  net_util::Deadline d(ioc.get_executor(), [&] { ++cancels; });
  d.expires_after(20ms);
  d.expires_never();
  ioc.run_for(150ms);
  EXPECT_EQ(cancels, 0);
  EXPECT_FALSE(d.timed_out());
}

TEST(Deadline, AWakeUpQueuedWhenTheOwnerIsDestroyedDoesNothing) {
  net::io_context ioc;
  int cancels = 0;
  {
    net_util::Deadline d(ioc.get_executor(), [&] { ++cancels; });
    d.expires_after(1ms);
    std::this_thread::sleep_for(20ms);
    ioc.poll_one();  // the timer has expired: its handler may now be queued
  }
  ioc.run_for(100ms);
  EXPECT_LE(cancels, 1);  // at most the one that ran before destruction
  int before = cancels;
  ioc.run_for(50ms);
  EXPECT_EQ(cancels, before);
}

TEST(DeadlineStream, AReadCutOffByTheDeadlineFailsWithTimeout) {
  net::io_context ioc;
  net::local::stream_protocol::socket a(ioc), b(ioc);
  net::local::connect_pair(a, b);
  net_util::DeadlineStream<net::local::stream_protocol> s(std::move(a));
  s.expires_after(30ms);
  char buf[8];
  error_code got;
  s.async_read_some(net::buffer(buf), [&](error_code ec, std::size_t) { got = ec; });
  ioc.run_for(500ms);
  EXPECT_EQ(got, beast::error::timeout);
}

TEST(DeadlineStream, AReadThatCompletesInTimeIsNotCancelled) {
  net::io_context ioc;
  net::local::stream_protocol::socket a(ioc), b(ioc);
  net::local::connect_pair(a, b);
  net_util::DeadlineStream<net::local::stream_protocol> s(std::move(a));
  s.expires_after(5s);
  char buf[8];
  error_code got = net::error::would_block;
  std::size_t n = 0;
  s.async_read_some(net::buffer(buf), [&](error_code ec, std::size_t k) { got = ec; n = k; });
  net::write(b, net::buffer("hi", 2));
  ioc.run_for(200ms);
  EXPECT_FALSE(got);
  EXPECT_EQ(n, 2u);
}

}  // namespace
}  // namespace vp
