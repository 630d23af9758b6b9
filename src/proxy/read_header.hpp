#pragma once
// read_header: reads one HTTP header block into a flat buffer, scanning the raw bytes strictly
// (core::HeaderScanner) before Beast's parser sees them, then hands the whole block to the parser.
// Used for client requests and upstream responses alike; the stream's own timer bounds it.

#include "core/framing.hpp"
#include "net/asio.hpp"

#include <boost/beast/core/flat_buffer.hpp>

#include <cstddef>
#include <string_view>

namespace vp::proxy {

struct HeaderRead {
  enum class Result {
    ok,
    io_error,          ///< the read failed (`ec`): timeout, reset, end of stream
    malformed,         ///< the scanner or the parser refused the bytes (`reason`, `ec`)
    line_too_long,     ///< the start line is longer than the line limit
    header_too_large,  ///< the header block is larger than the header limit
  };
  Result result = Result::ok;
  error_code ec;
  std::string_view reason;     ///< malformed: the scanner's reason, empty when Beast refused
  std::size_t bytes_read = 0;  ///< bytes received by this call (0: the peer sent nothing)
};

struct NoOp {
  void operator()() const {}
};

/// Reads until the header block is complete, refused, or over a limit. Leading empty lines (which
/// some clients send after a body) are skipped. On `ok` the parser has consumed the header and
/// `buf` holds whatever followed it. `on_first_byte` runs once, when the first byte of the header
/// is in `buf` (at once if it already is): the caller switches from an idle timer to the header
/// timer there, so a header that trickles in after a kept-alive request is still bounded. A header
/// that fills `buf` up to its max_size() without ending is `header_too_large`.
template <class Stream, class Parser, class OnFirstByte = NoOp>
net::awaitable<HeaderRead> read_header(Stream& stream, beast::flat_buffer& buf, Parser& parser,
                                       core::HeaderLimits limits, OnFirstByte on_first_byte = {}) {
  HeaderRead out;
  core::HeaderScanner scanner(limits);
  bool started = false;
  for (;;) {
    if (!started && buf.size() > 0) {
      started = true;
      on_first_byte();
    }
    std::string_view data(static_cast<const char*>(buf.data().data()), buf.size());
    std::size_t skip = 0;
    while (data.size() - skip >= 2 && data[skip] == '\r' && data[skip + 1] == '\n') skip += 2;
    if (skip > 0) {
      buf.consume(skip);
      scanner.reset();
      continue;
    }
    auto scan = scanner.scan(data);
    switch (scan.state) {
      case core::HeaderScan::State::need_more:
        break;
      case core::HeaderScan::State::malformed:
        out.result = HeaderRead::Result::malformed;
        out.reason = scan.reason;
        co_return out;
      case core::HeaderScan::State::line_too_long:
        out.result = HeaderRead::Result::line_too_long;
        co_return out;
      case core::HeaderScan::State::header_too_large:
        out.result = HeaderRead::Result::header_too_large;
        co_return out;
      case core::HeaderScan::State::complete: {
        // Beast parses only 1.0 and 1.1; a higher minor version is read as 1.1 (RFC 9110 §2.5).
        if (auto at = core::higher_minor_version_at(data.substr(0, scan.first_line_end)))
          static_cast<char*>(buf.data().data())[*at] = '1';
        error_code ec;
        auto used = parser.put(net::buffer(data.data(), scan.header_size), ec);
        buf.consume(used);
        if (ec || !parser.is_header_done()) {
          out.result = HeaderRead::Result::malformed;
          out.ec = ec ? ec : make_error_code(http::error::bad_value);
        }
        co_return out;
      }
    }
    // A full buffer without a whole header: the block is larger than the buffer's bound
    // (core::read_buffer_limit, the header limit), and prepare() would throw.
    const std::size_t room = buf.max_size() - buf.size();
    if (room == 0) {
      out.result = HeaderRead::Result::header_too_large;
      co_return out;
    }
    // 1 KiB holds a typical header (and a small body after it); a larger one grows the buffer.
    // Every client connection and every pooled upstream connection keeps this buffer, so its
    // size is counted once per connection at c=1024 (docs/BENCHMARKS.md, memory).
    auto space = buf.prepare(std::min(room, std::max<std::size_t>(1024, buf.capacity() - buf.size())));
    auto [ec, n] = co_await stream.async_read_some(space, net::as_tuple(net::use_awaitable));
    buf.commit(n);
    out.bytes_read += n;
    if (ec) {
      out.result = HeaderRead::Result::io_error;
      out.ec = ec;
      co_return out;
    }
  }
}

}  // namespace vp::proxy
