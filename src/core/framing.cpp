#include "core/framing.hpp"

#include <boost/beast/core/string.hpp>

namespace vp::core {

HeaderScan HeaderScanner::scan(std::string_view data) {
  HeaderScan out;
  for (; pos_ < data.size(); ++pos_) {
    const char c = data[pos_];
    const char prev = pos_ > 0 ? data[pos_ - 1] : '\0';
    if (c == '\0') {
      out.state = HeaderScan::State::malformed;
      out.reason = "a NUL byte in the header";
      return out;
    }
    if (prev == '\r' && c != '\n') {
      out.state = HeaderScan::State::malformed;
      out.reason = "a CR not followed by LF in the header";
      return out;
    }
    if (c == '\r' && first_line_end_ == 0) first_line_end_ = pos_;
    if (c == '\n') {
      if (prev != '\r') {
        out.state = HeaderScan::State::malformed;
        out.reason = "a bare LF line ending in the header";
        return out;
      }
      // An empty line ends the header block (the start line itself is never empty).
      if (pos_ >= 3 && data[pos_ - 2] == '\n') {
        ++pos_;
        out.state = HeaderScan::State::complete;
        out.header_size = pos_;
        out.first_line_end = first_line_end_;
        return out;
      }
      continue;
    }
    if ((c == ' ' || c == '\t') && prev == '\n') {
      out.state = HeaderScan::State::malformed;
      out.reason = "obs-fold: a header line starting with whitespace";
      return out;
    }
  }
  out.first_line_end = first_line_end_;
  return out;
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
