#pragma once
// A small typed client for the Infisical HTTP API calls the CLI needs (status, universal-auth login,
// token revoke, get secret), plus a raw request for anything else. It talks HTTP/1.1 to vault-proxy
// on loopback, or HTTPS straight to the vault with the shared TLS context (net/tls.hpp), optionally
// adding the Cloudflare Access service token the way the proxy does (core::rewrite_request).
//
// Every call takes one absolute deadline that bounds resolve, connect, handshake, write and read.
// Redirects are never followed (an Access login redirect must be seen, not obeyed: infisical-api.md
// §3.3). One connection per call, closed afterwards: the CLI makes a handful of calls, and a fresh
// connection per call keeps each answer independent of the previous one.

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

namespace vp::infisical {

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
  std::shared_ptr<const ServiceToken> service_token;

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
  std::string body;       ///< at most Client::body_limit bytes (wiped for answers that carry secrets)
  bool body_truncated = false;

  bool ok() const noexcept { return failure == Failure::none; }
  /// First value of a header ("" when absent).
  std::string header(std::string_view name) const;
  /// core::classify over this answer.
  core::Diagnosis diagnosis() const;
};

/// The `error` and `message` of an Infisical (or vault-proxy) JSON error body.
struct ApiError {
  std::string error;
  std::string message;
};
/// Parses a JSON error envelope; nullopt when the body is not a JSON object with either field.
std::optional<ApiError> api_error(const Reply& reply);

/// A request; `target` is origin-form and gets Endpoint::base_path prepended.
struct Request {
  http::verb method = http::verb::get;
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type;
  std::string body;                 ///< wiped after it is sent
  const Secret* bearer = nullptr;   ///< `Authorization: Bearer <token>` when set

  /// GET `target`.
  static Request get(std::string target, const Secret* bearer = nullptr);
  /// POST `target` with a JSON body.
  static Request post_json(std::string target, std::string body);
};

/// GET /api/status.
struct StatusReply {
  Reply reply;
  bool ok = false;          ///< 200 with {"message":"Ok"}
  std::string message;      ///< the `message` field, if any
};

/// POST /api/v1/auth/universal-auth/login.
struct LoginReply {
  Reply reply;                          ///< body wiped when it held a token
  std::optional<Secret> access_token;   ///< set on 200 with a non-empty accessToken
  std::int64_t expires_in = 0;
  bool locked = false;                  ///< 401 "temporarily locked" (lockout after wrong secrets)
};

/// Which secret to read.
struct SecretQuery {
  std::string project_id;
  std::string environment;
  std::string secret_path = "/";
  std::string key;
};

/// GET /api/v3/secrets/raw/{key}.
struct SecretReply {
  Reply reply;                  ///< body wiped when it held a secret
  bool found = false;           ///< 200 with a `secret` object
  std::optional<Secret> value;  ///< secret.secretValue
  std::string secret_key;       ///< secret.secretKey as returned
};

/// The client. Cheap to construct; calls may run one after another on the same executor.
class Client {
 public:
  /// Bodies above this are cut (and Reply::body_truncated set): answers the CLI reads are small.
  static constexpr std::size_t body_limit = 1024 * 1024;

  Client(net::any_io_executor ex, Endpoint endpoint);

  const Endpoint& endpoint() const noexcept { return endpoint_; }

  /// One request, one connection. Never throws for network errors: see Reply::failure.
  net::awaitable<Reply> send(Request request, clock::time_point deadline);

  net::awaitable<StatusReply> status(clock::time_point deadline);
  /// Exactly one login attempt: never retried (three wrong secrets lock the identity).
  net::awaitable<LoginReply> login(const Secret& client_id, const Secret& client_secret,
                                   clock::time_point deadline);
  /// Revokes an access token; true on 200.
  net::awaitable<bool> revoke(const Secret& access_token, clock::time_point deadline);
  net::awaitable<SecretReply> get_secret(const Secret& access_token, const SecretQuery& query,
                                         clock::time_point deadline);

 private:
  net::any_io_executor ex_;
  Endpoint endpoint_;
};

/// Percent-encodes everything but RFC 3986 unreserved characters (like encodeURIComponent).
std::string percent_encode(std::string_view s);

}  // namespace vp::infisical
