// read_header with a failure injected at every I/O step (beast::test::fail_count), in memory: each
// run ends with a defined result, reports the bytes it received before the failure, and leaves
// nothing behind (the unit tests run under ASan).

#include "core/plan.hpp"
#include "proxy/read_header.hpp"

#include <boost/beast/_experimental/test/fail_count.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace vp::proxy {
namespace {

struct Run {
  HeaderRead read;
  bool first_byte_seen = false;
};

/// read_header over `bytes`, delivered `read_size` bytes per read, with the `fail_at`-th stream
/// operation failing (0: none).
template <class Parser>
Run read_with_failure(const std::string& bytes, std::size_t read_size, std::size_t fail_at) {
  net::io_context ioc;
  beast::test::fail_count fc(fail_at == 0 ? std::size_t(-1) : fail_at);
  beast::test::stream stream(ioc, fc, bytes);
  stream.read_size(read_size);
  stream.close_remote();
  beast::flat_buffer buf{core::read_buffer_limit};
  Parser parser;
  std::optional<Run> out;
  bool seen = false;
  net::co_spawn(ioc, read_header(stream, buf, parser, core::HeaderLimits{}, [&] { seen = true; }),
                [&](std::exception_ptr e, HeaderRead r) {
                  if (e) std::rethrow_exception(e);
                  out = Run{r, seen};
                });
  ioc.run();
  return out.value();
}

template <class Parser>
void fail_at_every_step(const std::string& bytes, std::size_t read_size) {
  const std::size_t reads = (bytes.size() + read_size - 1) / read_size;
  for (std::size_t n = 1; n <= reads + 1; ++n) {
    SCOPED_TRACE(n);
    auto r = read_with_failure<Parser>(bytes, read_size, n);
    if (n > reads) {
      // Every read the header needs came before the failure.
      EXPECT_EQ(r.read.result, HeaderRead::Result::ok);
      EXPECT_TRUE(r.first_byte_seen);
      continue;
    }
    EXPECT_EQ(r.read.result, HeaderRead::Result::io_error);
    EXPECT_EQ(r.read.ec, beast::test::error::test_failure);
    EXPECT_EQ(r.read.bytes_read, (n - 1) * read_size);
    EXPECT_EQ(r.first_byte_seen, n > 1);
    // Neither a disconnect nor a timeout: a client gets 400, an upstream read is upstream_protocol,
    // and no retry follows.
    EXPECT_FALSE(core::client_gone(r.read.ec));
    EXPECT_EQ(core::upstream_read_error(r.read.ec), core::ErrorCode::upstream_protocol);
  }
}

TEST(ReadHeaderFaults, RequestHeaderFailsAtEveryRead) {
  const std::string head = "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1:2019\r\nAccept: */*\r\n\r\n";
  for (std::size_t step : {std::size_t(1), std::size_t(7), head.size()}) {
    SCOPED_TRACE(step);
    fail_at_every_step<http::request_parser<http::buffer_body>>(head, step);
  }
}

TEST(ReadHeaderFaults, ResponseHeaderFailsAtEveryRead) {
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n";
  for (std::size_t step : {std::size_t(3), std::size_t(16)}) {
    SCOPED_TRACE(step);
    fail_at_every_step<http::response_parser<http::buffer_body>>(head, step);
  }
}

TEST(ReadHeaderFaults, LeadingEmptyLinesThenAFailure) {
  // Skipped empty lines count as received bytes; the failure still ends the read as io_error.
  const std::string bytes = "\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n";
  auto r = read_with_failure<http::request_parser<http::buffer_body>>(bytes, 4, 2);
  EXPECT_EQ(r.read.result, HeaderRead::Result::io_error);
  EXPECT_EQ(r.read.bytes_read, 4u);
}

TEST(ReadHeaderFaults, EndOfStreamBeforeAnyByteIsADisconnect) {
  auto r = read_with_failure<http::response_parser<http::buffer_body>>("", 16, 0);
  EXPECT_EQ(r.read.result, HeaderRead::Result::io_error);
  EXPECT_EQ(r.read.bytes_read, 0u);
  EXPECT_FALSE(r.first_byte_seen);
  EXPECT_TRUE(core::is_disconnect(r.read.ec));
  // A reused connection closed this way may carry an idempotent bodiless request again.
  EXPECT_TRUE(core::retry_decision(core::AttemptFailure::closed_early,
                                   {.reused = true, .idempotent = true, .response_bytes = r.read.bytes_read}));
}

TEST(ReadHeaderFaults, EndOfStreamMidHeaderIsADisconnectWithBytes) {
  auto r = read_with_failure<http::response_parser<http::buffer_body>>("HTTP/1.1 200 OK\r\nX-A", 8, 0);
  EXPECT_EQ(r.read.result, HeaderRead::Result::io_error);
  EXPECT_EQ(r.read.bytes_read, 20u);
  EXPECT_TRUE(core::is_disconnect(r.read.ec));
  EXPECT_FALSE(core::retry_decision(core::AttemptFailure::closed_early,
                                    {.reused = true, .idempotent = true, .response_bytes = r.read.bytes_read}));
}

}  // namespace
}  // namespace vp::proxy
