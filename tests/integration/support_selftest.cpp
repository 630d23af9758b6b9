// Proves the test-support library itself: the generated PKI verifies (or fails) as intended with a
// real OpenSSL client, and the fake upstream records and answers exactly what the proxy tests rely on.

#include "support/digest.hpp"
#include "support/fake_upstream.hpp"
#include "support/pki.hpp"
#include "support/proxy_process.hpp"
#include "support/secrets.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <gtest/gtest.h>
#include <openssl/x509_vfy.h>

#include <csignal>

namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using namespace vp::test;
using namespace std::chrono_literals;

/// A verifying TLS client, configured the way the proxy must be: verify_peer, SNI, hostname check.
struct TlsClient {
  net::io_context ioc;
  ssl::context ctx{ssl::context::tls_client};
  std::unique_ptr<beast::ssl_stream<tcp::socket>> stream;
  long verify_result = X509_V_OK;

  TlsClient(std::uint16_t port, const std::string& ca_file, const std::string& name) {
    ctx.set_verify_mode(ssl::verify_peer);
    ctx.load_verify_file(ca_file);
    stream = std::make_unique<beast::ssl_stream<tcp::socket>>(ioc, ctx);
    SSL_set_tlsext_host_name(stream->native_handle(), name.c_str());
    SSL_set1_host(stream->native_handle(), name.c_str());  // OpenSSL's own check: reports HOSTNAME_MISMATCH
    stream->next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  }

  beast::error_code handshake() {
    beast::error_code ec;
    stream->handshake(ssl::stream_base::client, ec);
    verify_result = SSL_get_verify_result(stream->native_handle());
    return ec;
  }

  /// Writes raw bytes, then reads one response.
  http::response<http::string_body> exchange(std::string_view raw, bool head = false) {
    net::write(*stream, net::buffer(raw));
    http::response_parser<http::string_body> p;
    p.body_limit(boost::none);
    if (head) p.skip(true);
    http::read(*stream, buf, p);
    return p.release();
  }

  beast::flat_buffer buf;
};

class SupportSelfTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new Pki("vault.test"); }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }
  static Pki* pki_;
};
Pki* SupportSelfTest::pki_ = nullptr;

TEST_F(SupportSelfTest, ValidLeafVerifiesAgainstGeneratedCaAndSniIsRecorded) {
  FakeUpstream up(pki_->valid);
  TlsClient c(up.port(), pki_->ca_pem, "vault.test");
  ASSERT_FALSE(c.handshake()) << "verify result: " << X509_verify_cert_error_string(c.verify_result);
  auto res = c.exchange("GET /api/status HTTP/1.1\r\nHost: vault.test\r\n\r\n");
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res.body(), "ok");
  auto reqs = up.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].sni, "vault.test");
  EXPECT_EQ(reqs[0].target, "/api/status");
  EXPECT_EQ(up.handshakes(), 1u);
}

TEST_F(SupportSelfTest, WrongNameFailsHostnameVerification) {
  FakeUpstream up(pki_->wrong_name);
  TlsClient c(up.port(), pki_->ca_pem, "vault.test");
  EXPECT_TRUE(c.handshake());
  EXPECT_EQ(c.verify_result, X509_V_ERR_HOSTNAME_MISMATCH);
  EXPECT_EQ(up.handshakes(), 0u);
}

TEST_F(SupportSelfTest, ExpiredLeafFailsVerification) {
  FakeUpstream up(pki_->expired);
  TlsClient c(up.port(), pki_->ca_pem, "vault.test");
  EXPECT_TRUE(c.handshake());
  EXPECT_EQ(c.verify_result, X509_V_ERR_CERT_HAS_EXPIRED);
}

TEST_F(SupportSelfTest, SelfSignedAndUntrustedCaFailVerification) {
  {
    FakeUpstream up(pki_->self_signed);
    TlsClient c(up.port(), pki_->ca_pem, "vault.test");
    EXPECT_TRUE(c.handshake());
    EXPECT_EQ(c.verify_result, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
  }
  {
    FakeUpstream up(pki_->untrusted);
    TlsClient c(up.port(), pki_->ca_pem, "vault.test");
    EXPECT_TRUE(c.handshake());
    EXPECT_EQ(c.verify_result, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  }
  {  // ...and the untrusted leaf is fine for a client that does trust its CA: only trust differs.
    FakeUpstream up(pki_->untrusted);
    TlsClient c(up.port(), pki_->untrusted_ca_pem, "vault.test");
    EXPECT_FALSE(c.handshake());
  }
}

TEST_F(SupportSelfTest, RecordsHeadersInWireOrderWithDuplicatesAndCasing) {
  FakeUpstream up(pki_->valid);
  TlsClient c(up.port(), pki_->ca_pem, "vault.test");
  ASSERT_FALSE(c.handshake());
  const std::string raw =
      "POST /v1/x%2Fy?a=1&b=%20 HTTP/1.1\r\n"
      "Host: vault.test\r\n"
      "cf-access-client-id: one\r\n"
      "CF-ACCESS-CLIENT-ID: two\r\n"
      "X-Dup: a\r\n"
      "x-dup: b\r\n"
      "Content-Length: 5\r\n"
      "\r\n"
      "hello";
  auto res = c.exchange(raw);
  EXPECT_EQ(res.result_int(), 200u);
  auto reqs = up.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const auto& r = reqs[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/v1/x%2Fy?a=1&b=%20");
  EXPECT_EQ(r.raw_header, raw.substr(0, raw.size() - 5));
  HeaderList expected{{"Host", "vault.test"},    {"cf-access-client-id", "one"}, {"CF-ACCESS-CLIENT-ID", "two"},
                      {"X-Dup", "a"},            {"x-dup", "b"},                 {"Content-Length", "5"}};
  EXPECT_EQ(r.headers, expected) << dump(r.headers);
  EXPECT_EQ(r.count("Cf-Access-Client-Id"), 2u);
  EXPECT_EQ(r.body, "hello");
  EXPECT_TRUE(r.body_complete);
  EXPECT_EQ(r.body_sha256, sha256_hex("hello"));
}

TEST_F(SupportSelfTest, KeepAliveServesManyRequestsOnOneHandshake) {
  FakeUpstream up(pki_->valid);
  TlsClient c(up.port(), pki_->ca_pem, "vault.test");
  ASSERT_FALSE(c.handshake());
  for (int i = 0; i < 5; ++i) {
    auto res = c.exchange("GET /n/" + std::to_string(i) + " HTTP/1.1\r\nHost: vault.test\r\n\r\n");
    EXPECT_EQ(res.result_int(), 200u);
  }
  auto reqs = up.requests();
  ASSERT_EQ(reqs.size(), 5u);
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_EQ(reqs[i].connection_id, reqs[0].connection_id);
    EXPECT_EQ(reqs[i].index_on_connection, i);
  }
  EXPECT_EQ(up.handshakes(), 1u);
  EXPECT_EQ(up.connections(), 1u);
}

TEST_F(SupportSelfTest, GeneratedBodiesMatchPatternDigestInBothFramings) {
  FakeUpstream up(pki_->valid, [](const RecordedRequest& r) {
    Response resp;
    resp.generated_body = 1'000'003;
    resp.chunk_size = 7'777;
    resp.framing = r.target == "/chunked" ? Response::Framing::chunked : Response::Framing::content_length;
    return resp;
  });
  TlsClient c(up.port(), pki_->ca_pem, "vault.test");
  ASSERT_FALSE(c.handshake());
  for (const char* target : {"/chunked", "/length"}) {
    auto res = c.exchange(std::string("GET ") + target + " HTTP/1.1\r\nHost: vault.test\r\n\r\n");
    EXPECT_EQ(res.body().size(), 1'000'003u);
    EXPECT_EQ(sha256_hex(res.body()), PatternBody::sha256(1'000'003));
    EXPECT_EQ(res.chunked(), std::string_view(target) == "/chunked");
  }
}

TEST_F(SupportSelfTest, LargeUploadIsCountedAndHashedNotStored) {
  FakeUpstream::Options o{pki_->valid};
  o.store_body_limit = 1024;
  FakeUpstream up(o, {});
  TlsClient c(up.port(), pki_->ca_pem, "vault.test");
  ASSERT_FALSE(c.handshake());
  const std::size_t n = 3'000'000;
  std::string body = PatternBody::make(n);
  auto res = c.exchange("PUT /up HTTP/1.1\r\nHost: vault.test\r\nTransfer-Encoding: chunked\r\n\r\n" +
                        std::string("2dc6c0\r\n") + body + "\r\n0\r\n\r\n");
  EXPECT_EQ(res.result_int(), 200u);
  auto reqs = up.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_TRUE(reqs[0].chunked);
  EXPECT_EQ(reqs[0].body_size, n);
  EXPECT_EQ(reqs[0].body_sha256, PatternBody::sha256(n));
  EXPECT_FALSE(reqs[0].body_stored);
  EXPECT_TRUE(reqs[0].body.empty());
}

TEST_F(SupportSelfTest, ExpectContinueGetsInterimResponse) {
  FakeUpstream up(pki_->valid);
  TlsClient c(up.port(), pki_->ca_pem, "vault.test");
  ASSERT_FALSE(c.handshake());
  auto interim = c.exchange("PUT /x HTTP/1.1\r\nHost: vault.test\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  EXPECT_EQ(interim.result_int(), 100u);
  auto res = c.exchange("abc");
  EXPECT_EQ(res.result_int(), 200u);
  auto reqs = up.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_TRUE(reqs[0].expect_continue);
  EXPECT_EQ(reqs[0].body, "abc");
}

TEST_F(SupportSelfTest, FaultsCloseResetAndGarbage) {
  FakeUpstream up(pki_->valid, [](const RecordedRequest& r) {
    if (r.target == "/close") return Response::make_fault(Response::Fault::close_without_response);
    if (r.target == "/garbage") {
      auto resp = Response::make_fault(Response::Fault::raw_bytes);
      resp.raw = "NOT HTTP AT ALL\r\n\r\n";
      return resp;
    }
    Response resp;
    resp.generated_body = 100'000;
    resp.fault = Response::Fault::reset_mid_body;
    resp.fault_after_body_bytes = 1000;
    return resp;
  });
  for (const char* target : {"/close", "/garbage", "/reset"}) {
    TlsClient c(up.port(), pki_->ca_pem, "vault.test");
    ASSERT_FALSE(c.handshake());
    EXPECT_ANY_THROW(c.exchange(std::string("GET ") + target + " HTTP/1.1\r\nHost: vault.test\r\n\r\n")) << target;
  }
  EXPECT_EQ(up.request_count(), 3u);
}

TEST_F(SupportSelfTest, StallBeforeHeaderDelaysTheAnswer) {
  FakeUpstream up(pki_->valid, [](const RecordedRequest&) {
    Response r = Response::text(200, "late");
    r.stall_before_header = 300ms;
    return r;
  });
  TlsClient c(up.port(), pki_->ca_pem, "vault.test");
  ASSERT_FALSE(c.handshake());
  auto t0 = std::chrono::steady_clock::now();
  auto res = c.exchange("GET / HTTP/1.1\r\nHost: vault.test\r\n\r\n");
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 290ms);
  EXPECT_EQ(res.body(), "late");
}

TEST(SupportProcess, SpawnsWithOnlyTheGivenEnvironmentAndParsesReadiness) {
  ProxyProcess::Options o;
  o.binary = "/bin/sh";
  o.args = {"-c", "env; echo \"listening on http://127.0.0.1:4321 forwarding\" >&2; exec sleep 30"};
  o.env = {{"FOO", "bar"}};
  ProxyProcess p(o);
  EXPECT_EQ(p.port(), 4321);
  EXPECT_EQ(p.listen_address(), "127.0.0.1");
  p.send_signal(SIGTERM);
  auto code = p.wait_exit(5s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 128 + SIGTERM);
  auto out = p.stdout_text();
  EXPECT_NE(out.find("FOO=bar"), std::string::npos) << out;
  EXPECT_EQ(out.find("HOME="), std::string::npos) << out;
}

TEST(SupportSecrets, DetectsWholeAndPartialSecrets) {
  std::string secret = random_token();
  EXPECT_TRUE(no_secret_in("nothing here", secret));
  EXPECT_FALSE(no_secret_in("x" + secret + "y", secret));
  EXPECT_FALSE(no_secret_in("prefix " + secret.substr(3, 14) + "...", secret));
  EXPECT_TRUE(no_secret_in(secret.substr(0, 8), secret));
}

}  // namespace
