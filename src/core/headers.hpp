#pragma once
// Header rules as pure functions over Beast field maps: hop-by-hop stripping, client credential
// stripping and credential injection. No I/O; every rule is table-tested.

#include "core/credentials.hpp"
#include "core/http.hpp"

#include <span>
#include <string_view>

namespace vp::core {

/// Hop-by-hop fields, stripped in both directions (RFC 9110 §7.6.1, plus the legacy Keep-Alive,
/// Proxy-Connection and the proxy authentication pair).
std::span<const std::string_view> hop_by_hop_fields() noexcept;

/// True when `name` (any casing) is in hop_by_hop_fields().
bool is_hop_by_hop(std::string_view name) noexcept;

/// Removes every hop-by-hop field and every field nominated in any `Connection` field (RFC 9110
/// §7.6.1: "a proxy MUST ... remove any header fields nominated by the Connection header field").
/// Returns the number of fields removed. Framing (Content-Length / chunked) is re-established by the
/// caller from the parser, never from what survives here.
std::size_t strip_hop_by_hop(http::fields& fields);

/// What the upstream must receive besides the client's own fields.
struct Injection {
  std::string_view host_header;  ///< Host value for the upstream
  std::string_view user_agent;   ///< fixed User-Agent
  const ServiceToken* token = nullptr;  ///< null: inject no credentials
  const Secret* bearer = nullptr;       ///< auto-auth: `Authorization: Bearer` replaced by this token
};

/// Counters for one rewrite, in the spirit of Envoy's credential_injector stats.
struct RewriteResult {
  std::size_t hop_by_hop_removed = 0;
  std::size_t client_credentials_removed = 0;  ///< CF-Access-* fields and CF_Authorization cookies
  std::size_t underscore_fields_removed = 0;   ///< fields whose name holds '_'
  bool injected = false;
  bool bearer_replaced = false;  ///< auto-auth put the real token in Authorization
};

/// Removes every field whose name contains `_` (nginx's `underscores_in_headers off`). Servers that
/// fold `_` into `-` would read `CF_Access_Client_Id` as the client's own credential, or
/// `Transfer_Encoding` as framing. Returns the number removed.
std::size_t strip_underscore_fields(http::fields& fields);

/// Removes client-sent Cloudflare credentials: every `CF-Access-*` field (client id/secret,
/// `cf-access-token`, `Cf-Access-Jwt-Assertion`), every `Proxy-*` field, and the `CF_Authorization`
/// cookie inside `Cookie` (other cookies stay, in order). Returns the number of items removed.
std::size_t strip_client_credentials(http::fields& fields);

/// The request rewrite, in this fixed order: strip hop-by-hop → strip fields named with `_` →
/// strip client credentials → set Host, User-Agent and the two CF-Access-Client-* fields exactly once.
RewriteResult rewrite_request(http::request_header<>& req, const Injection& inj);

/// rewrite_request without the last step: the same strips, and every client copy of Host and
/// User-Agent removed too, so that core::append_request_header(out, req, &inj) writes the
/// injected fields into the bytes sent upstream, exactly once, without Beast allocating a field
/// for each (issue 17). `injected` says whether credentials will be written.
RewriteResult strip_request(http::request_header<>& req, const Injection& inj);

/// Removes every `Access-Control-*` field. The proxy never lets a browser read through it
/// (docs/security.md), so no CORS grant may reach a client, whoever wrote it. Returns the count.
std::size_t strip_cors(http::fields& fields);

/// Removes every `Set-Cookie` that sets the `CF_Authorization` cookie: Cloudflare Access's JWT,
/// which would open the application to the client without the proxy for up to a day. Other
/// cookies pass unchanged. Returns the number removed.
std::size_t strip_access_set_cookies(http::fields& fields);

/// Counters for one response rewrite.
struct ResponseRewrite {
  std::size_t hop_by_hop_removed = 0;
  std::size_t cors_removed = 0;
  std::size_t access_cookies_removed = 0;  ///< Set-Cookie: CF_Authorization=…
};

/// The response rewrite: strip hop-by-hop fields, CORS fields and the Access JWT cookie.
/// Everything else (other Set-Cookie fields, Content-Encoding, ...) stays.
ResponseRewrite rewrite_response(http::response_header<>& res);

}  // namespace vp::core
