#include "cli/doctor_checks.hpp"

#include "cli/doctor_runbook.hpp"
#include "core/authority.hpp"
#include "core/diagnosis.hpp"
#include "core/redact.hpp"
#include "infisical/client.hpp"
#include "net/port_owner.hpp"
#include "net/tls.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <vault_proxy/version.hpp>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <sstream>

namespace vp::cli::doctor {
namespace {

using namespace std::chrono_literals;
using net::as_tuple;
using net::use_awaitable;
using clock = std::chrono::steady_clock;
using json = nlohmann::json;
using infisical::Reply;
using namespace runbook;

// ---- Small helpers.

std::string secs(std::chrono::milliseconds ms) {
  if (ms.count() % 1000 == 0) return fmt::format("{} s", ms.count() / 1000);
  return fmt::format("{:.1f} s", static_cast<double>(ms.count()) / 1000.0);
}

using core::host_port;
using core::is_loopback_name;

std::optional<core::Diagnosis> diagnosis_from_name(std::string_view name) {
  if (name.empty()) return std::nullopt;
  for (int i = 0; i <= static_cast<int>(core::Diagnosis::upstream_server_error); ++i) {
    auto d = static_cast<core::Diagnosis>(i);
    if (core::diagnosis_name(d) == name) return d;
  }
  return std::nullopt;
}

/// "403 text/html → cf_access_forbidden", with the Location of a redirect, for details.
std::string describe(const Reply& r) {
  if (!r.ok()) return "no answer (" + r.error + ")";
  std::string s = std::to_string(r.status);
  if (auto ct = r.header("Content-Type"); !ct.empty()) s += " " + one_line(ct, 60);
  if (auto name = r.header("X-Vault-Proxy-Diagnosis"); !name.empty()) {
    s += " → " + one_line(name, 60);
  } else if (auto d = r.diagnosis(); d != core::Diagnosis::none) {
    s += " → " + std::string(core::diagnosis_name(d));
  }
  if (r.status >= 300 && r.status < 400)
    if (auto loc = r.header("Location"); !loc.empty()) s += ", Location: " + one_line(loc, 160);
  if (auto m = r.header("cf-mitigated"); !m.empty()) s += ", cf-mitigated: " + one_line(m, 40);
  if (auto e = infisical::api_error(r); e && !e->message.empty()) s += ", message: \"" + one_line(e->message) + "\"";
  return s;
}

/// How an Access rejection looked, for messages.
std::string access_rejection_shape(const Reply& r) {
  if (r.status >= 300 && r.status < 400) return "it redirected to the Access login page";
  if (r.status == 401) return "it answered 401";
  return "it answered " + std::to_string(r.status) + " with the Access deny page";
}

/// The proxy's view of an answer it relayed: its own error code or the class it put in
/// X-Vault-Proxy-Diagnosis (the body of a replaced Cloudflare page no longer classifies).
struct ProxyView {
  std::string error_code;
  core::Diagnosis diagnosis = core::Diagnosis::none;
  std::string message;
};

ProxyView view_via_proxy(const Reply& r) {
  ProxyView v;
  v.error_code = r.header("X-Vault-Proxy-Error");
  if (auto d = diagnosis_from_name(r.header("X-Vault-Proxy-Diagnosis"))) {
    v.diagnosis = *d;
  } else if (v.error_code.empty()) {
    v.diagnosis = r.diagnosis();
  }
  if (auto e = infisical::api_error(r)) v.message = e->message;
  return v;
}

/// Fills a failed check for answers through the proxy that are not the caller's own business
/// (transport, proxy errors, Cloudflare, 5xx). Returns false when the caller must interpret it.
bool explain_proxy_failure(CheckResult& c, const Reply& r, std::string_view what,
                           std::string_view user_agent) {
  c.status = Status::fail;
  if (!r.ok()) {
    c.message = fmt::format("{}: no answer from the proxy", what);
    c.detail = r.error;
    c.fix = std::string(fix_start_proxy);
    return true;
  }
  auto v = view_via_proxy(r);
  c.detail = fmt::format("{} → {}", what, describe(r));
  if (v.error_code == "credentials_missing") {
    c.message = "the proxy has no Cloudflare Access service token loaded (503 credentials_missing)";
    c.fix = fix_restart_with_token;
    return true;
  }
  if (v.error_code.starts_with("upstream_")) {
    c.message = fmt::format("the proxy is running but cannot reach the vault ({} {})", r.status, v.error_code);
    c.fix = std::string(fix_symptom_6);
    return true;
  }
  if (!v.error_code.empty()) {
    c.message = fmt::format("the proxy refused the request ({} {}): {}", r.status, v.error_code, one_line(v.message));
    c.fix = "Check the proxy's log for this request; the message above says what it refused.";
    return true;
  }
  switch (v.diagnosis) {
    case core::Diagnosis::cf_access_unauthenticated:
    case core::Diagnosis::cf_access_forbidden:
      c.message = fmt::format("Cloudflare Access rejected the proxy's service token ({} {})", r.status,
                              core::diagnosis_name(v.diagnosis));
      c.fix = std::string(fix_mode_b);
      return true;
    case core::Diagnosis::cf_edge_block:
      c.message = fmt::format("Cloudflare's edge blocked the proxy's request ({} cf_edge_block)", r.status);
      c.fix = fix_edge(user_agent);
      return true;
    case core::Diagnosis::cf_challenge:
      c.message = fmt::format("Cloudflare challenged the proxy's request ({} cf_challenge)", r.status);
      c.fix = fix_challenge();
      return true;
    case core::Diagnosis::upstream_server_error:
      c.message = fmt::format("the vault answered {} through the proxy", r.status);
      c.fix = std::string(fix_symptom_6);
      return true;
    default:
      return false;
  }
}

std::string asn1_time_utc(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return "?";
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02} UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min);
}

std::string x509_name(X509_NAME* name) {
  char buf[256];
  X509_NAME_oneline(name, buf, sizeof buf);
  return buf;
}

/// The fix for a failed TLS handshake, by OpenSSL's verification result.
std::string tls_fix(long verify, const config::Config& cfg) {
  switch (verify) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return fmt::format(
          "The certificate of {} has expired: the operator must renew it (vault-proxy will answer 502 "
          "upstream_tls until then). Never turn certificate verification off.",
          cfg.upstream.host);
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "The certificate is not valid yet: check this machine's clock (timedatectl), then the "
             "certificate's dates.";
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return fmt::format(
          "The server's certificate is not for {}: check VAULT_PROXY_UPSTREAM, and that "
          "VAULT_PROXY_CONNECT_TO (if set) reaches the same server.",
          cfg.upstream.host);
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return "The certificate chain is not trusted. If the vault uses a private CA, set "
             "VAULT_PROXY_CA_FILE to its PEM bundle; otherwise something on this network intercepts "
             "TLS. Never turn certificate verification off.";
    default:
      return "Check VAULT_PROXY_UPSTREAM, VAULT_PROXY_CONNECT_TO and VAULT_PROXY_CA_FILE, and whether "
             "something on the network path intercepts TLS.";
  }
}

/// Runs the checks in order on one io_context, sharing what earlier checks learnt.
class Runner {
 public:
  Runner(const Inputs& in, net::io_context& ioc)
      : in_(in),
        cfg_(in.cfg),
        ex_(ioc.get_executor()),
        start_(clock::now()),
        deadline_(start_ + in.budget),
        proxy_host_(proxy_dial_host(in.cfg)) {
    if (in.credentials.token) token_ = std::make_shared<const ServiceToken>(*in.credentials.token);
  }

  net::awaitable<void> run() {
    co_await step("listener", &Runner::check_listener);
    co_await step("health", &Runner::check_health);
    co_await step("upstream", &Runner::check_upstream);
    co_await step("access", &Runner::check_access);
    co_await step("infisical", &Runner::check_infisical);
    co_await step("identity-login", &Runner::check_login);
    co_await step("secret-read", &Runner::check_read_in_scope);
    if (in_.reads.out_of_scope_path) co_await step("secret-scope", &Runner::check_read_out_of_scope);
    if (access_token_) {
      // Hygiene: the token doctor obtained is of no further use; do not leave it valid for its TTL.
      bool revoked = co_await proxy_client().revoke(*access_token_, bound(5s));
      if (login_index_ < results_.size())
        results_[login_index_].detail += revoked ? "; the access token was revoked afterwards"
                                                 : "; revoking the access token afterwards failed";
    }
    results_.push_back(evaluate_mcp_json(in_.mcp_json, read_file(in_.mcp_json.path), proxy_host_, cfg_.port,
                                         in_.env));
    scrub();
  }

  std::vector<CheckResult> take_results() { return std::move(results_); }

 private:
  using CheckFn = net::awaitable<void> (Runner::*)(CheckResult&);

  /// Runs one check unless the budget is gone; a check may leave itself `skip`.
  net::awaitable<void> step(const char* name, CheckFn fn) {
    CheckResult c;
    c.name = name;
    if (clock::now() >= deadline_) {
      // Not a skip: a diagnosis that could not finish must not end in "OK" (exit 0).
      c.status = Status::fail;
      c.message = fmt::format("not run: the overall time budget (--timeout {}) ran out before this check",
                              secs(in_.budget));
      c.fix = "Re-run with a larger --timeout; the checks above show where the time went.";
    } else {
      co_await (this->*fn)(c);
    }
    results_.push_back(std::move(c));
  }

  /// A deadline for one network step: `cap` from now, never past the overall budget.
  clock::time_point bound(clock::duration cap) const { return std::min(deadline_, clock::now() + cap); }

  bool budget_spent() const { return clock::now() >= deadline_; }

  static void skip(CheckResult& c, std::string why) {
    c.status = Status::skip;
    c.message = std::move(why);
  }

  infisical::Client proxy_client() const {
    infisical::Endpoint e;
    e.scheme = infisical::Endpoint::Scheme::http;
    e.host = proxy_host_;
    e.port = cfg_.port;
    return infisical::Client(ex_, std::move(e));
  }

  infisical::Client direct_client(std::shared_ptr<const ServiceToken> token) const {
    infisical::Endpoint e;
    e.scheme = infisical::Endpoint::Scheme::https;
    e.host = cfg_.upstream.host;
    e.port = cfg_.upstream.port;
    e.dial = cfg_.connect_to;
    e.tls = tls_;
    e.user_agent = cfg_.user_agent;
    e.service_token = std::move(token);
    return infisical::Client(ex_, std::move(e));
  }

  std::string proxy_address() const { return host_port(proxy_host_, cfg_.port); }

  // ---- 1. listener

  net::awaitable<void> check_listener(CheckResult& c) {
    if (cfg_.port == 0) {
      c.status = Status::fail;
      c.message = "the configured port is 0 (ephemeral), so doctor cannot know where the proxy listens";
      c.fix = "Pass --port (or VAULT_PROXY_PORT) with the port from the proxy's 'listening on' line.";
      co_return;
    }
    tcp::resolver resolver(ex_);
    auto [rec, endpoints] = co_await resolver.async_resolve(proxy_host_, std::to_string(cfg_.port),
                                                            as_tuple(use_awaitable));
    if (rec) {
      c.status = Status::fail;
      c.message = fmt::format("cannot resolve the listen address '{}': {}", proxy_host_, rec.message());
      c.fix = "Check VAULT_PROXY_LISTEN / --listen.";
      co_return;
    }
    beast::tcp_stream stream(ex_);
    stream.expires_at(bound(2s));
    auto [cec, ep] = co_await stream.async_connect(endpoints, as_tuple(use_awaitable));
    if (cec) {
      c.status = Status::fail;
      if (cec == beast::error::timeout) {
        c.message = fmt::format("connecting to {} timed out", proxy_address());
        c.detail = "something drops connections to this port (a firewall rule?) instead of refusing them";
      } else {
        c.message = fmt::format("nothing is listening on {} ({})", proxy_address(), cec.message());
        c.detail = "runbook symptom 1: connection refused";
      }
      c.fix = std::string(fix_start_proxy);
      co_return;
    }
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
    listening_ = true;

    auto owner = net_util::port_owner(cfg_.port);
    std::string owner_name;
    if (owner) {
      auto open = owner->find('(');
      auto close = owner->rfind(')');
      if (open != std::string::npos && close != std::string::npos && close > open)
        owner_name = owner->substr(open + 1, close - open - 1);
    }
    if (owner_name == "vault-proxy") {
      is_proxy_ = true;
      c.status = Status::pass;
      c.message = fmt::format("vault-proxy is listening on {}", proxy_address());
      c.detail = "owner: " + *owner;
      co_return;
    }
    // The owner is not visible (another user's process) or has another name (a renamed binary):
    // ask it. Only vault-proxy answers /__vault-proxy/health with {"status":"ok"}.
    auto r = co_await proxy_client().send(infisical::Request::get("/__vault-proxy/health"), bound(2s));
    auto j = json::parse(r.body, nullptr, false);
    if (r.ok() && r.status == 200 && j.is_object() && j.value("status", "") == "ok") {
      is_proxy_ = true;
      c.status = Status::pass;
      c.message = fmt::format("vault-proxy is listening on {}", proxy_address());
      c.detail = owner ? "owner: " + *owner + " (answers /__vault-proxy/health)"
                       : "the owning process is not visible to this user; it answers /__vault-proxy/health";
      co_return;
    }
    c.status = Status::fail;
    c.message = owner ? fmt::format("port {} is held by {}, not vault-proxy", cfg_.port, *owner)
                      : fmt::format("something other than vault-proxy listens on {}", proxy_address());
    c.detail = "GET /__vault-proxy/health → " + describe(r);
    if (cfg_.port == 2019) c.detail += "\n2019 is also the default port of Caddy's admin API.";
    c.fix = fmt::format(
        "Port collision (runbook failure mode A): stop that process, or pick another port for the "
        "proxy (VAULT_PROXY_PORT=<free port> vault-proxy serve) and regenerate .mcp.json with "
        "vault-proxy mcp-config so that the MCP server follows it.");
  }

  // ---- 2. health

  net::awaitable<void> check_health(CheckResult& c) {
    if (!is_proxy_) co_return skip(c, "skipped: vault-proxy is not listening (see listener)");
    auto client = proxy_client();
    auto health = co_await client.send(infisical::Request::get("/__vault-proxy/health"), bound(3s));
    auto hj = json::parse(health.body, nullptr, false);
    if (!health.ok() || health.status != 200 || !hj.is_object() || hj.value("status", "") != "ok") {
      c.status = Status::fail;
      c.message = "GET /__vault-proxy/health did not answer 200 {\"status\":\"ok\"}";
      c.detail = describe(health);
      c.fix = "Restart the proxy (vault-proxy stop; vault-proxy serve) and look at its log.";
      co_return;
    }
    std::vector<std::string> details;
    auto status = co_await client.send(infisical::Request::get("/__vault-proxy/status"), bound(3s));
    auto sj = json::parse(status.body, nullptr, false);
    std::optional<std::string> proxy_fingerprint;
    bool proxy_has_token = true;
    if (status.ok() && status.status == 200 && sj.is_object()) {
      std::string line = fmt::format("pid {}, version {}, uptime {} s", sj.value("pid", 0),
                                     sj.value("version", "?"), sj.value("uptime_s", 0));
      if (auto cr = sj.find("credentials"); cr != sj.end() && cr->is_object()) {
        proxy_has_token = cr->value("loaded", false);
        if (proxy_has_token) {
          proxy_fingerprint = cr->value("fingerprint", "");
          line += fmt::format(", service token from {} (fingerprint {})", cr->value("source", "?"),
                              *proxy_fingerprint);
        } else {
          line += ", no service token loaded";
        }
      }
      details.push_back(line);
    } else {
      details.push_back("version " + hj.value("version", std::string("?")));
    }

    auto ready = co_await client.send(infisical::Request::get("/__vault-proxy/ready"), bound(10s));
    auto rj = json::parse(ready.body, nullptr, false);
    const bool is_ready = ready.ok() && ready.status == 200 && rj.is_object() && rj.value("ready", false);
    std::string ready_line = "ready → " + (ready.ok() ? std::to_string(ready.status) : "no answer (" + ready.error + ")");
    if (rj.is_object()) {
      if (auto us = rj.find("upstream_status"); us != rj.end() && us->is_number())
        ready_line += fmt::format(", upstream_status {}", us->get<int>());
      if (auto reason = rj.find("reason"); reason != rj.end() && reason->is_string())
        ready_line += ", reason: " + one_line(reason->get<std::string>(), 300);
    }
    details.push_back(ready_line);
    for (auto& d : details) c.detail += (c.detail.empty() ? "" : "\n") + d;

    if (!proxy_has_token) {
      c.status = Status::fail;
      c.message = "the proxy runs without a Cloudflare Access service token (every request gets 503)";
      c.fix = fix_restart_with_token;
      co_return;
    }
    if (token_ && proxy_fingerprint && !proxy_fingerprint->empty() && *proxy_fingerprint != token_->fingerprint()) {
      c.status = Status::warn;
      c.message = "the proxy runs with a different service token than the one in this environment";
      c.detail += fmt::format("\nthis environment's token: fingerprint {}", token_->fingerprint());
      c.fix = "If the token was rotated, restart the proxy with the new one (vault-proxy stop; "
              "vault-proxy serve). Otherwise doctor's access check tests another token than the proxy uses.";
      co_return;
    }
    if (!is_ready) {
      c.status = Status::warn;
      c.message = "the proxy is up but not ready: its probe of the vault did not get 200";
      c.fix = "The upstream, access and infisical checks below name the cause.";
      co_return;
    }
    c.status = Status::pass;
    c.message = "the proxy is up and ready (its probe of the vault got 200)";
  }

  // ---- 3. upstream transport

  net::awaitable<void> check_upstream(CheckResult& c) {
    using namespace net::experimental::awaitable_operators;
    try {
      tls_ = net_tls::make_client_context(cfg_.ca_file);
    } catch (const std::exception& e) {
      c.status = Status::fail;
      c.message = "cannot set up TLS";
      c.detail = e.what();
      c.fix = "Fix VAULT_PROXY_CA_FILE (a readable PEM bundle), or unset it to use the system store.";
      co_return;
    }
    const std::string& host = cfg_.upstream.host;
    const std::string dial_host = cfg_.connect_to ? cfg_.connect_to->host : host;
    const std::uint16_t dial_port = cfg_.connect_to ? cfg_.connect_to->port : cfg_.upstream.port;
    const std::string where = host_port(dial_host, dial_port);
    std::vector<std::string> lines;

    tcp::resolver resolver(ex_);
    net::steady_timer timer(ex_);
    timer.expires_at(bound(cfg_.timeouts.connect));
    auto raced = co_await (
        resolver.async_resolve(dial_host, std::to_string(dial_port), as_tuple(use_awaitable)) ||
        timer.async_wait(as_tuple(use_awaitable)));
    if (raced.index() == 1) {
      c.status = Status::fail;
      c.message = fmt::format("resolving {} timed out", dial_host);
      c.fix = "Check DNS on this machine. " + std::string(fix_symptom_6);
      co_return;
    }
    auto [rec, endpoints] = std::get<0>(std::move(raced));
    if (rec) {
      c.status = Status::fail;
      c.message = fmt::format("cannot resolve {}: {}", dial_host, rec.message());
      c.fix = "Check DNS and the network on this machine" +
              std::string(cfg_.connect_to ? " and VAULT_PROXY_CONNECT_TO." : ".") + " " +
              std::string(fix_symptom_6);
      co_return;
    }
    std::string addresses;
    for (const auto& e : endpoints) {
      if (!addresses.empty()) addresses += ", ";
      addresses += e.endpoint().address().to_string();
    }
    lines.push_back(cfg_.connect_to
                        ? fmt::format("dns: dialing {} instead of {} (VAULT_PROXY_CONNECT_TO) → {}", where, host, addresses)
                        : fmt::format("dns: {} → {}", host, addresses));

    ssl::stream<beast::tcp_stream> stream(ex_, *tls_);
    auto& tcp_layer = stream.next_layer();
    tcp_layer.expires_at(bound(cfg_.timeouts.connect));
    auto [cec, ep] = co_await tcp_layer.async_connect(endpoints, as_tuple(use_awaitable));
    if (cec) {
      c.status = Status::fail;
      c.message = fmt::format("cannot connect to {}: {}", where,
                              cec == beast::error::timeout ? std::string("timed out") : cec.message());
      c.detail = lines.front();
      c.fix = std::string(fix_symptom_6);
      co_return;
    }
    lines.push_back(fmt::format("tcp: connected to {}", host_port(ep.address().to_string(), ep.port())));

    std::string why;
    if (!net_tls::prepare_client(stream.native_handle(), host, why)) {
      c.status = Status::fail;
      c.message = "cannot set up the TLS handshake: " + why;
      co_return;
    }
    tcp_layer.expires_at(bound(cfg_.timeouts.tls_handshake));
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, as_tuple(use_awaitable));
    if (hec) {
      c.status = Status::fail;
      if (hec == beast::error::timeout) {
        c.message = fmt::format("the TLS handshake with {} timed out", where);
        c.fix = std::string(fix_symptom_6);
      } else {
        c.message = fmt::format("TLS with {} failed: {}", host, net_tls::describe_failure(hec, stream.native_handle()));
        c.fix = tls_fix(SSL_get_verify_result(stream.native_handle()), cfg_);
      }
      for (auto& l : lines) c.detail += (c.detail.empty() ? "" : "\n") + l;
      co_return;
    }
    net_tls::note_handshake(stream.native_handle());
    transport_ok_ = true;
    SSL* ssl = stream.native_handle();
    X509* cert = SSL_get0_peer_certificate(ssl);
    int days = 0;
    int secs_left = 0;
    std::string expires = "?";
    if (cert != nullptr) {
      ASN1_TIME_diff(&days, &secs_left, nullptr, X509_get0_notAfter(cert));
      expires = asn1_time_utc(X509_get0_notAfter(cert));
      error_code not_ip;
      net::ip::make_address(host, not_ip);
      lines.push_back(fmt::format("tls: {}, chain and name verified for {}{}; subject {}; issuer {}; expires {}",
                                  SSL_get_version(ssl), host, not_ip ? " (SNI sent)" : " (IP address check)",
                                  x509_name(X509_get_subject_name(cert)),
                                  x509_name(X509_get_issuer_name(cert)), expires));
    }
    tcp_layer.close();
    for (auto& l : lines) c.detail += (c.detail.empty() ? "" : "\n") + l;
    if (days < in_.cert_warn_days) {
      c.status = Status::warn;
      c.message = fmt::format("TLS to {} is fine, but its certificate expires in {} day{} ({})", host, days,
                              days == 1 ? "" : "s", expires);
      c.fix = fmt::format("Renew the vault's certificate within {} days (tell the operator); once it "
                          "expires, vault-proxy answers 502 upstream_tls.", days);
      co_return;
    }
    c.status = Status::pass;
    c.message = fmt::format("DNS, TCP and TLS to {} are fine; the certificate is valid for {} more days",
                            host, days);
  }

  // ---- 4. Cloudflare Access, straight to the vault

  net::awaitable<void> check_access(CheckResult& c) {
    if (!transport_ok_) co_return skip(c, "skipped: no verified TLS connection to the vault (see upstream)");
    if (!in_.credentials.issues.empty()) {
      c.status = Status::fail;
      c.message = "the service token in this environment cannot be read";
      c.detail = config::format_issues(in_.credentials.issues);
      c.fix = "Fix CF_ACCESS_CLIENT_ID / CF_ACCESS_CLIENT_SECRET (or their _FILE variants) as vault-proxy "
              "serve reports them. Runbook failure mode B.";
      co_return;
    }
    std::optional<Reply> with;
    if (token_) with = co_await direct_client(token_).send(infisical::Request::get("/api/status"), bound(10s));
    Reply without = co_await direct_client(nullptr).send(infisical::Request::get("/api/status"), bound(10s));
    const auto without_class = without.ok() ? without.diagnosis() : core::Diagnosis::none;
    const bool open_without = without.ok() && without.status == 200;
    if (with) c.detail = "with the service token: GET /api/status → " + describe(*with) + "\n";
    c.detail += "without a token: GET /api/status → " + describe(without);

    const std::string exposed_fix =
        "Put the vault behind a Cloudflare Access application with a Service Auth policy (tell the "
        "operator): right now anyone on the internet reaches Infisical's API directly.";
    if (!with) {
      c.status = Status::warn;
      if (open_without) {
        c.message = "Cloudflare Access is not in front of the vault (200 without a service token), and "
                    "no service token is set here to test";
        c.fix = exposed_fix;
      } else {
        c.message = "no service token in this environment, so Access could not be tested with it";
        c.fix = "Set CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET (or their _FILE variants) as for "
                "vault-proxy serve, and re-run doctor.";
      }
      co_return;
    }
    const Reply& w = *with;
    if (!w.ok()) {
      c.status = Status::fail;
      c.message = "the request with the service token got no answer";
      c.fix = std::string(fix_symptom_6);
      co_return;
    }
    const auto d = w.diagnosis();
    if (w.status == 200) {
      if (!without.ok()) {
        c.status = Status::warn;
        c.message = "Cloudflare Access accepts the service token, but the request without a token got no "
                    "answer, so doctor cannot tell whether Access is in front";
        c.fix = "Re-run doctor; if it persists, check the network path to the vault.";
      } else if (open_without) {
        c.status = Status::warn;
        c.message = "Cloudflare Access is not in front of the vault: /api/status answers 200 without a "
                    "service token";
        c.fix = exposed_fix;
      } else {
        c.status = Status::pass;
        c.message = fmt::format("Cloudflare Access accepts the service token and refuses requests without it{}",
                                without_class == core::Diagnosis::none
                                    ? std::string()
                                    : fmt::format(" ({})", core::diagnosis_name(without_class)));
      }
      co_return;
    }
    c.status = Status::fail;
    switch (d) {
      case core::Diagnosis::cf_access_unauthenticated:
      case core::Diagnosis::cf_access_forbidden:
        c.message = fmt::format("Cloudflare Access rejected the service token: {} ({})", access_rejection_shape(w),
                                core::diagnosis_name(d));
        c.fix = std::string(fix_mode_b);
        break;
      case core::Diagnosis::cf_edge_block:
        c.message = "Cloudflare's edge blocked the request before Access checked the token (cf_edge_block)";
        c.fix = fix_edge(cfg_.user_agent);
        break;
      case core::Diagnosis::cf_challenge:
        c.message = "Cloudflare answered with a browser challenge instead of the vault (cf_challenge)";
        c.fix = fix_challenge();
        break;
      case core::Diagnosis::upstream_server_error:
        c.message = fmt::format("Access let the token through, but the vault answered {}", w.status);
        c.fix = std::string(fix_symptom_6);
        break;
      default:
        c.message = fmt::format("unexpected answer to GET /api/status with the service token: {}{}", w.status,
                                d == core::Diagnosis::none ? "" : " " + std::string(core::diagnosis_name(d)));
        c.fix = "Check VAULT_PROXY_UPSTREAM: it must be the Infisical instance behind Cloudflare Access.";
        break;
    }
  }

  // ---- 5. Infisical through the proxy

  net::awaitable<void> check_infisical(CheckResult& c) {
    if (!is_proxy_) co_return skip(c, "skipped: vault-proxy is not listening (see listener)");
    auto s = co_await proxy_client().status(bound(10s));
    if (s.ok) {
      via_proxy_ok_ = true;
      c.status = Status::pass;
      c.message = "Infisical answers through the proxy: GET /api/status → 200 {\"message\":\"Ok\"}";
      co_return;
    }
    if (explain_proxy_failure(c, s.reply, "GET /api/status through the proxy", cfg_.user_agent)) co_return;
    c.status = Status::fail;
    if (s.reply.status == 200) {
      c.message = "GET /api/status answered 200 but not Infisical's {\"message\":\"Ok\"}";
      c.fix = "Check VAULT_PROXY_UPSTREAM: it must be the Infisical instance.";
    } else {
      c.message = fmt::format("GET /api/status through the proxy answered {}", s.reply.status);
      c.fix = "Check the proxy's log for this request and VAULT_PROXY_UPSTREAM.";
    }
  }

  // ---- 6. identity login

  net::awaitable<void> check_login(CheckResult& c) {
    login_index_ = results_.size();
    const bool have_id = in_.identity_client_id.has_value();
    const bool have_secret = in_.identity_client_secret.has_value();
    if (!have_id && !have_secret)
      co_return skip(c, fmt::format("skipped: {} and {} are not set, so no login was tried", in_.client_id_var,
                                    in_.client_secret_var));
    if (have_id != have_secret) {
      c.status = Status::warn;
      c.message = fmt::format("{} is set but {} is not, so no login was tried",
                              have_id ? in_.client_id_var : in_.client_secret_var,
                              have_id ? in_.client_secret_var : in_.client_id_var);
      c.fix = "Export both of the identity's variables (runbook Session start, step 3).";
      co_return;
    }
    if (!via_proxy_ok_)
      co_return skip(c, "skipped: the vault does not answer through the proxy (see infisical); no login was "
                        "tried, so nothing counts toward the identity's lockout");
    auto l = co_await proxy_client().login(*in_.identity_client_id, *in_.identity_client_secret, bound(10s));
    const std::string what = "POST /api/v1/auth/universal-auth/login through the proxy (one attempt)";
    if (l.access_token) {
      c.status = Status::pass;
      c.message = fmt::format("the identity logged in through the proxy (token present, len={})",
                              l.access_token->size());
      c.detail = fmt::format("{} → 200, expiresIn {} s", what, l.expires_in);
      access_token_ = std::move(l.access_token);
      co_return;
    }
    if (explain_proxy_failure(c, l.reply, what, cfg_.user_agent)) {
      c.fix += fix_not_retried;
      co_return;
    }
    c.status = Status::fail;
    c.detail = what + " → " + describe(l.reply);
    if (l.reply.status == 200) {
      c.message = "the login answered 200 without an accessToken (a login page, not Infisical?)";
      c.fix = std::string(fix_mode_b);
    } else if (l.locked) {
      c.message = "the identity is temporarily locked after repeated wrong client secrets (401)";
      c.fix = std::string(fix_locked);
    } else if (l.reply.status == 401 || view_via_proxy(l.reply).diagnosis == core::Diagnosis::origin_auth) {
      c.message = fmt::format("Infisical rejected the identity's credentials ({}) (failure mode C)", l.reply.status);
      c.fix = std::string(fix_mode_c);
    } else if (l.reply.status == 429) {
      c.message = "Infisical rate-limited the login (429)";
      c.fix = "Wait a minute and re-run doctor; something else is logging in very often.";
    } else {
      c.message = fmt::format("the login answered {}", l.reply.status);
      c.fix = "Check the proxy's log for this request." + std::string(fix_not_retried);
    }
  }

  // ---- 7. secret reads

  bool read_plan_complete() const {
    const auto& r = in_.reads;
    return r.project_id && r.environment && r.in_scope_path && r.key;
  }

  bool read_plan_empty() const {
    const auto& r = in_.reads;
    return !r.project_id && !r.environment && !r.in_scope_path && !r.key && !r.out_of_scope_path;
  }

  /// Common premises of both reads; false when `c` was filled with a skip/warn.
  bool reads_possible(CheckResult& c) const {
    if (read_plan_empty()) {
      skip(c, "skipped: pass --project-id, --environment, --in-scope-path and --key to test reads");
      return false;
    }
    if (!read_plan_complete()) {
      std::vector<std::string> missing;
      if (!in_.reads.project_id) missing.push_back("--project-id");
      if (!in_.reads.environment) missing.push_back("--environment");
      if (!in_.reads.in_scope_path) missing.push_back("--in-scope-path");
      if (!in_.reads.key) missing.push_back("--key");
      std::string list;
      for (auto& m : missing) list += (list.empty() ? "" : ", ") + m;
      c.status = Status::warn;
      c.message = "secret reads need " + list + " as well; no read was tried";
      c.fix = "Pass all of --project-id, --environment, --in-scope-path and --key.";
      return false;
    }
    if (!access_token_) {
      skip(c, "skipped: no access token (identity-login did not pass)");
      return false;
    }
    return true;
  }

  infisical::SecretQuery query(const std::string& path) const {
    return {*in_.reads.project_id, *in_.reads.environment, path, *in_.reads.key};
  }

  net::awaitable<void> check_read_in_scope(CheckResult& c) {
    if (!reads_possible(c)) co_return;
    const auto q = query(*in_.reads.in_scope_path);
    auto s = co_await proxy_client().get_secret(*access_token_, q, bound(10s));
    const std::string what = fmt::format("get-secret {} at {}:{} (in scope)", q.key, q.environment, q.secret_path);
    if (s.found) {
      c.status = Status::pass;
      c.message = fmt::format("{} is readable at {}:{} (value not shown, len={})", q.key, q.environment,
                              q.secret_path, s.value ? s.value->size() : 0);
      c.detail = what + " → 200";
      if (s.value) keep_for_scrub(std::move(*s.value));
      co_return;
    }
    if (explain_proxy_failure(c, s.reply, what, cfg_.user_agent)) co_return;
    const auto v = view_via_proxy(s.reply);
    c.status = Status::fail;
    c.detail = what + " → " + describe(s.reply);
    if (v.diagnosis == core::Diagnosis::origin_rbac) {
      c.message = fmt::format("Infisical denied the in-scope read of {} at {} ({}): RBAC regression (failure mode D)",
                              q.key, q.secret_path, s.reply.status);
      c.fix = std::string(fix_mode_d);
    } else if (v.diagnosis == core::Diagnosis::origin_auth) {
      c.message = fmt::format("Infisical refused the fresh access token ({})", s.reply.status);
      c.fix = std::string(fix_mode_c);
    } else if (s.reply.status == 404) {
      c.message = fmt::format("{} was not found at {}:{}", q.key, q.environment, q.secret_path);
      c.fix = "Pass a --key that exists at --in-scope-path in --environment (and the right --project-id).";
    } else {
      c.message = fmt::format("the in-scope read answered {}", s.reply.status);
      c.fix = "Check --project-id and --environment, and the proxy's log for this request.";
    }
  }

  net::awaitable<void> check_read_out_of_scope(CheckResult& c) {
    if (!reads_possible(c)) co_return;
    const auto q = query(*in_.reads.out_of_scope_path);
    auto s = co_await proxy_client().get_secret(*access_token_, q, bound(10s));
    const std::string what = fmt::format("get-secret {} at {}:{} (out of scope)", q.key, q.environment, q.secret_path);
    if (s.value) keep_for_scrub(std::move(*s.value));
    c.detail = what + " → " + describe(s.reply);
    if (s.found) {
      c.status = Status::warn;
      c.message = fmt::format("the identity can read {} at {}, outside its scope: its privilege is too broad",
                              q.key, q.secret_path);
      c.detail = what + " → 200";
      c.fix = std::string(fix_too_broad);
      co_return;
    }
    const auto v = view_via_proxy(s.reply);
    if (s.reply.ok() && s.reply.status == 403 && v.diagnosis == core::Diagnosis::origin_rbac) {
      c.status = Status::pass;
      c.message = fmt::format("the out-of-scope read at {} is refused (403), as expected", q.secret_path);
      co_return;
    }
    if (s.reply.ok() && s.reply.status == 404) {
      c.status = Status::warn;
      c.message = fmt::format("the out-of-scope read at {} was not refused (404 rather than 403): the identity "
                              "may have read access there", q.secret_path);
      c.fix = std::string(fix_too_broad);
      co_return;
    }
    if (explain_proxy_failure(c, s.reply, what, cfg_.user_agent)) co_return;
    c.status = Status::warn;
    c.message = fmt::format("the out-of-scope read answered {}, not the expected 403", s.reply.status);
    c.fix = "Check --out-of-scope-path and the proxy's log for this request.";
  }

  // ---- 8 and the end

  static std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  void keep_for_scrub(Secret s) { scrub_.push_back(std::move(s)); }

  /// Belt and braces: whatever path a secret took into a result, its bytes do not leave.
  void scrub() {
    std::vector<std::string> needles;
    auto add = [&](const Secret& s) { needles.emplace_back(s.reveal()); };
    if (token_) {
      add(token_->client_id);
      add(token_->client_secret);
    }
    if (in_.identity_client_secret) add(*in_.identity_client_secret);
    if (access_token_) add(*access_token_);
    for (const auto& s : scrub_) add(s);
    for (auto& r : results_) {
      for (std::string* field : {&r.message, &r.detail, &r.fix}) *field = core::redact(*field, needles);
    }
    for (auto& n : needles) wipe(n);
  }

  const Inputs& in_;
  const config::Config& cfg_;
  net::any_io_executor ex_;
  clock::time_point start_;
  clock::time_point deadline_;
  std::string proxy_host_;
  std::shared_ptr<const ServiceToken> token_;
  std::shared_ptr<ssl::context> tls_;

  bool listening_ = false;
  bool is_proxy_ = false;
  bool transport_ok_ = false;
  bool via_proxy_ok_ = false;
  std::size_t login_index_ = static_cast<std::size_t>(-1);
  std::optional<Secret> access_token_;
  std::vector<Secret> scrub_;
  std::vector<CheckResult> results_;
};

}  // namespace

std::string proxy_dial_host(const config::Config& cfg) {
  if (cfg.listen == "0.0.0.0" || cfg.listen.empty()) return "127.0.0.1";
  if (cfg.listen == "::" || cfg.listen == "[::]") return "::1";
  return cfg.listen;
}

Report run_checks(const Inputs& inputs) {
  net::io_context ioc;
  Runner runner(inputs, ioc);
  std::exception_ptr failure;
  net::co_spawn(ioc, runner.run(), [&](std::exception_ptr e) { failure = e; });
  ioc.run();
  if (failure) std::rethrow_exception(failure);
  Report report;
  report.version = vp::version;
  report.proxy = "http://" + host_port(proxy_dial_host(inputs.cfg), inputs.cfg.port);
  report.upstream = inputs.cfg.upstream.url();
  if (inputs.cfg.connect_to)
    report.upstream += fmt::format(" (dialing {})", host_port(inputs.cfg.connect_to->host, inputs.cfg.connect_to->port));
  report.checks = runner.take_results();
  return report;
}

}  // namespace vp::cli::doctor
