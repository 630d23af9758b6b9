#include "core/headers.hpp"

#include <array>
#include <string>
#include <vector>

namespace vp::core {
namespace {

constexpr std::array<std::string_view, 9> hop_fields{
    "connection",        "keep-alive", "proxy-connection", "te",
    "trailer",           "transfer-encoding", "upgrade",
    "proxy-authenticate", "proxy-authorization",
};

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && beast::iequals(s.substr(0, prefix.size()), prefix);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls f(token) for each comma-separated element of a list-valued field (RFC 9110 §5.6.1).
template <class F>
void for_each_token(std::string_view list, F&& f) {
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = trim(list.substr(0, comma));
    if (!item.empty()) f(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

// Rebuilds a Cookie value without the CF_Authorization pair. Returns how many pairs were dropped.
std::size_t without_access_cookie(std::string_view value, std::string& out) {
  std::size_t dropped = 0;
  out.clear();
  while (!value.empty()) {
    auto semi = value.find(';');
    auto pair = trim(value.substr(0, semi));
    auto eq = pair.find('=');
    auto name = trim(pair.substr(0, eq));
    if (beast::iequals(name, "CF_Authorization")) {
      ++dropped;
    } else if (!pair.empty()) {
      if (!out.empty()) out += "; ";
      out += pair;
    }
    if (semi == std::string_view::npos) break;
    value.remove_prefix(semi + 1);
  }
  return dropped;
}

// The cookie-name of a Set-Cookie value: what precedes the first '=' (RFC 6265 §5.2), trimmed.
std::string_view set_cookie_name(std::string_view value) {
  return trim(value.substr(0, value.find_first_of("=;")));
}

// Erases every field for which drop(field) holds; returns how many.
template <class Pred>
std::size_t erase_if(http::fields& fields, Pred&& drop) {
  std::size_t removed = 0;
  for (auto it = fields.begin(); it != fields.end();) {
    if (drop(*it)) {
      it = fields.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

}  // namespace

std::span<const std::string_view> hop_by_hop_fields() noexcept { return hop_fields; }

bool is_hop_by_hop(std::string_view name) noexcept {
  for (auto h : hop_fields)
    if (beast::iequals(h, name)) return true;
  return false;
}

std::size_t strip_hop_by_hop(http::fields& fields) {
  // The nominations are views into the Connection fields' values, so those fields are erased
  // last, after every other field was compared with them. A small request nominates nothing
  // beyond hop-by-hop names, and the common case takes no allocation (issue 17).
  constexpr std::size_t inline_nominations = 8;
  std::array<std::string_view, inline_nominations> nominated;
  std::size_t count = 0;
  std::vector<std::string_view> more;
  auto nominates = [](auto const& f) {
    return f.name() == http::field::connection || beast::iequals(f.name_string(), "proxy-connection");
  };
  for (auto const& f : fields) {
    if (!nominates(f)) continue;
    for_each_token(f.value(), [&](std::string_view t) {
      if (is_hop_by_hop(t)) return;
      if (count < inline_nominations)
        nominated[count++] = t;
      else
        more.push_back(t);
    });
  }
  auto is_nominated = [&](std::string_view name) {
    for (std::size_t i = 0; i < count; ++i)
      if (beast::iequals(name, nominated[i])) return true;
    for (auto n : more)
      if (beast::iequals(name, n)) return true;
    return false;
  };
  std::size_t removed = erase_if(fields, [&](auto const& f) {
    return !nominates(f) && (is_hop_by_hop(f.name_string()) || is_nominated(f.name_string()));
  });
  return removed + erase_if(fields, nominates);
}

std::size_t strip_client_credentials(http::fields& fields) {
  std::size_t removed = 0;
  std::vector<std::string> kept_cookies;
  std::string rebuilt;
  for (auto it = fields.begin(); it != fields.end();) {
    auto name = it->name_string();
    if (starts_with_ci(name, "cf-access-") || starts_with_ci(name, "proxy-")) {
      it = fields.erase(it);
      ++removed;
      continue;
    }
    if (it->name() == http::field::cookie) {
      auto dropped = without_access_cookie(it->value(), rebuilt);
      if (dropped > 0) {
        removed += dropped;
        if (!rebuilt.empty()) kept_cookies.push_back(rebuilt);
        it = fields.erase(it);
        continue;
      }
    }
    ++it;
  }
  for (auto& c : kept_cookies) fields.insert(http::field::cookie, c);
  return removed;
}

RewriteResult strip_request(http::request_header<>& req, const Injection& inj) {
  RewriteResult r;
  r.hop_by_hop_removed = strip_hop_by_hop(req);
  r.underscore_fields_removed = strip_underscore_fields(req);
  r.client_credentials_removed = strip_client_credentials(req);
  // Every copy: a repeated client Host or User-Agent cannot survive next to the injected one.
  req.erase(http::field::host);
  req.erase(http::field::user_agent);
  r.injected = inj.token != nullptr;
  // Auto-auth: the placeholder the client sent (core::bearer_use decided) gives way to the real token.
  if (inj.bearer != nullptr) {
    req.erase(http::field::authorization);
    r.bearer_replaced = true;
  }
  return r;
}

RewriteResult rewrite_request(http::request_header<>& req, const Injection& inj) {
  auto r = strip_request(req, inj);
  req.set(http::field::host, inj.host_header);
  req.set(http::field::user_agent, inj.user_agent);
  if (inj.token != nullptr) {
    req.set("CF-Access-Client-Id", inj.token->client_id.reveal());
    req.set("CF-Access-Client-Secret", inj.token->client_secret.reveal());
  }
  if (inj.bearer != nullptr) {
    std::string value = "Bearer ";
    value += inj.bearer->reveal();
    req.set(http::field::authorization, value);
    wipe(value);
  }
  return r;
}

std::size_t strip_underscore_fields(http::fields& fields) {
  return erase_if(fields, [](auto const& f) { return f.name_string().find('_') != std::string_view::npos; });
}

std::size_t strip_cors(http::fields& fields) {
  return erase_if(fields, [](auto const& f) { return starts_with_ci(f.name_string(), "access-control-"); });
}

std::size_t strip_access_set_cookies(http::fields& fields) {
  return erase_if(fields, [](auto const& f) {
    return f.name() == http::field::set_cookie && beast::iequals(set_cookie_name(f.value()), "CF_Authorization");
  });
}

ResponseRewrite rewrite_response(http::response_header<>& res) {
  ResponseRewrite r;
  r.hop_by_hop_removed = strip_hop_by_hop(res);
  r.cors_removed = strip_cors(res);
  r.access_cookies_removed = strip_access_set_cookies(res);
  return r;
}

}  // namespace vp::core
