#include "cli/doctor_gather.hpp"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/authority.hpp"
#include "net/connector.hpp"
#include "net/port_owner.hpp"
#include "net/tls.hpp"

namespace vp::cli::doctor {

namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

/// 200 with {"status":"ok"}: what only vault-proxy answers to /__vault-proxy/health.
bool says_healthy(const infisical::Reply& r, const json& body) {
  return r.ok() && r.status == 200 && body.is_object() && body.value("status", "") == "ok";
}

std::optional<ProxyStatus> decode_status(const infisical::Reply& r) {
  auto j = json::parse(r.body, nullptr, false);
  if (!r.ok() || r.status != 200 || !j.is_object()) return std::nullopt;
  ProxyStatus s{j.value("pid", 0), j.value("version", "?"), j.value("uptime_s", 0), std::nullopt};
  if (auto cr = j.find("credentials"); cr != j.end() && cr->is_object())
    s.credentials =
        ProxyCredentials{cr->value("loaded", false), cr->value("source", "?"), cr->value("fingerprint", "")};
  return s;
}

void decode_ready(const infisical::Reply& r, HealthObservation& o) {
  auto j = json::parse(r.body, nullptr, false);
  o.ready = observe(r);
  o.is_ready = r.ok() && r.status == 200 && j.is_object() && j.value("ready", false);
  if (!j.is_object()) return;
  if (auto us = j.find("upstream_status"); us != j.end() && us->is_number()) o.upstream_status = us->get<int>();
  if (auto reason = j.find("reason"); reason != j.end() && reason->is_string())
    o.ready_reason = reason->get<std::string>();
}

std::string asn1_time_utc(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return "?";
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02} UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min);
}

std::string x509_name(X509_NAME* name) {
  char buf[256];
  X509_NAME_oneline(name, buf, sizeof buf);
  return buf;
}

std::optional<Certificate> read_leaf(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return std::nullopt;
  Certificate c;
  int secs_left = 0;
  ASN1_TIME_diff(&c.days_left, &secs_left, nullptr, X509_get0_notAfter(cert));
  c.expires = asn1_time_utc(X509_get0_notAfter(cert));
  c.tls_version = SSL_get_version(ssl);
  c.subject = x509_name(X509_get_subject_name(cert));
  c.issuer = x509_name(X509_get_issuer_name(cert));
  return c;
}

/// Records what the connector reached in doctor's terms.
void record(const net_connect::Report& r, UpstreamObservation& o) {
  using net_connect::Step;
  o.addresses = r.addresses;
  if (r.connected_to) o.connected_to = core::host_port(r.connected_to->address().to_string(), r.connected_to->port());
  o.error = r.reason;
  switch (r.failed) {
    case Step::resolve:
      o.reached = r.timed_out ? TlsDial::resolve_timed_out : TlsDial::resolve_failed;
      break;
    case Step::connect:
      o.reached = TlsDial::connect_failed;
      if (r.timed_out) o.error = "timed out";
      break;
    case Step::tls_setup:
      o.reached = TlsDial::not_prepared;
      break;
    case Step::handshake:
      o.reached = r.timed_out ? TlsDial::handshake_timed_out : TlsDial::handshake_failed;
      o.verify_result = r.verify_result;
      break;
    case Step::done:
      o.reached = TlsDial::verified;
      break;
  }
}

net::awaitable<ReadObservation> gather_read(Session& s, const std::string& path) {
  const auto& plan = s.in.reads;
  const infisical::SecretQuery q{*plan.project_id, *plan.environment, path, *plan.key};
  auto reply = co_await s.proxy_client().get_secret(*s.access_token, q, s.bound(10s));
  ReadObservation o{q.key,       q.environment, q.secret_path,      observe(reply.reply),
                    reply.found, std::nullopt,  s.in.cfg.user_agent};
  if (reply.value) {
    o.value_length = reply.value->size();
    s.seen.push_back(std::move(*reply.value));
  }
  co_return o;
}

}  // namespace

Session::Session(const Inputs& inputs, net::any_io_executor executor)
    : in(inputs),
      ex(std::move(executor)),
      deadline(std::chrono::steady_clock::now() + inputs.budget),
      proxy_host(proxy_dial_host(inputs.cfg)) {
  if (inputs.credentials.token) token = std::make_shared<const core::ServiceToken>(*inputs.credentials.token);
}

std::chrono::steady_clock::time_point Session::bound(std::chrono::steady_clock::duration cap) const {
  return std::min(deadline, std::chrono::steady_clock::now() + cap);
}

bool Session::budget_spent() const { return std::chrono::steady_clock::now() >= deadline; }

infisical::Client Session::proxy_client() const {
  infisical::Endpoint e;
  e.scheme = infisical::Endpoint::Scheme::http;
  e.host = proxy_host;
  e.port = in.cfg.port;
  return infisical::Client(ex, std::move(e));
}

infisical::Client Session::direct_client(std::shared_ptr<const core::ServiceToken> service_token) const {
  infisical::Endpoint e;
  e.scheme = infisical::Endpoint::Scheme::https;
  e.host = in.cfg.upstream.host;
  e.port = in.cfg.upstream.port;
  e.dial = in.cfg.connect_to;
  e.tls = tls;
  e.user_agent = in.cfg.user_agent;
  e.service_token = std::move(service_token);
  return infisical::Client(ex, std::move(e));
}

Answer observe(const infisical::Reply& r) {
  Answer a;
  a.answered = r.ok();
  a.error = r.error;
  a.status = r.status;
  a.content_type = r.header("Content-Type");
  a.location = r.header("Location");
  a.cf_mitigated = r.header("cf-mitigated");
  a.proxy_error = r.header("X-Vault-Proxy-Error");
  a.proxy_diagnosis = r.header("X-Vault-Proxy-Diagnosis");
  if (r.ok()) a.diagnosis = r.diagnosis();
  if (auto e = infisical::api_error(r)) a.api_message = e->message;
  return a;
}

net::awaitable<ListenerObservation> gather_listener(Session& s) {
  ListenerObservation o;
  o.host = s.proxy_host;
  o.port = s.in.cfg.port;
  beast::tcp_stream stream(s.ex);
  auto dialed = co_await net_connect::connect_tcp(stream, o.host, o.port, s.bound(2s));
  if (!dialed.ok()) {
    bool resolving = dialed.failed == net_connect::Step::resolve;
    o.dial = resolving ? Dial::resolve_failed : dialed.timed_out ? Dial::connect_timed_out : Dial::connect_failed;
    o.error = dialed.timed_out ? std::string("timed out") : dialed.reason;
    co_return o;
  }
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.close();
  o.owner = net_util::port_owner(o.port);
  if (owner_process_name(o.owner) == "vault-proxy") co_return o;
  auto r = co_await s.proxy_client().send(infisical::Request::get("/__vault-proxy/health"), s.bound(2s));
  o.health = observe(r);
  o.health_ok = says_healthy(r, json::parse(r.body, nullptr, false));
  co_return o;
}

net::awaitable<HealthObservation> gather_health(Session& s) {
  HealthObservation o;
  if (s.token) o.local_fingerprint = s.token->fingerprint();
  auto client = s.proxy_client();
  auto health = co_await client.send(infisical::Request::get("/__vault-proxy/health"), s.bound(3s));
  auto hj = json::parse(health.body, nullptr, false);
  o.health = observe(health);
  o.healthy = says_healthy(health, hj);
  if (!o.healthy) co_return o;
  if (auto v = hj.find("version"); v != hj.end() && v->is_string()) o.health_version = v->get<std::string>();
  auto status = co_await client.send(infisical::Request::get("/__vault-proxy/status"), s.bound(3s));
  o.status = decode_status(status);
  auto ready = co_await client.send(infisical::Request::get("/__vault-proxy/ready"), s.bound(10s));
  decode_ready(ready, o);
  co_return o;
}

net::awaitable<UpstreamObservation> gather_upstream(Session& s) {
  const config::Config& cfg = s.in.cfg;
  UpstreamObservation o;
  o.host = cfg.upstream.host;
  o.via_connect_to = cfg.connect_to.has_value();
  o.dial_host = cfg.connect_to ? cfg.connect_to->host : o.host;
  o.dial_port = cfg.connect_to ? cfg.connect_to->port : cfg.upstream.port;
  o.warn_days = s.in.cert_warn_days;
  error_code not_ip;
  net::ip::make_address(o.host, not_ip);
  o.sni_sent = static_cast<bool>(not_ip);
  try {
    s.tls = net_tls::make_client_context(cfg.ca_file);
  } catch (const std::exception& e) {
    o.reached = TlsDial::no_tls_context;
    o.error = e.what();
    co_return o;
  }
  auto target = net_connect::upstream_target(cfg);
  target.deadline = s.deadline;
  net_tls::TlsStream stream(s.ex, *s.tls);
  record(co_await net_connect::connect(stream, target), o);
  if (o.reached == TlsDial::verified) o.leaf = read_leaf(stream.native_handle());
  co_return o;
}

net::awaitable<AccessObservation> gather_access(Session& s) {
  AccessObservation o;
  o.user_agent = s.in.cfg.user_agent;
  if (s.token) {
    auto with = co_await s.direct_client(s.token).send(infisical::Request::get("/api/status"), s.bound(10s));
    o.with_token = observe(with);
  }
  auto without = co_await s.direct_client(nullptr).send(infisical::Request::get("/api/status"), s.bound(10s));
  o.without_token = observe(without);
  co_return o;
}

net::awaitable<InfisicalObservation> gather_infisical(Session& s) {
  auto status = co_await s.proxy_client().status(s.bound(10s));
  co_return InfisicalObservation{observe(status.reply), status.ok, s.in.cfg.user_agent};
}

net::awaitable<LoginObservation> gather_login(Session& s) {
  auto login = co_await s.proxy_client().login(*s.in.identity_client_id, *s.in.identity_client_secret, s.bound(10s));
  LoginObservation o{observe(login.reply), std::nullopt, login.expires_in, login.locked, s.in.cfg.user_agent};
  if (login.access_token) {
    o.token_length = login.access_token->size();
    s.access_token = std::move(login.access_token);
  }
  co_return o;
}

net::awaitable<ReadObservation> gather_read_in_scope(Session& s) {
  co_return co_await gather_read(s, *s.in.reads.in_scope_path);
}

net::awaitable<ReadObservation> gather_read_out_of_scope(Session& s) {
  co_return co_await gather_read(s, *s.in.reads.out_of_scope_path);
}

net::awaitable<std::optional<bool>> revoke_access_token(Session& s) {
  if (!s.access_token) co_return std::nullopt;
  co_return co_await s.proxy_client().revoke(*s.access_token, s.bound(5s));
}

std::optional<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace vp::cli::doctor
