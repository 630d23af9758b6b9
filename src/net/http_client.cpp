#include "net/http_client.hpp"

#include "core/headers.hpp"
#include "net/connector.hpp"
#include "net/tls_stream.hpp"

#include <vault_proxy/version.hpp>

#include <charconv>
#include <stdexcept>

namespace vp::net_http {
namespace {

using net::as_tuple;
using net::use_awaitable;

bool is_ipv6_literal(std::string_view host) { return host.find(':') != std::string_view::npos; }

std::string bracketed(std::string_view host) {
  return is_ipv6_literal(host) ? "[" + std::string(host) + "]" : std::string(host);
}

std::uint16_t default_port(Endpoint::Scheme s) { return s == Endpoint::Scheme::https ? 443 : 80; }

std::string timeout_or(const error_code& ec) {
  return ec == beast::error::timeout ? std::string("timed out") : ec.message();
}

Reply failed(Failure f, std::string error) {
  Reply r;
  r.failure = f;
  r.error = std::move(error);
  return r;
}

/// Writes the request and reads one response on an established stream (beast::tcp_stream or
/// net_tls::TlsStream: both take an absolute deadline).
template <class Stream>
net::awaitable<Reply> exchange(Stream& stream, http::request<http::string_body>& req, clock::time_point deadline,
                               const std::string& where) {
  stream.expires_at(deadline);
  auto [wec, wn] = co_await http::async_write(stream, req, as_tuple(use_awaitable));
  core::wipe(req.body());  // a login body holds the client secret
  if (wec)
    co_return failed(wec == beast::error::timeout ? Failure::timeout : Failure::send,
                     "sending to " + where + ": " + timeout_or(wec));
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(64 * 1024);
  parser.body_limit(body_limit);
  stream.expires_at(deadline);
  auto [rec, rn] = co_await http::async_read(stream, buffer, parser, as_tuple(use_awaitable));
  Reply r;
  if (rec == http::error::body_limit && parser.is_header_done()) {
    r.body_truncated = true;
  } else if (rec) {
    co_return failed(rec == beast::error::timeout ? Failure::timeout : Failure::receive,
                     "reading the answer from " + where + ": " + timeout_or(rec));
  }
  auto& res = parser.get();
  r.status = res.result_int();
  for (const auto& field : res.base()) r.headers.insert(field.name_string(), field.value());
  r.body = std::move(res.body());
  co_return r;
}

/// The request as it goes on the wire: the proxy's header rewrite, then this client's fields.
http::request<http::string_body> build(const Endpoint& e, Request& request) {
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
  core::wipe(request.body);
  if (!req.body().empty() || request.method == http::verb::post || request.method == http::verb::put ||
      request.method == http::verb::patch)
    req.prepare_payload();
  return req;
}

/// What a connector report means to a caller of send().
Reply failed_connect(const net_connect::Report& r, const Endpoint& e, const std::string& dial_host,
                     const std::string& where) {
  using net_connect::Step;
  switch (r.failed) {
    case Step::resolve:
      return r.timed_out ? failed(Failure::timeout, "resolving " + dial_host + " timed out")
                         : failed(Failure::resolve, "resolving " + dial_host + ": " + r.reason);
    case Step::connect:
      return failed(r.timed_out ? Failure::timeout : Failure::connect,
                    "connect " + where + ": " + (r.timed_out ? std::string("timed out") : r.reason));
    case Step::tls_setup:
      return failed(Failure::tls, r.reason);
    case Step::handshake:
      return failed(r.timed_out ? Failure::timeout : Failure::tls,
                    "TLS handshake with " + e.host + " (" + where + "): " +
                        (r.timed_out ? std::string("timed out") : r.reason));
    case Step::done:
      break;
  }
  return {};
}

net::awaitable<Reply> send_plain(net::any_io_executor ex, const Endpoint& e, const net_connect::Target& t,
                                 http::request<http::string_body>& req, const std::string& where) {
  beast::tcp_stream stream(ex);
  auto report = co_await net_connect::connect_tcp(stream, t.dial_host, t.dial_port, t.deadline);
  if (!report.ok()) co_return failed_connect(report, e, t.dial_host, where);
  auto r = co_await exchange(stream, req, t.deadline, where);
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  co_return r;
}

net::awaitable<Reply> send_tls(net::any_io_executor ex, const Endpoint& e, const net_connect::Target& t,
                               http::request<http::string_body>& req, const std::string& where) {
  net_tls::TlsStream stream(ex, *e.tls);
  auto report = co_await net_connect::connect(stream, t);
  if (!report.ok()) co_return failed_connect(report, e, t.dial_host, where);
  // No TLS close_notify exchange afterwards: the request said Connection: close and a slow peer
  // must not hold the caller past its deadline.
  co_return co_await exchange(stream, req, t.deadline, where);
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
  // The classifier looks at the start of a body, as the proxy does (core::peek_limit).
  return core::classify(core::response_facts(status, headers, std::string_view(body).substr(0, 64 * 1024)));
}

Request Request::get(std::string target, const core::Secret* bearer) {
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

net::awaitable<Reply> send(net::any_io_executor ex, Endpoint e, Request request, clock::time_point deadline) {
  if (e.scheme == Endpoint::Scheme::https && !e.tls)
    throw std::logic_error("net_http::send: https endpoint without a TLS context");
  net_connect::Target t;
  t.host = e.host;
  t.dial_host = e.dial ? e.dial->host : e.host;
  t.dial_port = e.dial ? e.dial->port : e.port;
  t.deadline = deadline;
  const std::string where = bracketed(t.dial_host) + ":" + std::to_string(t.dial_port);
  auto req = build(e, request);
  // Not `?:` around two co_awaits: GCC 12 destroys a temporary of the branch not taken.
  Reply r;
  if (e.scheme == Endpoint::Scheme::http)
    r = co_await send_plain(ex, e, t, req, where);
  else
    r = co_await send_tls(ex, e, t, req, where);
  core::wipe(req.body());
  co_return r;
}

Reply send_blocking(const Endpoint& endpoint, Request request, std::chrono::milliseconds timeout) {
  net::io_context ioc;
  Reply reply;
  net::co_spawn(ioc, send(ioc.get_executor(), endpoint, std::move(request), clock::now() + timeout),
                [&](std::exception_ptr e, Reply r) {
                  if (e) std::rethrow_exception(e);
                  reply = std::move(r);
                });
  ioc.run();
  return reply;
}

Endpoint local_endpoint(const std::string& host, std::uint16_t port) {
  Endpoint e;
  e.scheme = Endpoint::Scheme::http;
  e.host = host;
  e.port = port;
  e.user_agent = std::string("vault-proxy-cli/") + vp::version;
  return e;
}

}  // namespace vp::net_http
