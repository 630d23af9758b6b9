#include "net/connector.hpp"

#include "net/tls.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/experimental/awaitable_operators.hpp>

namespace vp::net_connect {

using net::as_tuple;
using net::use_awaitable;

clock::time_point Target::step_deadline(clock::duration cap) const {
  auto now = clock::now();
  return deadline - now <= cap ? deadline : now + cap;
}

Target upstream_target(const config::Config& cfg) {
  Target t;
  t.host = cfg.upstream.host;
  t.dial_host = cfg.connect_to ? cfg.connect_to->host : cfg.upstream.host;
  t.dial_port = cfg.connect_to ? cfg.connect_to->port : cfg.upstream.port;
  t.connect_timeout = cfg.timeouts.connect;
  t.handshake_timeout = cfg.timeouts.tls_handshake;
  return t;
}

net::awaitable<std::optional<tcp::resolver::results_type>> resolve(const net::any_io_executor& ex,
                                                                   const std::string& host, std::uint16_t port,
                                                                   clock::time_point deadline, Report& report) {
  using namespace net::experimental::awaitable_operators;
  tcp::resolver resolver(ex);
  net::steady_timer timer(ex);
  timer.expires_at(deadline);
  auto raced = co_await (resolver.async_resolve(host, std::to_string(port), as_tuple(use_awaitable)) ||
                         timer.async_wait(as_tuple(use_awaitable)));
  if (raced.index() == 1) {
    report.failed = Step::resolve;
    report.timed_out = true;
    co_return std::nullopt;
  }
  auto [ec, endpoints] = std::get<0>(std::move(raced));
  if (ec) {
    report.failed = Step::resolve;
    report.reason = ec.message();
    co_return std::nullopt;
  }
  for (const auto& e : endpoints) report.addresses.push_back(e.endpoint().address().to_string());
  co_return endpoints;
}

net::awaitable<Report> connect_tcp(beast::tcp_stream& stream, const std::string& host, std::uint16_t port,
                                   clock::time_point deadline) {
  Report r;
  auto endpoints = co_await resolve(stream.get_executor(), host, port, deadline, r);
  if (!endpoints) co_return r;
  stream.expires_at(deadline);
  auto [ec, ep] = co_await stream.async_connect(*endpoints, as_tuple(use_awaitable));
  if (ec) {
    r.failed = Step::connect;
    r.timed_out = ec == beast::error::timeout;
    if (!r.timed_out) r.reason = ec.message();
    co_return r;
  }
  r.connected_to = ep;
  co_return r;
}

net::awaitable<Report> connect(net_tls::TlsStream& stream, const Target& t) {
  Report r;
  auto endpoints = co_await resolve(stream.get_executor(), t.dial_host, t.dial_port,
                                    t.step_deadline(t.connect_timeout), r);
  if (!endpoints) co_return r;

  stream.expires_at(t.step_deadline(t.connect_timeout));
  auto [cec, ep] = co_await net::async_connect(stream.socket(), *endpoints, as_tuple(use_awaitable));
  if (cec) {
    r.failed = Step::connect;
    r.timed_out = stream.timeout_or(cec) == beast::error::timeout;
    if (!r.timed_out) r.reason = cec.message();
    co_return r;
  }
  r.connected_to = ep;
  error_code sec;
  stream.socket().set_option(tcp::no_delay(true), sec);
  if (!sec) stream.attach(sec);
  if (sec) {
    r.failed = Step::connect;
    r.reason = sec.message();
    co_return r;
  }

  if (!net_tls::prepare_client(stream.native_handle(), t.host, r.reason)) {
    r.failed = Step::tls_setup;
    co_return r;
  }
  stream.expires_at(t.step_deadline(t.handshake_timeout));
  auto [hec] = co_await stream.async_handshake(as_tuple(use_awaitable));
  if (hec) {
    r.failed = Step::handshake;
    r.timed_out = hec == beast::error::timeout;
    if (!r.timed_out) {
      r.reason = net_tls::describe_failure(hec, stream.native_handle());
      r.verify_result = SSL_get_verify_result(stream.native_handle());
    }
    co_return r;
  }
  net_tls::note_handshake(stream.native_handle());
  stream.expires_never();
  co_return r;
}

}  // namespace vp::net_connect
