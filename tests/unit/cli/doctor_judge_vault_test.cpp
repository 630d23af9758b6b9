// Tables over observations for the verdicts of doctor's checks that go straight to the vault:
// `upstream` (DNS, TCP, TLS) and `access` (Cloudflare Access). No sockets: each row is what a
// gather function would have recorded.

#include <gtest/gtest.h>
#include <openssl/x509_vfy.h>

#include <optional>
#include <string>
#include <vector>

#include "cli/doctor_judge.hpp"
#include "unit/cli/doctor_judge_table.hpp"

namespace {

using namespace vp::cli::doctor;
using namespace vp::test::doctor;

// ---- upstream

/// A healthy dial: resolved, connected, verified, 61 days left.
UpstreamObservation verified() {
  UpstreamObservation o;
  o.host = "vault.test";
  o.dial_host = "vault.test";
  o.dial_port = 443;
  o.addresses = {"192.0.2.10", "192.0.2.11"};
  o.connected_to = "192.0.2.10:443";
  o.leaf = Certificate{"TLSv1.3", "/CN=vault.test", "/CN=Test CA", "2026-08-20 10:11 UTC", 61};
  return o;
}

UpstreamObservation stopped(TlsDial at, std::string error, long verify = X509_V_OK) {
  auto o = verified();
  o.reached = at;
  o.error = std::move(error);
  o.verify_result = verify;
  o.leaf.reset();
  return o;
}

constexpr const char* dns_line = "dns: vault.test → 192.0.2.10, 192.0.2.11";
constexpr const char* tcp_line = "tcp: connected to 192.0.2.10:443";

TEST(DoctorJudgeUpstream, VerifiedPassesWithDnsTcpAndTlsEvidence) {
  auto c = judge_upstream(verified());
  EXPECT_EQ(c.status, Status::pass);
  EXPECT_EQ(c.message, "DNS, TCP and TLS to vault.test are fine; the certificate is valid for 61 more days");
  EXPECT_EQ(c.detail, std::string(dns_line) + "\n" + tcp_line +
                          "\ntls: TLSv1.3, chain and name verified for vault.test (SNI sent); subject /CN=vault.test; "
                          "issuer /CN=Test CA; expires 2026-08-20 10:11 UTC");
  EXPECT_EQ(c.fix, "");
}

TEST(DoctorJudgeUpstream, ConnectToAndIpHostAreNamedInTheEvidence) {
  auto o = verified();
  o.host = "192.0.2.7";
  o.via_connect_to = true;
  o.sni_sent = false;
  o.dial_host = "127.0.0.1";
  o.dial_port = 8443;
  o.addresses = {"127.0.0.1"};
  auto c = judge_upstream(o);
  EXPECT_TRUE(
      contains(c.detail, "dns: dialing 127.0.0.1:8443 instead of 192.0.2.7 (VAULT_PROXY_CONNECT_TO) → 127.0.0.1"))
      << c.detail;
  EXPECT_TRUE(contains(c.detail, "verified for 192.0.2.7 (IP address check)")) << c.detail;
}

TEST(DoctorJudgeUpstream, CertificateLifetimeAgainstWarnDays) {
  auto lifetime = [](int days_left, int warn_days) {
    auto o = verified();
    o.leaf->days_left = days_left;
    o.warn_days = warn_days;
    return o;
  };
  const std::string fine = "DNS, TCP and TLS to vault.test are fine; the certificate is valid for ";
  const std::string soon = "TLS to vault.test is fine, but its certificate expires in ";
  expect_table<UpstreamObservation>(
      {
          {"61 of 14", lifetime(61, 14), {Status::pass, fine + "61 more days", ""}},
          {"14 of 14", lifetime(14, 14), {Status::pass, fine + "14 more days", ""}},
          {"13 of 14", lifetime(13, 14),
           {Status::warn, soon + "13 days (2026-08-20 10:11 UTC)", "Renew the vault's certificate within 13 days"}},
          {"1 of 14", lifetime(1, 14),
           {Status::warn, soon + "1 day (2026-08-20 10:11 UTC)", "Renew the vault's certificate within 1 days"}},
          {"0 of 14", lifetime(0, 14), {Status::warn, soon + "0 days (2026-08-20 10:11 UTC)", "502 upstream_tls"}},
          {"3 of 0", lifetime(3, 0), {Status::pass, fine + "3 more days", ""}},
      },
      judge_upstream);
}

TEST(DoctorJudgeUpstream, EveryStepThatStopsFailsWithItsFix) {
  auto via_connect_to = stopped(TlsDial::resolve_failed, "Host not found (authoritative)");
  via_connect_to.via_connect_to = true;
  const std::string two_lines = std::string(dns_line) + "\n" + tcp_line;
  const std::string symptom_6 = "runbook symptom 6";
  expect_table<UpstreamObservation>(
      {
          {"no TLS context",
           stopped(TlsDial::no_tls_context, "cannot read CA file /nope: No such file"),
           {Status::fail, "cannot set up TLS", "Fix VAULT_PROXY_CA_FILE"},
           "cannot read CA file /nope: No such file"},
          {"DNS too slow",
           stopped(TlsDial::resolve_timed_out, ""),
           {Status::fail, "resolving vault.test timed out",
            "Check DNS on this machine. The vault is unreachable (runbook symptom 6)"},
           ""},
          {"DNS fails",
           stopped(TlsDial::resolve_failed, "Host not found (authoritative)"),
           {Status::fail, "cannot resolve vault.test: Host not found (authoritative)",
            "Check DNS and the network on this machine. The vault is unreachable (runbook symptom 6)"},
           ""},
          {"DNS fails with CONNECT_TO",
           via_connect_to,
           {Status::fail, "cannot resolve vault.test: Host not found (authoritative)",
            "on this machine and VAULT_PROXY_CONNECT_TO. The vault"},
           ""},
          {"TCP refused",
           stopped(TlsDial::connect_failed, "Connection refused"),
           {Status::fail, "cannot connect to vault.test:443: Connection refused", symptom_6},
           dns_line},
          {"OpenSSL refuses SNI",
           stopped(TlsDial::not_prepared, "SSL_set_tlsext_host_name failed"),
           {Status::fail, "cannot set up the TLS handshake: SSL_set_tlsext_host_name failed", ""},
           ""},
          {"handshake too slow",
           stopped(TlsDial::handshake_timed_out, ""),
           {Status::fail, "the TLS handshake with vault.test:443 timed out", symptom_6},
           two_lines},
          {"expired",
           stopped(TlsDial::handshake_failed, "certificate has expired", X509_V_ERR_CERT_HAS_EXPIRED),
           {Status::fail, "TLS with vault.test failed: certificate has expired",
            "The certificate of vault.test has expired: the operator must renew it"},
           two_lines},
          {"not yet valid",
           stopped(TlsDial::handshake_failed, "certificate is not yet valid", X509_V_ERR_CERT_NOT_YET_VALID),
           {Status::fail, "TLS with vault.test failed: certificate is not yet valid", "check this machine's clock"},
           two_lines},
          {"wrong name",
           stopped(TlsDial::handshake_failed, "hostname mismatch", X509_V_ERR_HOSTNAME_MISMATCH),
           {Status::fail, "TLS with vault.test failed: hostname mismatch",
            "The server's certificate is not for vault.test"},
           two_lines},
          {"private CA",
           stopped(TlsDial::handshake_failed, "unable to get local issuer certificate",
                   X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY),
           {Status::fail, "TLS with vault.test failed: unable to get local issuer certificate",
            "set VAULT_PROXY_CA_FILE to its PEM bundle"},
           two_lines},
          {"self-signed",
           stopped(TlsDial::handshake_failed, "self-signed certificate", X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT),
           {Status::fail, "TLS with vault.test failed: self-signed certificate",
            "The certificate chain is not trusted"},
           two_lines},
          {"no verification result",
           stopped(TlsDial::handshake_failed, "wrong version number"),
           {Status::fail, "TLS with vault.test failed: wrong version number",
            "Check VAULT_PROXY_UPSTREAM, VAULT_PROXY_CONNECT_TO and VAULT_PROXY_CA_FILE"},
           two_lines},
      },
      judge_upstream);
}

// ---- access

Answer challenge() {
  Answer a = answer(403, Diagnosis::cf_challenge, "text/html");
  a.cf_mitigated = "challenge";
  return a;
}

TEST(DoctorJudgeAccess, EveryAnswerOfAccessAndTheVaultHasItsVerdict) {
  const auto login = access_login_redirect();
  auto seen = [](std::optional<Answer> with, Answer without) {
    return AccessObservation{std::move(with), std::move(without), "vp-test/1.0"};
  };
  expect_table<AccessObservation>(
      {
          {"401",
           seen(answer(401, Diagnosis::cf_access_unauthenticated, "text/html"), login),
           {Status::fail, "Cloudflare Access rejected the service token: it answered 401 (cf_access_unauthenticated)",
            "Runbook failure mode B."}},
          {"403 deny page",
           seen(answer(403, Diagnosis::cf_access_forbidden, "text/html"), login),
           {Status::fail,
            "Cloudflare Access rejected the service token: it answered 403 with the Access deny page "
            "(cf_access_forbidden)",
            "Refresh CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET"}},
          {"302 to login",
           seen(login, login),
           {Status::fail,
            "Cloudflare Access rejected the service token: it redirected to the Access login page "
            "(cf_access_unauthenticated)",
            "Runbook failure mode B."}},
          {"1020 edge block",
           seen(answer(403, Diagnosis::cf_edge_block, "text/plain; charset=UTF-8"), login),
           {Status::fail, "Cloudflare's edge blocked the request before Access checked the token (cf_edge_block)",
            "vault-proxy sends User-Agent 'vp-test/1.0'."}},
          {"challenge",
           seen(challenge(), challenge()),
           {Status::fail, "Cloudflare answered with a browser challenge instead of the vault (cf_challenge)",
            std::string(vp::core::diagnosis_message(Diagnosis::cf_challenge))}},
          {"5xx behind Access",
           seen(answer(502, Diagnosis::upstream_server_error, "text/html"), login),
           {Status::fail, "Access let the token through, but the vault answered 502", "runbook symptom 6"}},
          {"unexpected 404",
           seen(answer(404, Diagnosis::upstream_client_error), login),
           {Status::fail, "unexpected answer to GET /api/status with the service token: 404 upstream_client_error",
            "it must be the Infisical instance behind Cloudflare Access"}},
          {"unexpected 204",
           seen(answer(204), login),
           {Status::fail, "unexpected answer to GET /api/status with the service token: 204",
            "Check VAULT_PROXY_UPSTREAM"}},
          {"no answer with the token",
           seen(no_answer("connect 192.0.2.10:443: timed out"), login),
           {Status::fail, "the request with the service token got no answer", "runbook symptom 6"}},
          {"200 with, login page without",
           seen(answer(200), login),
           {Status::pass,
            "Cloudflare Access accepts the service token and refuses requests without it (cf_access_unauthenticated)",
            ""}},
          {"200 with, unclassified refusal without",
           seen(answer(200), answer(404)),
           {Status::pass, "Cloudflare Access accepts the service token and refuses requests without it", ""}},
          {"200 without a token",
           seen(answer(200), answer(200)),
           {Status::warn,
            "Cloudflare Access is not in front of the vault: /api/status answers 200 without a service token",
            "Service Auth policy"}},
          {"no answer without a token",
           seen(answer(200), no_answer("timed out")),
           {Status::warn,
            "Cloudflare Access accepts the service token, but the request without a token got no answer, so doctor "
            "cannot tell whether Access is in front",
            "Re-run doctor"}},
          {"no token here",
           seen(std::nullopt, login),
           {Status::warn, "no service token in this environment, so Access could not be tested with it",
            "Set CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET"}},
          {"no token here, open without",
           seen(std::nullopt, answer(200)),
           {Status::warn,
            "Cloudflare Access is not in front of the vault (200 without a service token), and no service token is set "
            "here to test",
            "anyone on the internet reaches Infisical's API directly"}},
      },
      judge_access);
}

TEST(DoctorJudgeAccess, DetailShowsBothRequestsWithClassAndLoginLocation) {
  auto c = judge_access(AccessObservation{answer(403, Diagnosis::cf_access_forbidden, "text/html"),
                                          access_login_redirect(), "vp-test/1.0"});
  EXPECT_EQ(c.detail,
            "with the service token: GET /api/status → 403 text/html → cf_access_forbidden\n"
            "without a token: GET /api/status → 302 text/html → cf_access_unauthenticated, Location: "
            "https://team.cloudflareaccess.com/cdn-cgi/access/login/vault.test?kid=0123abcd");
}

TEST(DoctorJudgeAccess, DetailWithoutATokenHereHasOneLine) {
  auto c = judge_access(AccessObservation{std::nullopt, challenge(), "ua"});
  EXPECT_EQ(c.detail, "without a token: GET /api/status → 403 text/html → cf_challenge, cf-mitigated: challenge");
}

}  // namespace
