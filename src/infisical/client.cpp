#include "infisical/client.hpp"

#include <cctype>

namespace vp::infisical {
namespace {

using json = nlohmann::json;

std::string json_string(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

/// Moves a string field out of `j` into a Secret and wipes what the parse left behind.
std::optional<core::Secret> take_secret(json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  auto& text = it->get_ref<std::string&>();
  std::optional<core::Secret> s;
  if (!text.empty()) s.emplace(std::string(text));
  core::wipe(text);
  return s;
}

/// {"message": "Ok"} of GET /api/status.
struct StatusBody {
  std::string message;
  static std::optional<StatusBody> decode(json& j) {
    if (!j.is_object()) return std::nullopt;
    return StatusBody{json_string(j, "message")};
  }
};

/// {"accessToken", "expiresIn", ...} of a universal-auth login.
struct LoginBody {
  std::optional<core::Secret> access_token;
  std::int64_t expires_in = 0;
  std::int64_t max_ttl = 0;
  static std::optional<LoginBody> decode(json& j) {
    if (!j.is_object()) return std::nullopt;
    LoginBody b;
    b.access_token = take_secret(j, "accessToken");
    if (auto it = j.find("expiresIn"); it != j.end() && it->is_number_integer()) b.expires_in = it->get<std::int64_t>();
    if (auto it = j.find("accessTokenMaxTTL"); it != j.end() && it->is_number_integer())
      b.max_ttl = it->get<std::int64_t>();
    return b;
  }
};

/// {"secret": {"secretKey", "secretValue", ...}} of a raw secret read.
struct SecretBody {
  std::string secret_key;
  std::optional<core::Secret> value;
  static std::optional<SecretBody> decode(json& j) {
    if (!j.is_object()) return std::nullopt;
    auto it = j.find("secret");
    if (it == j.end() || !it->is_object()) return std::nullopt;
    SecretBody b{json_string(*it, "secretKey"), std::nullopt};
    if (auto v = it->find("secretValue"); v != it->end() && v->is_string()) {
      b.value.emplace(std::string(v->get_ref<std::string&>()));
      core::wipe(v->get_ref<std::string&>());
    }
    return b;
  }
};

/// A login's or renew's Result as a LoginReply; a body that held a token is wiped.
LoginReply login_reply(Result<LoginBody> r) {
  LoginReply l{.reply = std::move(r.reply), .access_token = {}, .message = {}};
  if (r.value && l.reply.status == 200) {
    l.access_token = std::move(r.value->access_token);
    l.expires_in = r.value->expires_in;
    l.max_ttl = r.value->max_ttl;
  } else if (l.reply.ok() && l.reply.status == 401 && r.error) {
    l.locked = r.error->message.find("locked") != std::string::npos;
  }
  if (l.reply.ok() && l.reply.status / 100 == 2) core::wipe(l.reply.body);
  if (r.error) l.message = std::move(r.error->message);
  return l;
}

}  // namespace

std::optional<ApiError> api_error(const Reply& reply) {
  auto j = json::parse(reply.body, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  ApiError e{json_string(j, "error"), json_string(j, "message")};
  if (e.error.empty() && e.message.empty()) return std::nullopt;
  return e;
}

std::string percent_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xf];
    }
  }
  return out;
}

Client::Client(net::any_io_executor ex, Endpoint endpoint) : ex_(std::move(ex)), endpoint_(std::move(endpoint)) {}

net::awaitable<Reply> Client::send(Request request, clock::time_point deadline) {
  co_return co_await net_http::send(ex_, endpoint_, std::move(request), deadline);
}

Request Client::request(http::verb method, std::string path, Params params) {
  char sep = '?';
  for (auto& [name, value] : params.query) {
    path += sep + percent_encode(name) + "=" + percent_encode(value);
    sep = '&';
  }
  Request r;
  if (params.body) {
    r = Request::post_json(std::move(path), params.body->dump());
    r.method = method;
  } else {
    r = Request::get(std::move(path));
    r.method = method;
  }
  r.bearer = params.bearer;
  return r;
}

net::awaitable<StatusReply> Client::status(clock::time_point deadline) {
  auto r = co_await call<StatusBody>(http::verb::get, "/api/status", {}, deadline);
  StatusReply s{std::move(r.reply)};
  if (r.value) s.message = r.value->message;
  else if (r.error) s.message = r.error->message;
  s.ok = s.reply.ok() && s.reply.status == 200 && s.message == "Ok";
  co_return s;
}

net::awaitable<LoginReply> Client::login(const core::Secret& client_id, const core::Secret& client_secret,
                                         clock::time_point deadline) {
  Params p;
  p.body = json{{"clientId", client_id.reveal()}, {"clientSecret", client_secret.reveal()}};
  co_return login_reply(co_await call<LoginBody>(http::verb::post, "/api/v1/auth/universal-auth/login", std::move(p),
                                                  deadline));
}

net::awaitable<LoginReply> Client::renew(const core::Secret& access_token, clock::time_point deadline) {
  Params p;
  p.body = json{{"accessToken", access_token.reveal()}};
  co_return login_reply(co_await call<LoginBody>(http::verb::post, "/api/v1/auth/token/renew", std::move(p), deadline));
}

net::awaitable<bool> Client::revoke(const core::Secret& access_token, clock::time_point deadline) {
  Params p;
  p.body = json{{"accessToken", access_token.reveal()}};
  auto r = co_await call<Empty>(http::verb::post, "/api/v1/auth/token/revoke", std::move(p), deadline);
  co_return r.reply.ok() && r.reply.status == 200;
}

net::awaitable<SecretReply> Client::get_secret(const core::Secret& access_token, const SecretQuery& q,
                                               clock::time_point deadline) {
  Params p;
  p.query = {{"workspaceId", q.project_id},
             {"environment", q.environment},
             {"secretPath", q.secret_path},
             {"viewSecretValue", "true"}};
  p.bearer = &access_token;
  auto r = co_await call<SecretBody>(http::verb::get, "/api/v3/secrets/raw/" + percent_encode(q.key), std::move(p),
                                     deadline);
  SecretReply s{std::move(r.reply)};
  if (r.value && s.reply.status == 200) {
    s.found = true;
    s.secret_key = std::move(r.value->secret_key);
    s.value = std::move(r.value->value);
  }
  if (s.reply.ok() && s.reply.status == 200) core::wipe(s.reply.body);
  co_return s;
}

}  // namespace vp::infisical
