// Strict framing: the raw header scanner and the framing-field rules, with hostile input.
#include "core/framing.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <gtest/gtest.h>

#include <string>

namespace vp::core {
namespace {

using namespace std::string_literals;
using State = HeaderScan::State;

HeaderScan scan_whole(std::string_view bytes) {
  HeaderScanner s;
  return s.scan(bytes);
}

/// Feeds `bytes` one byte more per call, as a trickling client would.
HeaderScan scan_bytewise(std::string_view bytes) {
  HeaderScanner s;
  HeaderScan last;
  for (std::size_t n = 1; n <= bytes.size(); ++n) {
    last = s.scan(bytes.substr(0, n));
    if (last.state != State::need_more) return last;
  }
  return last;
}

TEST(HeaderScanner, FindsTheEndOfAWellFormedHeaderWholeOrTrickled) {
  const std::string h = "GET /a HTTP/1.1\r\nHost: x\r\nX-A: b\r\n\r\n";
  for (auto r : {scan_whole(h + "BODY"), scan_bytewise(h + "BODY")}) {
    EXPECT_EQ(r.state, State::complete);
    EXPECT_EQ(r.header_size, h.size());
    EXPECT_EQ(r.first_line_end, h.find('\r'));
  }
}

TEST(HeaderScanner, WaitsForMoreUntilTheEmptyLine) {
  for (std::string partial : {"GET / HTTP/1.1", "GET / HTTP/1.1\r", "GET / HTTP/1.1\r\nHost: x\r\n",
                              "GET / HTTP/1.1\r\nHost: x\r\n\r"}) {
    EXPECT_EQ(scan_whole(partial).state, State::need_more) << partial;
  }
  EXPECT_EQ(scan_whole("GET / HTTP/1.1").first_line_end, 0u) << "no line end seen yet";
}

struct Bad {
  const char* name;
  std::string bytes;
  std::string_view reason_part;
};

class HeaderScannerRefuses : public ::testing::TestWithParam<Bad> {};

TEST_P(HeaderScannerRefuses, WholeAndTrickled) {
  const auto& bad = GetParam();
  for (auto r : {scan_whole(bad.bytes), scan_bytewise(bad.bytes)}) {
    EXPECT_EQ(r.state, State::malformed);
    EXPECT_NE(r.reason.find(bad.reason_part), std::string_view::npos) << r.reason;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Hostile, HeaderScannerRefuses,
    ::testing::Values(
        Bad{"ObsFold", "GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n", "obs-fold"},
        Bad{"ObsFoldTab", "GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n", "obs-fold"},
        Bad{"WhitespaceFirstField", "GET / HTTP/1.1\r\n Host: x\r\n\r\n", "obs-fold"},
        Bad{"BareLfLineEnd", "GET / HTTP/1.1\nHost: x\n\n", "bare LF"},
        Bad{"BareLfInValue", "GET / HTTP/1.1\r\nX-A: a\nb\r\n\r\n", "bare LF"},
        Bad{"BareCrInValue", "GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n", "CR not followed by LF"},
        Bad{"NulInValue", "GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n"s, "NUL"},
        Bad{"NulInRequestLine", "GET /\0 HTTP/1.1\r\n\r\n"s, "NUL"},
        Bad{"Http09SimpleRequest", "GET /path\r\n", "HTTP/0.9"},
        Bad{"Http09ThenFields", "GET /path\r\nHost: x\r\n\r\n", "without an HTTP version"},
        Bad{"VersionWithoutDot", "GET / HTTP/11\r\n\r\n", "without an HTTP version"},
        Bad{"LowercaseVersion", "GET / http/1.1\r\n\r\n", "without an HTTP version"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(StartLine, HasAVersionOrIsHttp09) {
  struct Case {
    std::string_view line;
    bool ok;
  };
  const Case cases[] = {
      {"GET / HTTP/1.1", true},   {"GET / HTTP/1.0", true},  {"GET / HTTP/1.2", true},
      {"HTTP/1.1 200 OK", true},  {"HTTP/1.1 204", true},    {"GET /path", false},
      {"GET", false},             {"", false},               {"GET / HTTP/1.", false},
      {"GET / HTTP/x.1", false},  {"GET /HTTP/1.1", false},  {"GET / HTTP/1.1 ", false},
  };
  for (const auto& c : cases) EXPECT_EQ(start_line_has_version(c.line), c.ok) << c.line;
}

TEST(StartLine, AHigherMinorVersionIsReadAs11) {
  struct Case {
    std::string_view line;
    std::optional<std::size_t> at;
  };
  const Case cases[] = {
      {"GET / HTTP/1.2", 13},        {"GET /x HTTP/1.9", 14},     {"HTTP/1.2 200 OK", 7},
      {"HTTP/1.3 204", 7},           {"GET / HTTP/1.1", {}},      {"GET / HTTP/1.0", {}},
      {"HTTP/1.1 200 OK", {}},       {"GET / HTTP/2.0", {}},      {"HTTP/2.0 200 OK", {}},
      {"GET /HTTP/1.2", {}},         {"GET / HTTP/1.22", {}},     {"HTTP/1.23 200", {}},
      {"", {}},                      {"HTTP/1.", {}},
  };
  for (const auto& c : cases) EXPECT_EQ(higher_minor_version_at(c.line), c.at) << c.line;
}

TEST(HeaderScanner, StopsAtTheFirstHeaderAndIgnoresTheBodyBytes) {
  // Body bytes after the header may hold anything, including what the header may not.
  auto r = scan_whole("POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\n\0\n \r"s);
  EXPECT_EQ(r.state, State::complete);
}

http::fields fields(std::initializer_list<std::pair<std::string, std::string>> list) {
  http::fields f;
  for (const auto& [n, v] : list) f.insert(n, v);
  return f;
}

TEST(FramingFields, AcceptsOneLengthOrALoneChunked) {
  EXPECT_FALSE(check_framing_fields(fields({})));
  EXPECT_FALSE(check_framing_fields(fields({{"Content-Length", "0"}})));
  EXPECT_FALSE(check_framing_fields(fields({{"Content-Length", "12345"}})));
  EXPECT_FALSE(check_framing_fields(fields({{"Transfer-Encoding", "chunked"}})));
  EXPECT_FALSE(check_framing_fields(fields({{"transfer-encoding", "CHUNKED"}})));
}

TEST(FramingFields, RefusesWhatTwoParsersCouldReadDifferently) {
  struct Case {
    http::fields f;
    std::string_view reason_part;
  };
  const Case cases[] = {
      {fields({{"Content-Length", "5"}, {"content-length", "5"}}), "more than one Content-Length"},
      {fields({{"Content-Length", "5, 5"}}), "not one decimal number"},
      {fields({{"Content-Length", "+5"}}), "not one decimal number"},
      {fields({{"Content-Length", "0x5"}}), "not one decimal number"},
      {fields({{"Transfer-Encoding", "gzip"}}), "lone \"chunked\""},
      {fields({{"Transfer-Encoding", "gzip, chunked"}}), "lone \"chunked\""},
      {fields({{"Transfer-Encoding", "chunked, gzip"}}), "lone \"chunked\""},
      {fields({{"Transfer-Encoding", "identity"}}), "lone \"chunked\""},
      {fields({{"Transfer-Encoding", "xchunked"}}), "lone \"chunked\""},
      {fields({{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}}), "more than one Transfer-Encoding"},
      {fields({{"Content-Length", "5"}, {"Transfer-Encoding", "chunked"}}), "both Content-Length and Transfer-Encoding"},
  };
  for (const auto& c : cases) {
    auto r = check_framing_fields(c.f);
    ASSERT_TRUE(r.has_value()) << c.reason_part;
    EXPECT_NE(r->find(c.reason_part), std::string_view::npos) << *r;
  }
}

TEST(BodyFault, TellsALimitFromBrokenFramingFromAPeerThatLeft) {
  struct Row {
    beast::error_code ec;
    std::optional<BodyFault> fault;
  };
  const Row rows[] = {
      {http::error::buffer_overflow, BodyFault::too_large},
      {http::error::bad_chunk, BodyFault::malformed},
      {http::error::bad_chunk_extension, BodyFault::malformed},
      {http::error::bad_field, BodyFault::malformed},
      {http::error::bad_value, BodyFault::malformed},
      {http::error::bad_line_ending, BodyFault::malformed},
      {http::error::end_of_stream, std::nullopt},
      {http::error::partial_message, std::nullopt},
      {boost::asio::error::eof, std::nullopt},
      {boost::asio::error::connection_reset, std::nullopt},
      {beast::error::timeout, std::nullopt},
      {boost::asio::error::operation_aborted, std::nullopt},
  };
  for (const auto& r : rows) EXPECT_EQ(body_fault(r.ec), r.fault) << r.ec.message();
}

}  // namespace
}  // namespace vp::core
