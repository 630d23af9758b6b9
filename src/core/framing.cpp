#include "core/framing.hpp"

#include <boost/beast/core/string.hpp>

#include <array>

namespace vp::core {

namespace {

// Bytes the scanner must look at; every other byte is skipped in the tight loop below.
constexpr std::array<bool, 256> special_bytes = [] {
  std::array<bool, 256> t{};
  t[static_cast<unsigned char>('\0')] = true;
  t[static_cast<unsigned char>('\r')] = true;
  t[static_cast<unsigned char>('\n')] = true;
  return t;
}();

HeaderScan malformed(std::string_view reason) {
  HeaderScan out;
  out.state = HeaderScan::State::malformed;
  out.reason = reason;
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool start_line_has_version(std::string_view line) {
  if (line.starts_with("HTTP/")) return true;  // a status-line
  constexpr std::size_t tail = sizeof(" HTTP/1.1") - 1;
  if (line.size() <= tail) return false;
  auto v = line.substr(line.size() - tail);
  return v.starts_with(" HTTP/") && is_digit(v[6]) && v[7] == '.' && is_digit(v[8]);
}

std::optional<std::size_t> higher_minor_version_at(std::string_view line) {
  // "HTTP/1.D" at the start (status-line) or the end (request-line).
  auto at = line.starts_with("HTTP/1.") ? std::size_t{7} : line.size() >= 8 ? line.size() - 1 : std::size_t{0};
  if (at == 0 || at >= line.size() || line.substr(at - 7, 7) != "HTTP/1.") return std::nullopt;
  if (at != 7 && line[at - 8] != ' ') return std::nullopt;
  if (!is_digit(line[at]) || line[at] <= '1') return std::nullopt;
  if (at + 1 < line.size() && line[at + 1] != ' ') return std::nullopt;
  return at;
}

HeaderScan HeaderScanner::scan(std::string_view data) {
  const char* p = data.data();
  const std::size_t n = data.size();
  std::size_t i = pos_;
  // A line ended just before the resume point: its next byte may not start with whitespace.
  if (i >= 2 && i < n && p[i - 1] == '\n' && (p[i] == ' ' || p[i] == '\t'))
    return malformed("obs-fold: a header line starting with whitespace");
  for (;;) {
    while (i < n && !special_bytes[static_cast<unsigned char>(p[i])]) ++i;
    if (i == n) break;
    if (p[i] == '\0') return malformed("a NUL byte in the header");
    if (p[i] == '\n') return malformed("a bare LF line ending in the header");
    // A CR: it must start a CRLF.
    if (first_line_end_ == 0) first_line_end_ = i;
    if (i + 1 == n) break;  // the LF has not arrived yet: rescan this CR next time
    if (p[i + 1] != '\n') return malformed("a CR not followed by LF in the header");
    // RFC 9112 §2.3: a line without a version is an HTTP/0.9 request, which would otherwise wait
    // for an empty line that never comes.
    if (i == first_line_end_ && !start_line_has_version({p, i}))
      return malformed("a start line without an HTTP version (HTTP/0.9 is not supported)");
    if (i >= 2 && p[i - 2] == '\r' && p[i - 1] == '\n') {
      // An empty line ends the header block.
      HeaderScan out;
      out.state = HeaderScan::State::complete;
      out.header_size = i + 2;
      out.first_line_end = first_line_end_;
      pos_ = i + 2;
      return within_limits(out, n);
    }
    i += 2;
    if (i < n && (p[i] == ' ' || p[i] == '\t'))
      return malformed("obs-fold: a header line starting with whitespace");
  }
  pos_ = i;
  HeaderScan out;
  out.first_line_end = first_line_end_;
  return within_limits(out, n);
}

HeaderScan HeaderScanner::within_limits(HeaderScan scan, std::size_t buffered) const {
  const std::size_t line = scan.first_line_end != 0 ? scan.first_line_end : buffered;
  const std::size_t block = scan.state == HeaderScan::State::complete ? scan.header_size : buffered;
  if (line > limits_.line)
    scan.state = HeaderScan::State::line_too_long;
  else if (block > limits_.header)
    scan.state = HeaderScan::State::header_too_large;
  return scan;
}

std::optional<BodyFault> body_fault(const beast::error_code& ec) {
  // The read loop reports a full buffer as buffer_overflow (http::async_read_some); end_of_stream
  // and partial_message are the peer leaving, not a fault of the bytes.
  if (ec == http::error::buffer_overflow) return BodyFault::too_large;
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) return std::nullopt;
  if (ec.category() == make_error_code(http::error::bad_chunk).category()) return BodyFault::malformed;
  return std::nullopt;
}

std::optional<std::string_view> check_framing_fields(const http::fields& fields) {
  std::size_t lengths = 0;
  for (auto [it, end] = fields.equal_range(http::field::content_length); it != end; ++it) {
    if (++lengths > 1) return "more than one Content-Length field";
    auto v = it->value();
    if (v.empty() || v.find_first_not_of("0123456789") != std::string_view::npos)
      return "a Content-Length that is not one decimal number";
  }
  std::size_t codings = 0;
  for (auto [it, end] = fields.equal_range(http::field::transfer_encoding); it != end; ++it) {
    if (++codings > 1) return "more than one Transfer-Encoding field";
    if (!beast::iequals(it->value(), "chunked"))
      return "a Transfer-Encoding other than a lone \"chunked\"";
    if (lengths > 0) return "both Content-Length and Transfer-Encoding";
  }
  return std::nullopt;
}

}  // namespace vp::core
