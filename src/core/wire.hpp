#pragma once
// The bytes the proxy writes: a header block serialised into one flat buffer, and chunk framing.
//
// Beast's serializer presents a header as a buffer sequence with one piece per start-line part and
// per field, walked through a variant iterator on every write; profiles put it at about 8 % of a
// small request's instructions (docs/BENCHMARKS.md). The proxy instead appends the header to a
// string it keeps per connection, so a request costs one copy of the header and no allocation once
// that string has grown, and hands the body to the socket next to it (one writev, or one TLS
// record for a small request).

#include "core/headers.hpp"
#include "core/http.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace vp::core {

/// Appends "METHOD target HTTP/1.x\r\n", each field as "Name: value\r\n", and the blank line.
/// With `injected` (a header from strip_request), Host, User-Agent and, with a token, the two
/// CF-Access-Client-* fields follow the header's own fields: the bytes rewrite_request and then
/// this without `injected` would write for a request with no framing field.
void append_request_header(std::string& out, const http::request_header<>& req,
                           const Injection* injected = nullptr);

/// Appends "HTTP/1.x status reason\r\n", the fields and the blank line. An empty reason phrase is
/// replaced by the standard one for the status code.
void append_response_header(std::string& out, const http::response_header<>& res);

/// Appends a chunk-size line: the size in lower-case hex and CRLF.
void append_chunk_size(std::string& out, std::size_t size);

/// The CRLF that ends a chunk's data.
inline constexpr std::string_view chunk_end = "\r\n";
/// The last chunk and the end of the (empty) trailer section.
inline constexpr std::string_view last_chunk = "0\r\n\r\n";

}  // namespace vp::core
