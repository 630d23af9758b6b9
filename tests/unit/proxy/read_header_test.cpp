// The read buffers' bound (core::read_buffer_limit), in memory over beast::test::stream: what it
// limits in Beast's parser, and how read_header and a body read report a full buffer.

#include "core/framing.hpp"
#include "proxy/read_header.hpp"

#include <boost/beast/_experimental/test/stream.hpp>
#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace vp::proxy {
namespace {

constexpr std::size_t limit = core::read_buffer_limit;

/// read_header over `bytes` (then EOF) into a bounded buffer.
HeaderRead read_header_of(const std::string& bytes) {
  net::io_context ioc;
  beast::test::stream stream(ioc, bytes);
  stream.close_remote();
  beast::flat_buffer buf{limit};
  http::request_parser<http::buffer_body> parser;
  parser.header_limit(core::HeaderLimits{}.header);  // as session.cpp sets it
  std::optional<HeaderRead> out;
  net::co_spawn(ioc, read_header(stream, buf, parser, core::HeaderLimits{}),
                [&](std::exception_ptr e, HeaderRead r) {
                  if (e) std::rethrow_exception(e);
                  out = r;
                });
  ioc.run();
  return out.value();
}

/// A request head followed by `body`, read as session.cpp reads it: the header, then the body
/// piece by piece through a 64 KiB relay buffer, all with one bounded read buffer. The first error
/// of a body read, or success once the body is complete.
beast::error_code read_chunked_body(const std::string& body) {
  net::io_context ioc;
  beast::test::stream stream(ioc, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body);
  stream.close_remote();
  beast::flat_buffer buf{limit};
  http::request_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  beast::error_code ec;
  http::read_header(stream, buf, parser, ec);
  if (ec) return ec;
  std::string relay(64 * 1024, '\0');
  while (!parser.is_done()) {
    parser.get().body().data = relay.data();
    parser.get().body().size = relay.size();
    http::read(stream, buf, parser, ec);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return ec;
  }
  return ec;
}

std::string trailer_lines(std::size_t total) {
  const std::string line = "X-T: " + std::string(1000, 't') + "\r\n";
  std::string out;
  while (out.size() + line.size() <= total) out += line;
  return out;
}

TEST(ReadHeader, AHeaderThatFillsTheBufferWithoutEndingIsTooLarge) {
  // Exactly the buffer's bound: the scanner has not yet seen more than the header limit, and the
  // next read would have no room (prepare() would throw).
  std::string head = "GET / HTTP/1.1\r\n";
  while (head.size() < limit) head += "X-F: " + std::string(200, 'v') + "\r\n";
  head.resize(limit);
  auto r = read_header_of(head);
  EXPECT_EQ(r.result, HeaderRead::Result::header_too_large);
}

TEST(ReadHeader, AHeaderOfExactlyTheLimitFits) {
  std::string head = "GET / HTTP/1.1\r\n";
  const std::string field = "X-F: v\r\n";
  while (head.size() + field.size() + 2 <= limit) head += field;
  head += std::string(limit - head.size() - 6, 'x') + ": \r\n";  // one last field, to the byte
  head += "\r\n";
  ASSERT_EQ(head.size(), limit);
  EXPECT_EQ(read_header_of(head).result, HeaderRead::Result::ok);
}

// Beast limits neither a chunk-size line's extensions nor the trailer section, but needs each whole
// in the read buffer before it parses it: the buffer's bound is their limit.

TEST(ReadBufferBound, LimitsAChunkExtension) {
  const std::string fits = "1;ext=" + std::string(limit - 1024, 'e') + "\r\na\r\n0\r\n\r\n";
  EXPECT_FALSE(read_chunked_body(fits));
  const std::string over = "1;ext=" + std::string(limit, 'e') + "\r\na\r\n0\r\n\r\n";
  auto ec = read_chunked_body(over);
  EXPECT_EQ(ec, http::error::buffer_overflow) << ec.message();
  EXPECT_EQ(core::body_fault(ec), core::BodyFault::too_large);
}

TEST(ReadBufferBound, LimitsTheTrailerSection) {
  EXPECT_FALSE(read_chunked_body("1\r\na\r\n0\r\n" + trailer_lines(limit - 1024) + "\r\n"));
  auto ec = read_chunked_body("1\r\na\r\n0\r\n" + trailer_lines(limit + 1024) + "\r\n");
  EXPECT_EQ(ec, http::error::buffer_overflow) << ec.message();
}

TEST(ReadBufferBound, DoesNotLimitTheBodyOrTheNumberOfChunks) {
  std::string body;
  for (int i = 0; i < 64; ++i) body += "4000\r\n" + std::string(0x4000, 'b') + "\r\n";  // 1 MiB
  body += "0\r\n\r\n";
  EXPECT_FALSE(read_chunked_body(body));
}

}  // namespace
}  // namespace vp::proxy
