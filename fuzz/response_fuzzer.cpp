// Upstream response bytes → Beast response_parser<buffer_body> (session.cpp's limits) →
// plan_response (rewrite_response and the framing the session re-establishes) → serialise →
// re-parse. Each input is run twice: as the answer to a GET and to a HEAD (parser skip). Whatever
// the upstream sent, the client gets no hop-by-hop or Connection-nominated field, one unambiguous
// framing, and exactly the one message that was written.

#include "core/headers.hpp"
#include "core/plan.hpp"
#include "fuzz_http.hpp"

#include <cstddef>
#include <cstdint>

namespace {

using namespace vp;
using namespace vp::fuzz;

void run(std::string_view input, bool head) {
  input = skip_leading_empty_lines(input);
  if (header_refused(input)) return;  // 502 upstream_protocol; the connection is dropped
  http::response_parser<http::buffer_body> parser;
  parser.header_limit(header_limit);
  parser.body_limit(boost::none);
  if (head) parser.skip(true);

  http::response<http::empty_body> rewritten;
  std::vector<std::string> input_nominated;
  bool we_chunked = false;
  bool informational = false;
  bool bad_framing = false;

  auto on_header = [&](http::response_parser<http::buffer_body>& p) {
    auto& res = p.get();
    bad_framing = core::check_framing_fields(res).has_value();  // 502, nothing relayed
    auto status = res.result_int();
    // session.cpp consumes 1xx (and refuses 101) before relaying anything.
    informational = status >= 100 && status < 200;
    input_nominated = nominated(res);
    http::response<http::empty_body> h{http::response_header<>(res)};
    // session's relay_response (proxy/exchange.cpp) frames the header with the same call, here for
    // an HTTP/1.1 client that keeps its connection.
    const auto plan = core::plan_response(h, core::response_framing(p), 11, true);
    for (auto const& f : h)
      check(f.name() != http::field::set_cookie || f.value().find("CF_Authorization=") != 0,
            "the Access JWT cookie reached the client");
    check(plan.keep_alive, "a response to an HTTP/1.1 client closed the connection");
    we_chunked = plan.chunked;
    rewritten = std::move(h);
  };

  auto parsed = drive(parser, input, step_for(input), on_header);
  if (!parsed.header_done || informational || bad_framing) return;

  check_hop_by_hop(rewritten, we_chunked, input_nominated, {"content-length", "transfer-encoding"});
  check(rewritten.result_int() == parser.get().result_int(), "the status changed in the rewrite");

  // A body cut short is never relayed as complete (session.cpp resets the client instead).
  if (parsed.complete) {
    if (head) {
      // The answer to a HEAD has no body whatever its framing fields say: the header goes alone.
      check(parsed.pieces.empty(), "a HEAD answer produced body pieces");
      check_reparses(relay_serialize(rewritten, parsed.pieces), rewritten, std::string(), /*head_response=*/true);
    } else {
      check_reparses(relay_serialize(rewritten, parsed.pieces), rewritten, parsed.body);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  run(input, /*head=*/false);
  run(input, /*head=*/true);
  return 0;
}
