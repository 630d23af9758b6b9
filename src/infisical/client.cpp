#include "infisical/client.hpp"

#include "core/headers.hpp"
#include "net/tls.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <nlohmann/json.hpp>
#include <vault_proxy/version.hpp>

#include <cctype>
#include <charconv>

namespace vp::infisical {
namespace {

using net::as_tuple;
using net::use_awaitable;
using json = nlohmann::json;

bool is_ipv6_literal(std::string_view host) { return host.find(':') != std::string_view::npos; }

std::string bracketed(std::string_view host) {
  return is_ipv6_literal(host) ? "[" + std::string(host) + "]" : std::string(host);
}

std::uint16_t default_port(Endpoint::Scheme s) { return s == Endpoint::Scheme::https ? 443 : 80; }

std::string timeout_or(const error_code& ec) {
  return ec == beast::error::timeout ? std::string("timed out") : ec.message();
}

/// Writes the request and reads one response on an established stream.
template <class Stream>
net::awaitable<Reply> exchange(Stream& stream, beast::tcp_stream& tcp,
                               http::request<http::string_body>& req, clock::time_point deadline,
                               const std::string& where) {
  Reply r;
  tcp.expires_at(deadline);
  auto [wec, wn] = co_await http::async_write(stream, req, as_tuple(use_awaitable));
  wipe(req.body());  // a login body holds the client secret
  if (wec) {
    r.failure = wec == beast::error::timeout ? Failure::timeout : Failure::send;
    r.error = "sending to " + where + ": " + timeout_or(wec);
    co_return r;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(64 * 1024);
  parser.body_limit(Client::body_limit);
  tcp.expires_at(deadline);
  auto [rec, rn] = co_await http::async_read(stream, buffer, parser, as_tuple(use_awaitable));
  if (rec == http::error::body_limit && parser.is_header_done()) {
    r.body_truncated = true;
  } else if (rec) {
    r.failure = rec == beast::error::timeout ? Failure::timeout : Failure::receive;
    r.error = "reading the answer from " + where + ": " + timeout_or(rec);
    co_return r;
  }
  auto& res = parser.get();
  r.status = res.result_int();
  for (const auto& field : res.base()) r.headers.insert(field.name_string(), field.value());
  r.body = std::move(res.body());
  co_return r;
}

std::string json_string(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string Endpoint::host_header() const {
  std::string h = bracketed(host);
  if (port != default_port(scheme)) h += ":" + std::to_string(port);
  return h;
}

std::string Endpoint::url() const {
  return std::string(scheme == Scheme::https ? "https://" : "http://") + host_header() + base_path;
}

std::optional<Endpoint> parse_base_url(std::string_view url, std::string& problem) {
  Endpoint e;
  if (url.starts_with("http://")) {
    e.scheme = Endpoint::Scheme::http;
    url.remove_prefix(7);
  } else if (url.starts_with("https://")) {
    e.scheme = Endpoint::Scheme::https;
    url.remove_prefix(8);
  } else {
    problem = "not an http:// or https:// URL";
    return std::nullopt;
  }
  if (url.find_first_of("?#@") != std::string_view::npos) {
    problem = "a base URL has no userinfo, query or fragment";
    return std::nullopt;
  }
  auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : url.substr(slash);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  e.base_path = std::string(path);
  std::string_view port_text;
  if (authority.starts_with("[")) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) {
      problem = "unterminated IPv6 literal";
      return std::nullopt;
    }
    e.host = std::string(authority.substr(1, close - 1));
    auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        problem = "unexpected text after the IPv6 literal";
        return std::nullopt;
      }
      port_text = rest.substr(1);
    }
  } else {
    auto colon = authority.rfind(':');
    e.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (e.host.empty()) {
    problem = "no host";
    return std::nullopt;
  }
  e.port = default_port(e.scheme);
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || value == 0 || value > 65535) {
      problem = "'" + std::string(port_text) + "' is not a port number";
      return std::nullopt;
    }
    e.port = static_cast<std::uint16_t>(value);
  }
  return e;
}

std::string_view failure_name(Failure f) noexcept {
  switch (f) {
    case Failure::none: return "";
    case Failure::resolve: return "resolve";
    case Failure::connect: return "connect";
    case Failure::tls: return "tls";
    case Failure::timeout: return "timeout";
    case Failure::send: return "send";
    case Failure::receive: return "receive";
  }
  return "";
}

std::string Reply::header(std::string_view name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : std::string(it->value());
}

core::Diagnosis Reply::diagnosis() const {
  auto field = [&](std::string_view name) {
    auto it = headers.find(name);
    return it == headers.end() ? std::string_view() : std::string_view(it->value());
  };
  std::string_view b = body;
  core::ResponseFacts facts{.status = status,
                            .location = field("Location"),
                            .content_type = field("Content-Type"),
                            .cf_mitigated = field("cf-mitigated"),
                            .server = field("Server"),
                            .has_cf_ray = headers.find("cf-ray") != headers.end(),
                            .body = b.substr(0, 64 * 1024)};
  return core::classify(facts);
}

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

Request Request::get(std::string target, const Secret* bearer) {
  Request r;
  r.target = std::move(target);
  r.bearer = bearer;
  return r;
}

Request Request::post_json(std::string target, std::string body) {
  Request r;
  r.method = http::verb::post;
  r.target = std::move(target);
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

Client::Client(net::any_io_executor ex, Endpoint endpoint)
    : ex_(std::move(ex)), endpoint_(std::move(endpoint)) {}

net::awaitable<Reply> Client::send(Request request, clock::time_point deadline) {
  using namespace net::experimental::awaitable_operators;
  const Endpoint& e = endpoint_;
  const std::string dial_host = e.dial ? e.dial->host : e.host;
  const std::uint16_t dial_port = e.dial ? e.dial->port : e.port;
  const std::string where = bracketed(dial_host) + ":" + std::to_string(dial_port);

  http::request<http::string_body> req{request.method, e.base_path + request.target, 11};
  for (auto& [name, value] : request.headers) req.set(name, value);
  const std::string user_agent =
      e.user_agent.empty() ? std::string("vault-proxy/") + vp::version : e.user_agent;
  core::rewrite_request(req, {e.host_header(), user_agent, e.service_token.get()});
  if (!req.count(http::field::accept)) req.set(http::field::accept, "application/json");
  if (request.bearer != nullptr)
    req.set(http::field::authorization, "Bearer " + std::string(request.bearer->reveal()));
  req.set(http::field::connection, "close");
  if (!request.content_type.empty()) req.set(http::field::content_type, request.content_type);
  req.body() = std::move(request.body);
  wipe(request.body);
  if (!req.body().empty() || request.method == http::verb::post || request.method == http::verb::put ||
      request.method == http::verb::patch)
    req.prepare_payload();

  Reply r;
  tcp::resolver resolver(ex_);
  net::steady_timer timer(ex_);
  timer.expires_at(deadline);
  auto raced = co_await (
      resolver.async_resolve(dial_host, std::to_string(dial_port), as_tuple(use_awaitable)) ||
      timer.async_wait(as_tuple(use_awaitable)));
  if (raced.index() == 1) {
    r.failure = Failure::timeout;
    r.error = "resolving " + dial_host + " timed out";
    wipe(req.body());
    co_return r;
  }
  // Not a structured binding: clang 14 cannot capture one in the lambda below.
  auto resolved = std::get<0>(std::move(raced));
  const error_code rec = std::get<0>(resolved);
  const auto endpoints = std::get<1>(std::move(resolved));
  if (rec) {
    r.failure = Failure::resolve;
    r.error = "resolving " + dial_host + ": " + rec.message();
    wipe(req.body());
    co_return r;
  }

  auto connect = [&](beast::tcp_stream& tcp) -> net::awaitable<bool> {
    tcp.expires_at(deadline);
    auto [cec, ep] = co_await tcp.async_connect(endpoints, as_tuple(use_awaitable));
    if (cec) {
      r.failure = cec == beast::error::timeout ? Failure::timeout : Failure::connect;
      r.error = "connect " + where + ": " + timeout_or(cec);
      co_return false;
    }
    co_return true;
  };

  if (e.scheme == Endpoint::Scheme::http) {
    beast::tcp_stream stream(ex_);
    if (!co_await connect(stream)) {
      wipe(req.body());
      co_return r;
    }
    r = co_await exchange(stream, stream, req, deadline, where);
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return r;
  }

  if (!e.tls) throw std::logic_error("infisical::Client: https endpoint without a TLS context");
  ssl::stream<beast::tcp_stream> stream(ex_, *e.tls);
  auto& tcp = stream.next_layer();
  if (!co_await connect(tcp)) {
    wipe(req.body());
    co_return r;
  }
  std::string why;
  if (!net_tls::prepare_client(stream.native_handle(), e.host, why)) {
    r.failure = Failure::tls;
    r.error = why;
    wipe(req.body());
    co_return r;
  }
  tcp.expires_at(deadline);
  auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, as_tuple(use_awaitable));
  if (hec) {
    r.failure = hec == beast::error::timeout ? Failure::timeout : Failure::tls;
    r.error = "TLS handshake with " + e.host + " (" + where + "): " +
              (hec == beast::error::timeout ? std::string("timed out")
                                            : net_tls::describe_failure(hec, stream.native_handle()));
    wipe(req.body());
    co_return r;
  }
  net_tls::note_handshake(stream.native_handle());
  r = co_await exchange(stream, tcp, req, deadline, where);
  // No TLS close_notify exchange: the request said Connection: close and a slow peer must not
  // hold the caller past its deadline.
  tcp.close();
  co_return r;
}

net::awaitable<StatusReply> Client::status(clock::time_point deadline) {
  StatusReply s;
  s.reply = co_await send(Request::get("/api/status"), deadline);
  if (!s.reply.ok()) co_return s;
  auto j = json::parse(s.reply.body, nullptr, false);
  if (j.is_object()) s.message = json_string(j, "message");
  s.ok = s.reply.status == 200 && s.message == "Ok";
  co_return s;
}

net::awaitable<LoginReply> Client::login(const Secret& client_id, const Secret& client_secret,
                                         clock::time_point deadline) {
  LoginReply l;
  std::string body = json{{"clientId", client_id.reveal()}, {"clientSecret", client_secret.reveal()}}.dump();
  l.reply = co_await send(Request::post_json("/api/v1/auth/universal-auth/login", std::move(body)), deadline);
  wipe(body);
  if (!l.reply.ok()) co_return l;
  if (l.reply.status == 200) {
    auto j = json::parse(l.reply.body, nullptr, false);
    if (j.is_object()) {
      std::string token = json_string(j, "accessToken");
      if (!token.empty()) l.access_token.emplace(std::move(token));
      wipe(token);
      if (auto it = j.find("expiresIn"); it != j.end() && it->is_number_integer())
        l.expires_in = it->get<std::int64_t>();
      if (auto it = j.find("accessToken"); it != j.end() && it->is_string())
        wipe(it->get_ref<std::string&>());
    }
    if (l.access_token) wipe(l.reply.body);
  } else if (l.reply.status == 401) {
    if (auto e = api_error(l.reply)) l.locked = e->message.find("locked") != std::string::npos;
  }
  co_return l;
}

net::awaitable<bool> Client::revoke(const Secret& access_token, clock::time_point deadline) {
  std::string body = json{{"accessToken", access_token.reveal()}}.dump();
  auto r = co_await send(Request::post_json("/api/v1/auth/token/revoke", std::move(body)), deadline);
  wipe(body);
  co_return r.ok() && r.status == 200;
}

net::awaitable<SecretReply> Client::get_secret(const Secret& access_token, const SecretQuery& q,
                                               clock::time_point deadline) {
  SecretReply s;
  std::string target = "/api/v3/secrets/raw/" + percent_encode(q.key) +
                       "?workspaceId=" + percent_encode(q.project_id) +
                       "&environment=" + percent_encode(q.environment) +
                       "&secretPath=" + percent_encode(q.secret_path) + "&viewSecretValue=true";
  s.reply = co_await send(Request::get(std::move(target), &access_token), deadline);
  if (!s.reply.ok() || s.reply.status != 200) co_return s;
  auto j = json::parse(s.reply.body, nullptr, false);
  if (j.is_object()) {
    if (auto it = j.find("secret"); it != j.end() && it->is_object()) {
      s.found = true;
      s.secret_key = json_string(*it, "secretKey");
      if (auto v = it->find("secretValue"); v != it->end() && v->is_string()) {
        s.value.emplace(v->get<std::string>());
        wipe(v->get_ref<std::string&>());
      }
    }
  }
  wipe(s.reply.body);
  co_return s;
}

}  // namespace vp::infisical
