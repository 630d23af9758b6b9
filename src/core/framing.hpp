#pragma once
// Strict HTTP/1.1 framing, on top of Beast's parser. Beast accepts a few things that RFC 9112
// lets a recipient accept but that a proxy must not pass on, because the two ends of a proxy can
// disagree about them (request smuggling): obs-fold, bare CR or LF as line ends, a repeated
// Content-Length with the same value, and transfer codings other than a lone `chunked`. These
// checks run on every client request and every upstream response.

#include "core/http.hpp"

#include <cstddef>
#include <optional>
#include <string_view>

namespace vp::core {

/// The size limits on a header block: 414 / 431 for a client, 502 for an upstream.
struct HeaderLimits {
  std::size_t header = 64 * 1024;  ///< the whole block, start line to empty line
  std::size_t line = 8 * 1024;     ///< the start line (request line or status line)
};

/// The most bytes a connection's read buffer holds, client side and upstream side. A header block
/// must fit in it; so must a chunk-size line with its extensions and a trailer section, which
/// Beast's parser also needs whole in the buffer (it looks for the line's CRLF, or for the empty line
/// after the trailers, before it parses them) and limits in no other way. RFC 9112 §7.1.1 and
/// §7.1.2 let a recipient limit both; this is that limit, the same as a header block's.
inline constexpr std::size_t read_buffer_limit = HeaderLimits{}.header;

/// Why Beast's parser refused a message body.
enum class BodyFault {
  too_large,  ///< a chunk-size line or the trailer section did not fit the read buffer
  malformed,  ///< broken chunked framing
};

/// The fault behind a body read's error, or nullopt when the read failed for another reason (the
/// peer went away, a timeout): the first is answered 431 (client) or 502 (upstream), the second
/// 400 or 502, the rest not at all.
std::optional<BodyFault> body_fault(const beast::error_code& ec);

/// Where the end of a header block is, scanning bytes as they arrive.
struct HeaderScan {
  enum class State { need_more, complete, malformed, line_too_long, header_too_large };
  State state = State::need_more;
  std::size_t header_size = 0;       ///< complete: bytes up to and including the empty line
  std::size_t first_line_end = 0;    ///< offset of the first line's CR, once seen (0: not yet)
  std::string_view reason;           ///< malformed: what was wrong, for the error message
};

/// Incremental scanner for the raw bytes of a header block (start line, fields, empty line).
/// Each call looks only at bytes it has not seen, so a header that trickles in byte by byte costs
/// linear time. Refuses, with a reason: NUL anywhere, a CR not followed by LF, an LF not preceded
/// by CR, and a field line starting with SP or HTAB (obs-fold, RFC 9112 §5.2). Also applies the
/// limits: a start line longer than `limits.line` (seen whole or not), or a block longer than
/// `limits.header` (complete, or still growing past it).
class HeaderScanner {
 public:
  explicit HeaderScanner(HeaderLimits limits = {}) : limits_(limits) {}
  /// `data` is the whole header so far: the bytes given to the previous call plus new ones.
  HeaderScan scan(std::string_view data);
  void reset() { *this = HeaderScanner{limits_}; }

 private:
  HeaderScan within_limits(HeaderScan scan, std::size_t buffered) const;

  HeaderLimits limits_;
  std::size_t pos_ = 0;
  std::size_t first_line_end_ = 0;
};

/// True when a start line carries an HTTP version: a status-line starting with `HTTP/`, or a
/// request-line ending in ` HTTP/D.D`. An HTTP/0.9 simple request (`GET /path`) does not.
bool start_line_has_version(std::string_view line);

/// RFC 9110 §2.5: a message of a higher minor version than we support (HTTP/1.2) is handled as
/// HTTP/1.1. Returns the offset of the minor digit in `line` to rewrite to '1', or nullopt when
/// the version is HTTP/1.0, HTTP/1.1, or not of major version 1.
std::optional<std::size_t> higher_minor_version_at(std::string_view line);

/// Checks the framing fields of a parsed header that Beast lets through: Content-Length must be
/// one field holding one decimal number (no repeats, no lists), and Transfer-Encoding, when
/// present, one field that is exactly `chunked`. Returns what is wrong, or nullopt.
std::optional<std::string_view> check_framing_fields(const http::fields& fields);

}  // namespace vp::core
