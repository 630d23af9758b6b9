// The CLI's HTTP client and infisical::Client::call<T>() against in-process upstreams on loopback:
// TLS through the connector (the proxy's TlsStream and SSL_CTX), typed answers, Infisical's error
// shape, and the failures a caller words into its messages.

#include "infisical/client.hpp"
#include "net/tls.hpp"
#include "support/proxy_fixture.hpp"
#include "support/raw_upstream.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace vp {
namespace {

using namespace std::chrono_literals;
using test::RawReply;
using test::RawRequest;
using test::RawUpstream;

RawReply json_reply(unsigned status, const std::string& reason, const std::string& body) {
  return RawReply("HTTP/1.1 " + std::to_string(status) + " " + reason +
                  "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                  "\r\n\r\n" + body);
}

infisical::Endpoint tls_endpoint(const RawUpstream& up) {
  infisical::Endpoint e;
  e.scheme = infisical::Endpoint::Scheme::https;
  e.host = "vault.test";
  e.port = 443;
  e.dial = config::ConnectTo{"127.0.0.1", up.port()};
  e.tls = net_tls::make_client_context(test::shared_pki().ca_pem);
  return e;
}

/// Runs `body` on a fresh io_context and returns what it produced.
template <class T, class F>
T run(F body) {
  net::io_context ioc;
  std::optional<T> out;
  net::co_spawn(ioc, body(ioc.get_executor()), [&](std::exception_ptr e, T v) {
    if (e) std::rethrow_exception(e);
    out = std::move(v);
  });
  ioc.run();
  return std::move(*out);
}

struct Message {
  std::string message;
  static std::optional<Message> decode(nlohmann::json& j) {
    if (!j.is_object() || !j.contains("message")) return std::nullopt;
    return Message{j["message"].get<std::string>()};
  }
};

TEST(HttpClient, ATypedCallOverTlsDecodesTheAnswerAndSendsTheQueryEncoded) {
  RawUpstream up(test::shared_pki().valid, [](const RawRequest&) { return json_reply(200, "OK", R"({"message":"Ok"})"); });
  auto r = run<infisical::Result<Message>>([&](net::any_io_executor ex) -> net::awaitable<infisical::Result<Message>> {
    infisical::Client client(ex, tls_endpoint(up));
    infisical::Params p;
    p.query = {{"secretPath", "/a b"}, {"environment", "dev"}};
    co_return co_await client.call<Message>(http::verb::get, "/api/v1/thing", std::move(p),
                                            infisical::clock::now() + 10s);
  });
  ASSERT_TRUE(r.ok()) << r.reply.error;
  EXPECT_EQ(r.value->message, "Ok");
  ASSERT_EQ(up.requests().size(), 1u);
  EXPECT_EQ(up.requests()[0].target, "/api/v1/thing?secretPath=%2Fa%20b&environment=dev");
  EXPECT_NE(up.requests()[0].head.find("Host: vault.test\r\n"), std::string::npos);
}

TEST(HttpClient, AnInfisicalErrorComesBackWithItsStatusMessageAndError) {
  RawUpstream up(test::shared_pki().valid, [](const RawRequest&) {
    return json_reply(404, "Not Found", R"({"statusCode":404,"message":"Secret not found","error":"NotFound"})");
  });
  using EmptyResult = infisical::Result<infisical::Empty>;
  auto r = run<EmptyResult>([&](net::any_io_executor ex) -> net::awaitable<EmptyResult> {
    infisical::Client client(ex, tls_endpoint(up));
    co_return co_await client.call<infisical::Empty>(http::verb::delete_, "/api/v3/secrets/raw/X", {},
                                                     infisical::clock::now() + 10s);
  });
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.reply.ok());
  EXPECT_EQ(r.reply.status, 404u);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->message, "Secret not found");
  EXPECT_EQ(r.error->error, "NotFound");
}

TEST(HttpClient, ACertificateForAnotherNameIsATlsFailureAndNothingIsSent) {
  RawUpstream up(test::shared_pki().wrong_name, [](const RawRequest&) { return json_reply(200, "OK", "{}"); });
  auto r = run<infisical::Reply>([&](net::any_io_executor ex) -> net::awaitable<infisical::Reply> {
    co_return co_await net_http::send(ex, tls_endpoint(up), net_http::Request::get("/api/status"),
                                      infisical::clock::now() + 10s);
  });
  EXPECT_EQ(r.failure, infisical::Failure::tls);
  EXPECT_NE(r.error.find("TLS handshake with vault.test (127.0.0.1:"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("certificate verification failed"), std::string::npos) << r.error;
  EXPECT_TRUE(up.requests().empty());
}

TEST(HttpClient, ARefusedConnectionIsAConnectFailureNamingTheAddress) {
  std::uint16_t port = 0;
  {
    net::io_context ioc;
    tcp::acceptor a(ioc, {net::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  auto r = net_http::send_blocking(net_http::local_endpoint("127.0.0.1", port),
                                   net_http::Request::get("/__vault-proxy/health"), 2000ms);
  EXPECT_EQ(r.failure, infisical::Failure::connect);
  EXPECT_EQ(r.error.rfind("connect 127.0.0.1:" + std::to_string(port) + ": ", 0), 0u) << r.error;
}

TEST(HttpClient, ASilentServerIsATimeoutWithinTheDeadline) {
  net::io_context server;
  tcp::acceptor a(server, {net::ip::make_address("127.0.0.1"), 0});  // accepted by the kernel, never answered
  auto started = std::chrono::steady_clock::now();
  auto r = net_http::send_blocking(net_http::local_endpoint("127.0.0.1", a.local_endpoint().port()),
                                   net_http::Request::get("/__vault-proxy/health"), 300ms);
  EXPECT_EQ(r.failure, infisical::Failure::timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

}  // namespace
}  // namespace vp
