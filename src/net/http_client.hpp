#pragma once
// The CLI's one HTTP client: one request, one connection, one response. HTTP/1.1 to vault-proxy on
// loopback over plain TCP, or HTTPS straight to the vault through net/connector.hpp (the proxy's
// TLS stack and context), optionally adding the Cloudflare Access service token the way the proxy
// does (core::rewrite_request).
//
// Every call takes one absolute deadline that bounds resolve, connect, handshake, write and read.
// Redirects are never followed (an Access login redirect must be seen, not obeyed: infisical-api.md
// §3.3). A fresh connection per call, closed afterwards: the CLI makes a handful of calls, and it
// keeps each answer independent of the previous one.

#include "config/config.hpp"
#include "core/credentials.hpp"
#include "core/diagnosis.hpp"
#include "core/secret.hpp"
#include "net/asio.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vp::net_http {

using clock = std::chrono::steady_clock;

/// Where requests go and how.
struct Endpoint {
  enum class Scheme { http, https };
  Scheme scheme = Scheme::http;
  std::string host;                         ///< Host field, SNI and certificate name (no brackets)
  std::uint16_t port = 80;
  std::string base_path;                    ///< prepended to every target (no trailing '/'), e.g. a capability prefix
  std::optional<config::ConnectTo> dial;    ///< connect here instead of resolving `host`
  std::shared_ptr<ssl::context> tls;        ///< required for https (net_tls::make_client_context)
  std::string user_agent;                   ///< empty: "vault-proxy/<version>"
  /// Cloudflare Access service token to add (talking to the upstream directly); null: none.
  std::shared_ptr<const core::ServiceToken> service_token;

  /// `Host` value: host (bracketed if IPv6) with `:port` unless it is the scheme's default.
  std::string host_header() const;
  /// `scheme://host[:port][base_path]`, for messages.
  std::string url() const;
};

/// Parses `http://host[:port][/path]` or `https://...` into an Endpoint (no userinfo, query or
/// fragment; a trailing '/' is dropped). Sets `problem` and returns nullopt otherwise.
std::optional<Endpoint> parse_base_url(std::string_view url, std::string& problem);

/// Why an exchange produced no response.
enum class Failure { none, resolve, connect, tls, timeout, send, receive };

/// "resolve", "connect", ... ("" for none).
std::string_view failure_name(Failure f) noexcept;

/// One exchange: a response, or the transport failure that prevented it.
struct Reply {
  Failure failure = Failure::none;
  std::string error;      ///< operator-facing reason of a failure, e.g. "connect 127.0.0.1:2019: Connection refused"
  unsigned status = 0;
  http::fields headers;
  std::string body;       ///< at most body_limit bytes (wiped for answers that carry secrets)
  bool body_truncated = false;

  bool ok() const noexcept { return failure == Failure::none; }
  /// First value of a header ("" when absent).
  std::string header(std::string_view name) const;
  /// core::classify over this answer.
  core::Diagnosis diagnosis() const;
};

/// A request; `target` is origin-form and gets Endpoint::base_path prepended.
struct Request {
  http::verb method = http::verb::get;
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type;
  std::string body;                      ///< wiped after it is sent
  const core::Secret* bearer = nullptr;  ///< `Authorization: Bearer <token>` when set

  /// GET `target`.
  static Request get(std::string target, const core::Secret* bearer = nullptr);
  /// POST `target` with a JSON body.
  static Request post_json(std::string target, std::string body);
};

/// Bodies above this are cut (and Reply::body_truncated set): answers the CLI reads are small.
constexpr std::size_t body_limit = 1024 * 1024;

/// One request, one connection (the endpoint is copied: it outlives nothing of the caller's).
/// Never throws for network errors: see Reply::failure. Throws
/// std::logic_error for an https endpoint without a TLS context.
net::awaitable<Reply> send(net::any_io_executor ex, Endpoint endpoint, Request request,
                           clock::time_point deadline);

/// send() on its own io_context, for the synchronous CLI commands (status, run).
Reply send_blocking(const Endpoint& endpoint, Request request, std::chrono::milliseconds timeout);

/// An http Endpoint for a proxy on `host` (an IP address) and `port`, with the CLI's User-Agent.
Endpoint local_endpoint(const std::string& host, std::uint16_t port);

}  // namespace vp::net_http
