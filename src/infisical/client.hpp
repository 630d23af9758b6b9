#pragma once
// A typed client for the Infisical HTTP API, over the CLI's one HTTP client (net/http_client.hpp):
// vault-proxy on loopback, or HTTPS straight to the vault with the shared TLS context.
//
// An endpoint is a call<T>(): method, path, query or JSON body in; a decoded T on 2xx, or the status
// and Infisical's JSON error ({message, error}) out. Adding an endpoint is a struct with a static
// `decode(nlohmann::json&)` and one call. Redirects are never followed (infisical-api.md §3.3).

#include "core/secret.hpp"
#include "net/asio.hpp"
#include "net/http_client.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vp::infisical {

using clock = std::chrono::steady_clock;
using net_http::Endpoint;
using net_http::Failure;
using net_http::failure_name;
using net_http::parse_base_url;
using net_http::Reply;
using net_http::Request;

/// The `error` and `message` of an Infisical (or vault-proxy) JSON error body.
struct ApiError {
  std::string error;
  std::string message;
};
/// Parses a JSON error envelope; nullopt when the body is not a JSON object with either field.
std::optional<ApiError> api_error(const Reply& reply);

/// What a call sends besides its method and path.
struct Params {
  std::vector<std::pair<std::string, std::string>> query;  ///< percent-encoded into the target
  std::optional<nlohmann::json> body;                      ///< sent as application/json
  const core::Secret* bearer = nullptr;                    ///< `Authorization: Bearer` when set
};

/// The outcome of a call: `value` when the answer was 2xx and decoded; else `reply` says what
/// happened (transport failure, status) and `error` holds Infisical's error body, if any.
template <class T>
struct Result {
  Reply reply;
  std::optional<T> value;
  std::optional<ApiError> error;

  bool ok() const noexcept { return value.has_value(); }
};

/// A body that is not read (e.g. token revoke).
struct Empty {
  static std::optional<Empty> decode(nlohmann::json&) { return Empty{}; }
};

/// GET /api/status.
struct StatusReply {
  Reply reply;
  bool ok = false;          ///< 200 with {"message":"Ok"}
  std::string message;      ///< the `message` field, if any
};

/// POST /api/v1/auth/universal-auth/login, and POST /api/v1/auth/token/renew (the same shape).
struct LoginReply {
  Reply reply;                          ///< body wiped on 2xx (it may hold a token)
  std::optional<core::Secret> access_token;   ///< set on 200 with a non-empty accessToken
  std::int64_t expires_in = 0;          ///< seconds
  std::int64_t max_ttl = 0;             ///< accessTokenMaxTTL, seconds; 0 = none given
  bool locked = false;                  ///< 401 "temporarily locked" (lockout after wrong secrets)
  std::string message;                  ///< Infisical's error message, if any (never holds a secret)
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
  Reply reply;                        ///< body wiped when it held a secret
  bool found = false;                 ///< 200 with a `secret` object
  std::optional<core::Secret> value;  ///< secret.secretValue
  std::string secret_key;             ///< secret.secretKey as returned
};

/// The client. Cheap to construct; calls may run one after another on the same executor.
class Client {
 public:
  /// Bodies above this are cut (and Reply::body_truncated set): answers the CLI reads are small.
  static constexpr std::size_t body_limit = net_http::body_limit;

  Client(net::any_io_executor ex, Endpoint endpoint);

  const Endpoint& endpoint() const noexcept { return endpoint_; }

  /// One request, one connection. Never throws for network errors: see Reply::failure.
  net::awaitable<Reply> send(Request request, clock::time_point deadline);

  /// One API call. T has `static std::optional<T> decode(nlohmann::json&)`, which may move
  /// strings out of the parsed body (and should wipe the ones holding secrets); nullopt when the
  /// body is not what T expects.
  template <class T>
  net::awaitable<Result<T>> call(http::verb method, std::string path, Params params, clock::time_point deadline) {
    Result<T> r;
    r.reply = co_await send(request(method, std::move(path), std::move(params)), deadline);
    if (!r.reply.ok()) co_return r;
    auto j = nlohmann::json::parse(r.reply.body, nullptr, false);
    if (r.reply.status / 100 == 2 && !j.is_discarded()) r.value = T::decode(j);
    if (!r.value) r.error = api_error(r.reply);
    co_return r;
  }

  net::awaitable<StatusReply> status(clock::time_point deadline);
  /// Exactly one login attempt: never retried (three wrong secrets lock the identity).
  net::awaitable<LoginReply> login(const core::Secret& client_id, const core::Secret& client_secret,
                                   clock::time_point deadline);
  /// Renews an access token (Infisical answers in the login's shape, usually with the same token).
  net::awaitable<LoginReply> renew(const core::Secret& access_token, clock::time_point deadline);
  /// Revokes an access token; true on 200.
  net::awaitable<bool> revoke(const core::Secret& access_token, clock::time_point deadline);
  net::awaitable<SecretReply> get_secret(const core::Secret& access_token, const SecretQuery& query,
                                         clock::time_point deadline);

 private:
  /// The Request of a call: the query appended to `path`, the body serialised (then wiped).
  static Request request(http::verb method, std::string path, Params params);

  net::any_io_executor ex_;
  Endpoint endpoint_;
};

/// Percent-encodes everything but RFC 3986 unreserved characters (like encodeURIComponent).
std::string percent_encode(std::string_view s);

}  // namespace vp::infisical
