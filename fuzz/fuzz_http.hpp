#pragma once
// Shared pieces of the HTTP fuzz targets: a driver that feeds bytes to a Beast parser the way a
// socket read would (in pieces, header first, body through a fixed buffer), and invariant checks
// that abort with a readable message so libFuzzer records the input as a crash.

#include "core/framing.hpp"
#include "core/wire.hpp"
#include "core/headers.hpp"
#include "core/http.hpp"

#include <boost/beast/core/buffers_to_string.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace vp::fuzz {

/// The limits session.cpp puts on every parser (client requests and upstream responses).
inline constexpr std::uint32_t header_limit = core::HeaderLimits{}.header;

/// Aborts with `what` and the offending detail; libFuzzer then saves the input.
[[noreturn]] inline void fail(std::string_view what, std::string_view detail = {}) {
  std::fprintf(stderr, "\nINVARIANT VIOLATED: %.*s\n", static_cast<int>(what.size()), what.data());
  if (!detail.empty()) {
    std::string shown;
    for (unsigned char c : detail.substr(0, 2000)) {
      if (c >= 0x20 && c < 0x7f) {
        shown += static_cast<char>(c);
      } else {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", c);
        shown += buf;
      }
    }
    std::fprintf(stderr, "detail: %s\n", shown.c_str());
  }
  std::abort();
}

inline void check(bool ok, std::string_view what, std::string_view detail = {}) {
  if (!ok) fail(what, detail);
}

/// What the driver saw.
struct Parsed {
  bool header_done = false;  ///< the header parsed without error
  bool complete = false;     ///< the whole message parsed without error
  beast::error_code ec;      ///< the first error (header or body), if any
  std::string body;          ///< decoded body bytes relayed before completion or the error
  /// The body as session.cpp's relay loop sees it: one piece per async_read_some (one parser put
  /// that did not ask for more bytes), with the parser's is_done() after it. Pieces may be empty
  /// (a put that consumed only a chunk header or the last chunk).
  std::vector<std::pair<std::string, bool>> pieces;
};

/// Feeds `input` to `parser` in pieces of `step` bytes, as successive socket reads would. The header
/// must fit in what has arrived (Beast needs it contiguous); the body goes through a small fixed
/// buffer like session.cpp's relay buffer. `on_header` runs once, right after the header, with the
/// parser (session.cpp rewrites the header at that point, before any body byte is read).
template <class Parser, class OnHeader>
Parsed drive(Parser& parser, std::string_view input, std::size_t step, OnHeader&& on_header) {
  Parsed out;
  std::array<char, 512> relay{};
  step = std::max<std::size_t>(step, 1);
  std::size_t pos = 0;                                // bytes consumed by the parser
  std::size_t avail = std::min(input.size(), step);   // bytes "received" so far
  auto header_hook = [&] {
    if (!out.header_done && parser.is_header_done()) {
      out.header_done = true;
      on_header(parser);
    }
  };
  auto finish_at_eof = [&] {
    // Every byte delivered and consumed: the peer closes. Only a close-delimited response (or a
    // message that was already complete) ends cleanly here.
    beast::error_code ec;
    const bool was_done = parser.is_done();
    parser.put_eof(ec);
    if (ec) {
      out.ec = ec;
    } else {
      out.complete = parser.is_done();
      // Beast's async_read_some turns EOF into put_eof and completes with no new body bytes; the
      // relay then writes an empty, final piece.
      if (out.header_done && !was_done && out.complete) out.pieces.emplace_back(std::string(), true);
    }
    return out;
  };
  for (int stuck = 0; stuck < 1000;) {
    if (out.header_done) {
      parser.get().body().data = relay.data();
      parser.get().body().size = relay.size();
    }
    if (pos >= avail) {
      if (avail < input.size()) {
        avail = std::min(input.size(), avail + step);
        continue;
      }
      return finish_at_eof();
    }
    beast::error_code ec;
    const bool body_phase = out.header_done;
    std::size_t n = parser.put(boost::asio::buffer(input.data() + pos, avail - pos), ec);
    if (body_phase) {
      std::string piece(relay.data(), relay.size() - parser.get().body().size);
      out.body += piece;
      if (ec != http::error::need_more && (!ec || ec == http::error::need_buffer))
        out.pieces.emplace_back(std::move(piece), parser.is_done());
    }
    pos += n;
    header_hook();
    if (ec == http::error::need_buffer) ec = {};
    if (ec == http::error::need_more) {
      if (avail < input.size()) {
        avail = std::min(input.size(), avail + step);
        continue;
      }
      return finish_at_eof();
    }
    if (ec) {
      out.ec = ec;
      return out;
    }
    if (parser.is_done()) {
      out.complete = true;
      return out;
    }
    stuck = n == 0 ? stuck + 1 : 0;
  }
  fail("parser driver made no progress");
}

/// Lower-cased copy.
inline std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// Names nominated by every Connection / Proxy-Connection field (RFC 9110 §7.6.1), lower-cased.
inline std::vector<std::string> nominated(const http::fields& f) {
  std::vector<std::string> out;
  for (auto const& field : f) {
    if (!beast::iequals(field.name_string(), "connection") &&
        !beast::iequals(field.name_string(), "proxy-connection"))
      continue;
    std::string_view list = field.value();
    while (!list.empty()) {
      auto comma = list.find(',');
      auto item = trim(list.substr(0, comma));
      if (!item.empty()) out.push_back(lower(item));
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  return out;
}

inline std::size_t count_ci(const http::fields& f, std::string_view name) {
  std::size_t n = 0;
  for (auto const& field : f) n += beast::iequals(field.name_string(), name) ? 1 : 0;
  return n;
}

/// "Name: value\n" per field, for failure details.
inline std::string dump(const http::fields& f) {
  std::string out;
  for (auto const& field : f) {
    out.append(field.name_string()).append(": ").append(field.value()).append("\n");
  }
  return out;
}

/// Checks the framing and hop-by-hop rules every rewritten header must meet. `we_chunked`: the
/// caller set `Transfer-Encoding: chunked` itself after the rewrite (session.cpp does, from the
/// parser). `input_nominated`: names the input's Connection fields nominated. `reset_by_us`: names
/// the caller sets again after the rewrite, which may therefore legitimately be present.
inline void check_hop_by_hop(const http::fields& out, bool we_chunked,
                             const std::vector<std::string>& input_nominated,
                             const std::vector<std::string_view>& reset_by_us) {
  for (auto const& field : out) {
    auto name = field.name_string();
    if (beast::iequals(name, "transfer-encoding")) {
      check(we_chunked, "a Transfer-Encoding field survived the rewrite", dump(out));
      check(beast::iequals(field.value(), "chunked"), "Transfer-Encoding is not exactly 'chunked'",
            dump(out));
      continue;
    }
    check(!core::is_hop_by_hop(name), "a hop-by-hop field survived the rewrite", dump(out));
    bool reset = std::any_of(reset_by_us.begin(), reset_by_us.end(),
                             [&](std::string_view r) { return beast::iequals(r, name); });
    if (reset) continue;
    for (auto const& n : input_nominated)
      check(!beast::iequals(n, name), "a field nominated by Connection survived the rewrite", dump(out));
  }
  check(count_ci(out, "transfer-encoding") <= 1, "more than one Transfer-Encoding", dump(out));
  check(count_ci(out, "content-length") <= 1, "more than one Content-Length", dump(out));
  check(!(count_ci(out, "transfer-encoding") == 1 && count_ci(out, "content-length") == 1),
        "both Content-Length and Transfer-Encoding in the rewritten header", dump(out));
}

/// The bytes session.cpp sends for a header and the body pieces it relayed: the header serialised
/// flat (core::append_request_header / append_response_header), then each piece as it is for a
/// Content-Length or close-delimited body, or for a chunked one (the header says which) as a chunk,
/// with the last chunk after the final piece. An empty piece with more to come is skipped, as
/// session.cpp skips it.
template <bool isRequest>
std::string relay_serialize(const http::header<isRequest>& h,
                            const std::vector<std::pair<std::string, bool>>& pieces) {
  std::string out;
  if constexpr (isRequest)
    core::append_request_header(out, h);
  else
    core::append_response_header(out, h);
  const bool chunked = http::message<isRequest, http::empty_body>(h).chunked();
  for (auto const& [bytes, done] : pieces) {
    if (bytes.empty() && !done) continue;
    if (!chunked) {
      out += bytes;
      continue;
    }
    if (!bytes.empty()) {
      core::append_chunk_size(out, bytes.size());
      out += bytes;
      out += core::chunk_end;
    }
    if (done) out += core::last_chunk;
  }
  return out;
}

/// Re-parses `wire` as exactly one complete message; aborts if it is not, or if it differs from
/// what was serialised (a value that smuggled a CRLF, a body that changed, trailing bytes).
template <bool isRequest>
void check_reparses(const std::string& wire, const http::header<isRequest>& sent, const std::string& body,
                    bool head_response = false) {
  http::parser<isRequest, http::string_body> p;
  p.header_limit(16 * 1024 * 1024);
  p.body_limit(boost::none);
  p.eager(true);
  if constexpr (!isRequest) p.skip(head_response);
  beast::error_code ec;
  std::size_t used = p.put(boost::asio::buffer(wire), ec);
  if (ec == http::error::need_more || (!ec && !p.is_done())) {
    ec = {};
    p.put_eof(ec);
  }
  check(!ec, "the serialised message does not re-parse: " + ec.message(), wire);
  check(p.is_done(), "the serialised message is incomplete", wire);
  check(used == wire.size(), "the serialised message has bytes after its end (a second message)", wire);
  auto const& m = p.get();
  check(m.body() == body, "the body changed in serialisation", wire);
  std::vector<std::pair<std::string, std::string>> a, b;
  for (auto const& f : sent) a.emplace_back(lower(f.name_string()), std::string(f.value()));
  for (auto const& f : m) b.emplace_back(lower(f.name_string()), std::string(f.value()));
  check(a == b, "the header fields changed in serialisation", wire);
  if constexpr (isRequest) {
    check(m.method_string() == sent.method_string(), "the method changed in serialisation", wire);
    check(m.target() == sent.target(), "the target changed in serialisation", wire);
  } else {
    check(m.result_int() == sent.result_int(), "the status changed in serialisation", wire);
  }
}

/// The bytes session.cpp's read_header hands on: leading empty lines are skipped.
inline std::string_view skip_leading_empty_lines(std::string_view input) {
  while (input.starts_with("\r\n")) input.remove_prefix(2);
  return input;
}

/// True when session.cpp's read_header refuses the header before Beast parses it: the raw-byte
/// scan fails (obs-fold, bare CR or LF, NUL), or the start line or the block is over its limit.
/// The same scanner, with the same default limits, as read_header.
inline bool header_refused(std::string_view input) {
  core::HeaderScanner scanner;
  auto state = scanner.scan(input).state;
  return state != core::HeaderScan::State::need_more && state != core::HeaderScan::State::complete;
}

/// How many bytes each simulated read delivers, taken from the input's last byte so that the
/// fuzzer explores split points without a separate format (0 → everything at once).
inline std::size_t step_for(std::string_view input) {
  if (input.empty()) return 1;
  unsigned char c = static_cast<unsigned char>(input.back());
  return c < 0x80 ? input.size() : static_cast<std::size_t>(c - 0x7f);
}

}  // namespace vp::fuzz
