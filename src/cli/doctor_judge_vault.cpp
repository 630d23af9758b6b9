// The verdicts of the checks that go straight to the vault, not through the proxy: the transport
// (DNS, TCP, TLS) and Cloudflare Access.

#include <fmt/format.h>
#include <openssl/x509_vfy.h>

#include "cli/doctor_judge.hpp"
#include "cli/doctor_runbook.hpp"
#include "core/authority.hpp"

namespace vp::cli::doctor {

using namespace runbook;

namespace {

/// The fix for a failed TLS handshake, by OpenSSL's verification result.
std::string tls_fix(long verify, const std::string& host) {
  switch (verify) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return fmt::format(
          "The certificate of {} has expired: the operator must renew it (vault-proxy will answer 502 "
          "upstream_tls until then). Never turn certificate verification off.",
          host);
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "The certificate is not valid yet: check this machine's clock (timedatectl), then the "
             "certificate's dates.";
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return fmt::format(
          "The server's certificate is not for {}: check VAULT_PROXY_UPSTREAM, and that "
          "VAULT_PROXY_CONNECT_TO (if set) reaches the same server.",
          host);
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

/// The evidence lines, as far as the dial got: "dns: …", "tcp: …", "tls: …".
std::vector<std::string> transport_lines(const UpstreamObservation& o) {
  const std::string where = core::host_port(o.dial_host, o.dial_port);
  std::vector<std::string> lines;
  if (o.reached < TlsDial::connect_failed) return lines;
  std::string addresses;
  for (const auto& a : o.addresses) addresses += (addresses.empty() ? "" : ", ") + a;
  lines.push_back(o.via_connect_to ? fmt::format("dns: dialing {} instead of {} (VAULT_PROXY_CONNECT_TO) → {}", where,
                                                 o.host, addresses)
                                   : fmt::format("dns: {} → {}", o.host, addresses));
  if (o.reached < TlsDial::not_prepared) return lines;
  lines.push_back("tcp: connected to " + o.connected_to);
  if (o.reached == TlsDial::verified && o.leaf)
    lines.push_back(fmt::format("tls: {}, chain and name verified for {}{}; subject {}; issuer {}; expires {}",
                                o.leaf->tls_version, o.host, o.sni_sent ? " (SNI sent)" : " (IP address check)",
                                o.leaf->subject, o.leaf->issuer, o.leaf->expires));
  return lines;
}

std::string joined(const std::vector<std::string>& lines, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n && i < lines.size(); ++i) s += (s.empty() ? "" : "\n") + lines[i];
  return s;
}

/// The verdict of a dial that stopped before a verified handshake.
CheckResult transport_failure(const UpstreamObservation& o) {
  const std::string where = core::host_port(o.dial_host, o.dial_port);
  const auto lines = transport_lines(o);
  CheckResult c;
  c.status = Status::fail;
  switch (o.reached) {
    case TlsDial::no_tls_context:
      c.message = "cannot set up TLS";
      c.detail = o.error;
      c.fix = "Fix VAULT_PROXY_CA_FILE (a readable PEM bundle), or unset it to use the system store.";
      break;
    case TlsDial::resolve_timed_out:
      c.message = fmt::format("resolving {} timed out", o.dial_host);
      c.fix = "Check DNS on this machine. " + std::string(fix_symptom_6);
      break;
    case TlsDial::resolve_failed:
      c.message = fmt::format("cannot resolve {}: {}", o.dial_host, o.error);
      c.fix = "Check DNS and the network on this machine" +
              std::string(o.via_connect_to ? " and VAULT_PROXY_CONNECT_TO." : ".") + " " + std::string(fix_symptom_6);
      break;
    case TlsDial::connect_failed:
      c.message = fmt::format("cannot connect to {}: {}", where, o.error);
      c.detail = joined(lines, 1);
      c.fix = fix_symptom_6;
      break;
    case TlsDial::not_prepared:
      c.message = "cannot set up the TLS handshake: " + o.error;
      break;
    case TlsDial::handshake_timed_out:
      c.message = fmt::format("the TLS handshake with {} timed out", where);
      c.detail = joined(lines, 2);
      c.fix = fix_symptom_6;
      break;
    case TlsDial::handshake_failed:
      c.message = fmt::format("TLS with {} failed: {}", o.host, o.error);
      c.detail = joined(lines, 2);
      c.fix = tls_fix(o.verify_result, o.host);
      break;
    case TlsDial::verified:
      break;
  }
  return c;
}

}  // namespace

CheckResult judge_upstream(const UpstreamObservation& o) {
  if (o.reached != TlsDial::verified) return transport_failure(o);
  const int days = o.leaf ? o.leaf->days_left : 0;
  const std::string expires = o.leaf ? o.leaf->expires : "?";
  CheckResult c;
  c.detail = joined(transport_lines(o), 3);
  if (days < o.warn_days) {
    c.status = Status::warn;
    c.message = fmt::format("TLS to {} is fine, but its certificate expires in {} day{} ({})", o.host, days,
                            days == 1 ? "" : "s", expires);
    c.fix = fmt::format(
        "Renew the vault's certificate within {} days (tell the operator); once it "
        "expires, vault-proxy answers 502 upstream_tls.",
        days);
    return c;
  }
  c.status = Status::pass;
  c.message = fmt::format("DNS, TCP and TLS to {} are fine; the certificate is valid for {} more days", o.host, days);
  return c;
}

// ---- 4. access

namespace {

constexpr std::string_view fix_exposed =
    "Put the vault behind a Cloudflare Access application with a Service Auth policy (tell the "
    "operator): right now anyone on the internet reaches Infisical's API directly.";

/// How an Access rejection looked, for messages.
std::string rejection_shape(const Answer& a) {
  if (a.status >= 300 && a.status < 400) return "it redirected to the Access login page";
  if (a.status == 401) return "it answered 401";
  return "it answered " + std::to_string(a.status) + " with the Access deny page";
}

/// The token was accepted (200): is Access in front at all?
void judge_accepted(CheckResult& c, const Answer& without) {
  if (!without.answered) {
    c.status = Status::warn;
    c.message =
        "Cloudflare Access accepts the service token, but the request without a token got no "
        "answer, so doctor cannot tell whether Access is in front";
    c.fix = "Re-run doctor; if it persists, check the network path to the vault.";
  } else if (without.status == 200) {
    c.status = Status::warn;
    c.message =
        "Cloudflare Access is not in front of the vault: /api/status answers 200 without a "
        "service token";
    c.fix = fix_exposed;
  } else {
    c.status = Status::pass;
    c.message = fmt::format("Cloudflare Access accepts the service token and refuses requests without it{}",
                            without.diagnosis == core::Diagnosis::none
                                ? std::string()
                                : fmt::format(" ({})", core::diagnosis_name(without.diagnosis)));
  }
}

/// The request with the token was answered, but not with 200.
void judge_rejected(CheckResult& c, const Answer& with, std::string_view user_agent) {
  const auto d = with.diagnosis;
  c.status = Status::fail;
  switch (d) {
    case core::Diagnosis::cf_access_unauthenticated:
    case core::Diagnosis::cf_access_forbidden:
      c.message = fmt::format("Cloudflare Access rejected the service token: {} ({})", rejection_shape(with),
                              core::diagnosis_name(d));
      c.fix = fix_mode_b;
      break;
    case core::Diagnosis::cf_edge_block:
      c.message = "Cloudflare's edge blocked the request before Access checked the token (cf_edge_block)";
      c.fix = fix_edge(user_agent);
      break;
    case core::Diagnosis::cf_challenge:
      c.message = "Cloudflare answered with a browser challenge instead of the vault (cf_challenge)";
      c.fix = fix_challenge();
      break;
    case core::Diagnosis::upstream_server_error:
      c.message = fmt::format("Access let the token through, but the vault answered {}", with.status);
      c.fix = fix_symptom_6;
      break;
    default:
      c.message = fmt::format("unexpected answer to GET /api/status with the service token: {}{}", with.status,
                              d == core::Diagnosis::none ? "" : " " + std::string(core::diagnosis_name(d)));
      c.fix = "Check VAULT_PROXY_UPSTREAM: it must be the Infisical instance behind Cloudflare Access.";
      break;
  }
}

}  // namespace

CheckResult judge_access(const AccessObservation& o) {
  const Answer& without = o.without_token;
  CheckResult c;
  if (o.with_token) c.detail = "with the service token: GET /api/status → " + describe(*o.with_token) + "\n";
  c.detail += "without a token: GET /api/status → " + describe(without);
  if (!o.with_token) {
    c.status = Status::warn;
    if (without.answered && without.status == 200) {
      c.message =
          "Cloudflare Access is not in front of the vault (200 without a service token), and "
          "no service token is set here to test";
      c.fix = fix_exposed;
    } else {
      c.message = "no service token in this environment, so Access could not be tested with it";
      c.fix =
          "Set CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET (or their _FILE variants) as for "
          "vault-proxy serve, and re-run doctor.";
    }
  } else if (!o.with_token->answered) {
    c.status = Status::fail;
    c.message = "the request with the service token got no answer";
    c.fix = fix_symptom_6;
  } else if (o.with_token->status == 200) {
    judge_accepted(c, without);
  } else {
    judge_rejected(c, *o.with_token, o.user_agent);
  }
  return c;
}

}  // namespace vp::cli::doctor
