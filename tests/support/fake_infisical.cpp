#include "support/fake_infisical.hpp"

#include <nlohmann/json.hpp>
#include <openssl/rand.h>

#include <algorithm>

namespace vp::test {

namespace {

using json = nlohmann::json;

Response json_response(unsigned status, const json& body) {
  return Response::text(status, body.dump(), "application/json; charset=utf-8");
}

Response error(unsigned status, std::string_view name, std::string_view message) {
  return json_response(status, {{"statusCode", status}, {"message", message}, {"error", name}});
}

std::string new_token() {
  unsigned char bytes[18];
  RAND_bytes(bytes, sizeof bytes);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "eyJfake.";
  for (unsigned char b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

std::int64_t whole_seconds(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

/// The login and renew answer.
Response token_response(const std::string& token, const FakeInfisical::Options& o) {
  return json_response(200, {{"accessToken", token},
                             {"expiresIn", whole_seconds(o.ttl)},
                             {"accessTokenMaxTTL", whole_seconds(o.max_ttl)},
                             {"tokenType", "Bearer"}});
}

std::string path_of(const std::string& target) { return target.substr(0, target.find('?')); }

std::string bearer_of(const RecordedRequest& r) {
  auto v = r.header("Authorization").value_or("");
  return v.rfind("Bearer ", 0) == 0 ? v.substr(7) : std::string();
}

}  // namespace

FakeInfisical::FakeInfisical(Options options) : options_(std::move(options)) {}

FakeUpstream::Handler FakeInfisical::handler() {
  return [this](const RecordedRequest& r) { return handle(r); };
}

Response FakeInfisical::handle(const RecordedRequest& r) {
  const auto path = path_of(r.target);
  if (path == "/api/status") return json_response(200, {{"message", "Ok"}, {"date", "2026-12-03T00:00:00Z"}});
  if (r.method == "POST" && path == "/api/v1/auth/universal-auth/login") return login(r);
  if (r.method == "POST" && path == "/api/v1/auth/token/renew") return renew(r);
  if (r.method == "POST" && path == "/api/v1/auth/token/revoke") return revoke(r);
  return api(r);
}

bool FakeInfisical::valid(const Token& t, clock::time_point now) const {
  return !t.revoked && now < t.expires_at && (!t.max_at || now < *t.max_at);
}

Response FakeInfisical::login(const RecordedRequest& r) {
  auto body = json::parse(r.body, nullptr, false);
  std::lock_guard lock(mutex_);
  ++login_attempts_;
  const auto now = clock::now();
  if (now < locked_until_)
    return error(401, "UnauthorizedError", "This identity auth method is temporarily locked, please try again later");
  const bool ok = body.is_object() && body.value("clientId", "") == options_.client_id &&
                  body.value("clientSecret", "") == options_.client_secret;
  if (!ok) {
    if (++wrong_secrets_ >= options_.lockout_threshold) locked_until_ = now + options_.lockout;
    return error(401, "UnauthorizedError", "Invalid credentials");
  }
  wrong_secrets_ = 0;
  ++logins_;
  auto token = new_token();
  Token t{now + options_.ttl, std::nullopt, false};
  if (options_.max_ttl.count() > 0) t.max_at = now + options_.max_ttl;
  tokens_[token] = t;
  issued_.push_back(token);
  return token_response(token, options_);
}

Response FakeInfisical::renew(const RecordedRequest& r) {
  auto body = json::parse(r.body, nullptr, false);
  std::lock_guard lock(mutex_);
  ++renew_attempts_;
  const auto now = clock::now();
  auto it = body.is_object() ? tokens_.find(body.value("accessToken", "")) : tokens_.end();
  if (it == tokens_.end() || !valid(it->second, now))
    return error(401, "UnauthorizedError", "Failed to renew access token: it has expired or reached its max TTL");
  if (!options_.renew_does_not_extend) it->second.expires_at = now + options_.ttl;
  ++renews_;
  return token_response(it->first, options_);
}

Response FakeInfisical::revoke(const RecordedRequest& r) {
  auto body = json::parse(r.body, nullptr, false);
  std::lock_guard lock(mutex_);
  auto it = body.is_object() ? tokens_.find(body.value("accessToken", "")) : tokens_.end();
  if (it != tokens_.end()) it->second.revoked = true;
  return json_response(200, {{"message", "Successfully revoked access token"}});
}

Response FakeInfisical::api(const RecordedRequest& r) {
  const auto token = bearer_of(r);
  std::lock_guard lock(mutex_);
  if (token.empty()) return error(401, "UnauthorizedError", "Missing Authorization header");
  auto it = tokens_.find(token);
  if (it == tokens_.end() || !valid(it->second, clock::now())) {
    ++token_errors_;
    return error(403, "TokenError", "Your token has expired. Please re-authenticate.");
  }
  ++api_calls_;
  const auto path = path_of(r.target);
  const std::string prefix = "/api/v3/secrets/raw/";
  std::string key = path.rfind(prefix, 0) == 0 ? path.substr(prefix.size()) : std::string("none");
  return json_response(200, {{"secret",
                              {{"secretKey", key},
                               {"secretValue", "value-of-" + key},
                               {"version", 1},
                               {"type", "shared"},
                               {"secretPath", "/"}}}});
}

void FakeInfisical::set_client_secret(std::string secret) {
  std::lock_guard lock(mutex_);
  options_.client_secret = std::move(secret);
  wrong_secrets_ = 0;
  locked_until_ = {};
}

void FakeInfisical::revoke_all() {
  std::lock_guard lock(mutex_);
  for (auto& [k, t] : tokens_) t.revoked = true;
}

std::size_t FakeInfisical::login_attempts() const { std::lock_guard l(mutex_); return login_attempts_; }
std::size_t FakeInfisical::logins() const { std::lock_guard l(mutex_); return logins_; }
std::size_t FakeInfisical::renews() const { std::lock_guard l(mutex_); return renews_; }
std::size_t FakeInfisical::renew_attempts() const { std::lock_guard l(mutex_); return renew_attempts_; }
std::size_t FakeInfisical::api_calls() const { std::lock_guard l(mutex_); return api_calls_; }
std::size_t FakeInfisical::token_errors() const { std::lock_guard l(mutex_); return token_errors_; }
std::vector<std::string> FakeInfisical::tokens() const { std::lock_guard l(mutex_); return issued_; }

}  // namespace vp::test
