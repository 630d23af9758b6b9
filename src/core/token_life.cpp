#include "core/token_life.hpp"

#include <boost/beast/core/string.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace vp::core {

namespace {

using clock = std::chrono::steady_clock;

constexpr std::string_view login_path = "/api/v1/auth/universal-auth/login";
constexpr std::string_view renew_path = "/api/v1/auth/token/renew";
constexpr std::string_view revoke_path = "/api/v1/auth/token/revoke";

// The answer Infisical gives a wrong client id or secret (401 UnauthorizedError).
std::string unauthorized_body() {
  return nlohmann::json{{"statusCode", 401}, {"message", "Invalid credentials"}, {"error", "UnauthorizedError"}}
      .dump();
}

// The login (and renew) shape, holding the placeholder.
std::string placeholder_body(const Secret& local_token) {
  return nlohmann::json{{"accessToken", local_token.reveal()},
                        {"expiresIn", placeholder_ttl_s},
                        {"accessTokenMaxTTL", placeholder_ttl_s},
                        {"tokenType", "Bearer"}}
      .dump();
}

// The string member `name` of a JSON object body, or nullopt. The parsed copy is wiped.
std::optional<std::string> string_member(nlohmann::json& j, std::string_view name) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  std::string out = std::move(it->get_ref<std::string&>());
  return out;
}

}  // namespace

milliseconds lead_time(seconds ttl) noexcept {
  const auto ms = std::chrono::duration_cast<milliseconds>(ttl);
  // Never more than half the TTL: a renew must leave a wait before the next one.
  return std::min(std::clamp(ms / 3, milliseconds(1000), milliseconds(300'000)), ms / 2);
}

TokenStep next_token_step(const TokenTimes& t, clock::time_point now) noexcept {
  if (!t.present) return {TokenStep::Kind::login, now};
  const auto lead = lead_time(t.ttl);
  const bool capped = t.max_expires_at && *t.max_expires_at <= t.expires_at;
  const auto end = capped ? *t.max_expires_at : t.expires_at;
  if (now < end - lead) return {TokenStep::Kind::wait, end - lead};
  // A renew cannot move an expiry that the max TTL already holds back, nor one within a lead
  // time of it: log in again while the old token still works.
  const bool renew_helps = !t.max_expires_at || *t.max_expires_at - lead > t.expires_at;
  return {renew_helps ? TokenStep::Kind::renew : TokenStep::Kind::login, now};
}

bool token_usable(const TokenTimes& t, clock::time_point now, milliseconds margin) noexcept {
  if (!t.present) return false;
  auto end = t.max_expires_at ? std::min(t.expires_at, *t.max_expires_at) : t.expires_at;
  return now + margin < end;
}

milliseconds backoff(unsigned attempt, double unit) noexcept {
  if (attempt == 0) return milliseconds(0);
  const double base = std::min(1000.0 * std::pow(2.0, std::min(attempt - 1, 20u)), 300'000.0);
  const double jitter = 0.8 + 0.4 * std::clamp(unit, 0.0, 1.0);
  return milliseconds(static_cast<std::int64_t>(base * jitter));
}

AuthCall auth_call(http::verb method, std::string_view target) noexcept {
  if (method != http::verb::post) return AuthCall::none;
  auto path = target.substr(0, target.find('?'));
  if (path == login_path) return AuthCall::login;
  if (path == renew_path) return AuthCall::renew;
  if (path == revoke_path) return AuthCall::revoke;
  return AuthCall::none;
}

bool token_refused(unsigned status, std::string_view body) noexcept {
  if (status == 401) return true;
  if (status != 403) return false;
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return false;
  auto it = j.find("error");
  return it != j.end() && it->is_string() && it->get_ref<const std::string&>() == "TokenError";
}

bool equal_constant_time(std::string_view a, std::string_view b) noexcept {
  // Every byte of the longer string is visited whatever the contents, so the time tells the
  // lengths only (which are not secret: tokens have a fixed shape).
  const std::size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

BearerUse bearer_use(const http::fields& fields, const Secret& local_token) noexcept {
  auto [it, end] = fields.equal_range(http::field::authorization);
  if (it == end) return BearerUse::none;
  if (std::next(it) != end) return BearerUse::other;
  std::string_view v = it->value();
  constexpr std::string_view scheme = "Bearer ";
  if (v.size() <= scheme.size() || !beast::iequals(v.substr(0, scheme.size()), scheme)) return BearerUse::other;
  v.remove_prefix(scheme.size());
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  return equal_constant_time(v, local_token.reveal()) ? BearerUse::placeholder : BearerUse::other;
}

LocalAnswer answer_login(std::string_view body, const Secret& client_id, const Secret& client_secret,
                         const Secret& local_token) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  Secret id(string_member(j, "clientId").value_or(std::string()));
  Secret secret(string_member(j, "clientSecret").value_or(std::string()));
  // Both comparisons always run, so the time does not tell which of the two was wrong.
  const bool id_ok = equal_constant_time(id.reveal(), client_id.reveal());
  const bool secret_ok = equal_constant_time(secret.reveal(), client_secret.reveal());
  if (id_ok && secret_ok && !client_id.reveal().empty() && !client_secret.reveal().empty())
    return {200, placeholder_body(local_token)};
  return {401, unauthorized_body()};
}

std::optional<LocalAnswer> answer_token_call(AuthCall call, std::string_view body, const Secret& local_token) {
  if (call != AuthCall::renew && call != AuthCall::revoke) return std::nullopt;
  auto j = nlohmann::json::parse(body, nullptr, false);
  Secret named(string_member(j, "accessToken").value_or(std::string()));
  if (!equal_constant_time(named.reveal(), local_token.reveal())) return std::nullopt;
  if (call == AuthCall::renew) return LocalAnswer{200, placeholder_body(local_token)};
  return LocalAnswer{200, nlohmann::json{{"message", "Successfully revoked access token"}}.dump()};
}

}  // namespace vp::core
