// Client request bytes → Beast request_parser<buffer_body> (session.cpp's limits) → admit →
// plan_request with a fixed token (into the fields, and into the bytes as the proxy does; the two
// must agree) → serialise → re-parse. Whatever the client sent, the message
// that would go upstream carries each injected field exactly once, no hop-by-hop or
// Connection-nominated field, no client CF-Access credential or CF_Authorization cookie, one
// unambiguous framing, and it re-parses as exactly the one message that was written.

#include "core/credentials.hpp"
#include "core/headers.hpp"
#include "core/plan.hpp"
#include "core/policy.hpp"
#include "core/request_check.hpp"
#include "core/wire.hpp"
#include "fuzz_http.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using namespace vp;
using namespace vp::fuzz;

constexpr std::string_view injected_host = "vault.example";
constexpr std::string_view injected_ua = "raxx-vault-proxy/1.0";
constexpr std::string_view token_id = "fuzz-client-id.access";
constexpr std::string_view token_secret = "fuzz-client-secret-0123456789abcdef";

const core::ServiceToken& token() {
  static const core::ServiceToken t{core::Secret(std::string(token_id)), core::Secret(std::string(token_secret)),
                                    "fuzz", 1};
  return t;
}

const core::CheckPolicy& policy() {
  static const core::CheckPolicy p{2019, {"vault-proxy.internal"}, true};
  return p;
}

void check_refusal_consistent(const http::request_header<>& req, const core::CheckResult& r) {
  if (req.method() == http::verb::connect)
    check(r.refusal && r.refusal->code == core::ErrorCode::method_not_allowed, "CONNECT was not refused with 405");
  auto target = req.target();
  bool origin_form = !target.empty() && target.front() == '/';
  bool options_star = target == "*" && req.method() == http::verb::options;
  if (!origin_form && !options_star)
    check(r.refusal.has_value(), "a non-origin-form target was accepted (open proxy)", target);
  if (req.count(http::field::host) > 1)
    check(r.refusal.has_value(), "a request with two Host fields was accepted");
  if (!r.refusal && r.route == core::Route::local)
    check(target.starts_with(core::local_prefix) || target == "/__vault-proxy",
          "a non-reserved path was routed to the local endpoints", target);
  if (!r.refusal && req.count(http::field::host) == 1)
    check(core::host_allowed(req[http::field::host], policy()), "a foreign Host was accepted",
          req[http::field::host]);
}

void check_credentials(const http::fields& out) {
  check(count_ci(out, "host") == 1 && out[http::field::host] == injected_host, "Host is not injected exactly once",
        dump(out));
  check(count_ci(out, "user-agent") == 1 && out[http::field::user_agent] == injected_ua,
        "User-Agent is not injected exactly once", dump(out));
  check(count_ci(out, "cf-access-client-id") == 1 && out["CF-Access-Client-Id"] == token_id,
        "CF-Access-Client-Id is not injected exactly once", dump(out));
  check(count_ci(out, "cf-access-client-secret") == 1 && out["CF-Access-Client-Secret"] == token_secret,
        "CF-Access-Client-Secret is not injected exactly once", dump(out));
  for (auto const& f : out) {
    auto name = lower(f.name_string());
    if (name.starts_with("cf-access-"))
      check(name == "cf-access-client-id" || name == "cf-access-client-secret",
            "a client CF-Access field survived", dump(out));
    check(!name.starts_with("proxy-"), "a Proxy-* field survived", dump(out));
    if (name == "cookie") {
      std::string_view v = f.value();
      while (!v.empty()) {
        auto semi = v.find(';');
        auto pair = trim(v.substr(0, semi));
        auto cname = trim(pair.substr(0, pair.find('=')));
        check(!beast::iequals(cname, "CF_Authorization"), "the CF_Authorization cookie survived", dump(out));
        if (semi == std::string_view::npos) break;
        v.remove_prefix(semi + 1);
      }
    }
  }
}

// A serialised header's lines in order, the start line first and the field lines sorted: two
// headers with the same fields in another order compare equal.
std::vector<std::string_view> start_and_sorted_fields(std::string_view bytes) {
  std::vector<std::string_view> lines;
  for (std::size_t end; (end = bytes.find("\r\n")) != std::string_view::npos; bytes.remove_prefix(end + 2))
    lines.push_back(bytes.substr(0, end));
  if (lines.size() > 1) std::sort(lines.begin() + 1, lines.end());
  return lines;
}

// The local policy (proxy/guard.cpp) on the same request: the read-only preset never needs a body
// and never lets a write through; an ambiguous target is always refused; once the body is read, a
// scoped policy always decides.
void check_policy(const http::request_header<>& req, std::string_view body) {
  static const core::Policy read_only = core::read_only_policy();
  static const core::Policy scoped = [] {
    core::Policy p{.name = "scoped"};
    p.deny.push_back({.name = "no prod", .environment = "prod*"});
    p.allow.push_back({.name = "dev app", .methods = {"POST", "PATCH", "DELETE", "GET"}, .environment = "dev",
                       .secret_path = "/app/**"});
    return p;
  }();
  auto call = core::classify_api(req.method(), req.target());
  auto d = core::decide(req.method_string(), call, read_only);
  check(d.verdict != core::Verdict::need_body, "the read-only preset asked for the body", req.target());
  if (!call.problem.empty()) check(d.verdict == core::Verdict::refuse, "an ambiguous target was allowed", req.target());
  if (d.verdict == core::Verdict::allow) {
    const auto m = req.method();
    check(m == http::verb::get || m == http::verb::head || m == http::verb::post, "read-only allowed a write method",
          req.target());
    if (m == http::verb::post)
      check(call.op == core::ApiOp::login || call.op == core::ApiOp::renew_token, "read-only allowed a POST",
            req.target());
  } else {
    check(!d.message.empty(), "a refusal without a message", req.target());
  }
  auto s = core::decide(req.method_string(), call, scoped);
  if (s.verdict != core::Verdict::need_body) return;
  core::add_body_facts(call, body);
  s = core::decide(req.method_string(), call, scoped);
  check(s.verdict != core::Verdict::need_body, "the body was read and the policy still asked for it", req.target());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input = skip_leading_empty_lines({reinterpret_cast<const char*>(data), size});
  if (header_refused(input)) return 0;  // answered 400/414/431; nothing is parsed or forwarded

  http::request_parser<http::buffer_body> parser;
  parser.header_limit(header_limit);
  parser.body_limit(boost::none);  // session.cpp: bodies are streamed, limits apply to headers

  http::request<http::empty_body> rewritten;
  http::request_header<> original;
  std::vector<std::string> input_nominated;
  bool chunked = false;
  bool refused = true;
  bool bad_framing = false;

  auto on_header = [&](http::request_parser<http::buffer_body>& p) {
    auto& req = p.get();
    bad_framing = core::check_framing_fields(req).has_value();  // 400 before anything else
    if (auto own = core::own_absolute_form(req.target(), policy())) {  // as session.cpp serve_one
      check(own->origin_form.front() == '/', "own_absolute_form produced a target without '/'");
      req.set(http::field::host, own->authority);
      req.target(own->origin_form);
    }
    check_refusal_consistent(req, core::check_request(req, policy()));
    // session.cpp serve_one's admission, with the capability prefix already stripped.
    refused = core::admit(req, true, policy()).kind == core::Admission::Kind::refuse;

    original = req;
    // session's forward (proxy/exchange.cpp) rewrites the header with the same call.
    input_nominated = nominated(req);
    http::request<http::empty_body> h{http::request_header<>(req)};
    const auto framing = core::request_framing(p);
    chunked = framing.chunked;
    const core::Injection inj{injected_host, injected_ua, &token()};
    // What proxy/exchange.cpp sends: stripped, the injected fields written with the bytes. It must
    // be rewrite_request's header field for field; only the framing field may sit elsewhere.
    http::request<http::empty_body> w{http::request_header<>(req)};
    core::plan_request(w, framing, inj, core::InjectInto::wire);
    auto rw = core::plan_request(h, framing, inj);
    std::string wire_bytes;
    std::string field_bytes;
    core::append_request_header(wire_bytes, w, &inj);
    core::append_request_header(field_bytes, h);
    check(start_and_sorted_fields(wire_bytes) == start_and_sorted_fields(field_bytes),
          "the injected fields written with the bytes differ from rewrite_request's", wire_bytes);
    check(rw.injected, "rewrite_request did not report the injection");
    check(h.version() == 11, "the request does not go upstream as HTTP/1.1");
    check(h.count(http::field::expect) == 0, "Expect went upstream");
    for (auto const& f : h)
      check(f.name_string().find('_') == std::string_view::npos, "a field named with '_' went upstream");
    rewritten = std::move(h);
  };

  auto parsed = drive(parser, input, step_for(input), on_header);
  if (!parsed.header_done || bad_framing) return 0;

  check_credentials(rewritten);
  check_hop_by_hop(rewritten, chunked, input_nominated,
                   {"host", "user-agent", "cf-access-client-id", "cf-access-client-secret", "content-length",
                    "transfer-encoding"});

  // A refused request never goes upstream, and an incomplete body is never presented as complete
  // (session.cpp aborts both connections), so only complete, accepted messages are serialised.
  if (parsed.complete && !refused) {
    check_reparses(relay_serialize(rewritten, parsed.pieces), rewritten, parsed.body);
    check_policy(original, parsed.body);
  }
  return 0;
}
