// Faults from both sides, each against the real binary (issue 3, "Faults" and "Strict HTTP"):
// every upstream fault and client disconnect has a test that checks what the client sees, that the
// broken upstream connection is discarded (the next request arrives on a new one), and that the
// proxy stays healthy afterwards. Hostile client bytes get 400/414/431 with nothing sent upstream;
// malformed upstream responses get 502 and their connection is dropped.

#include "support/digest.hpp"
#include "support/proxy_fixture.hpp"
#include "support/raw_upstream.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace {

using namespace vp::test;
using namespace std::chrono_literals;
using namespace std::string_literals;
using clock_type = std::chrono::steady_clock;

/// Answers "/ok" normally and everything else with `fault`.
FakeUpstream::Handler ok_or(std::function<Response(const RecordedRequest&)> fault) {
  return [fault = std::move(fault)](const RecordedRequest& r) {
    if (r.target == "/ok") return Response::text(200, "ok");
    return fault(r);
  };
}

class Faults : public ProxyTest {
 protected:
  static void expect_proxy_error(const ClientResponse& res, unsigned status, const std::string& code) {
    EXPECT_EQ(res.status, status) << res.body;
    EXPECT_EQ(res.values("X-Vault-Proxy-Error"), std::vector<std::string>{code}) << dump(res.headers);
    auto body = parse_error_body(res.body);
    EXPECT_TRUE(body.valid_json) << res.body;
    EXPECT_EQ(body.error, code) << res.body;
  }

  /// A 502 for an upstream fault; the exact code depends on when the fault was noticed.
  static void expect_upstream_502(const ClientResponse& res) {
    EXPECT_EQ(res.status, 502u) << res.body;
    auto code = res.header("X-Vault-Proxy-Error").value_or("");
    EXPECT_TRUE(code.starts_with("upstream_")) << "X-Vault-Proxy-Error: " << code;
  }

  /// Health answers, and a normal request through the proxy works.
  void expect_healthy() {
    auto health = http_get(port(), "/__vault-proxy/health");
    EXPECT_EQ(health.status, 200u) << health.body;
    if (upstream_) {
      auto res = http_get(port(), "/ok");
      EXPECT_EQ(res.status, 200u) << res.body;
      EXPECT_EQ(res.body, "ok");
    }
  }

  /// The connection the upstream saw the request for `target` on (0 if it never arrived).
  std::uint64_t connection_of(const std::string& target) {
    for (const auto& r : upstream().requests())
      if (r.target == target) return r.connection_id;
    return 0;
  }

  /// After a fault on the request for `fault_target`: the proxy is healthy, and the next request
  /// reaches the upstream on a connection other than the broken one.
  void expect_recovered_on_a_new_connection(const std::string& fault_target) {
    auto broken = connection_of(fault_target);
    ASSERT_NE(broken, 0u) << fault_target << " never reached the upstream";
    expect_healthy();
    auto next = connection_of("/ok");
    EXPECT_NE(next, 0u);
    EXPECT_NE(next, broken) << "the upstream connection that failed was reused";
  }

  /// Sends GET `target` and reads the answer; the client must never see a complete 200 (the
  /// upstream broke mid-body), and the connection must end.
  void expect_aborted_download(const std::string& target, std::uint64_t full_size) {
    HttpClient c(port(), 10s);
    ClientRequest req;
    req.target = target;
    c.send(req);
    std::optional<ClientResponse> res;
    std::string error;
    try {
      res = c.read_response({.store_body = false});
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (res) {
      // Only a proxy-made error (sent before any of the upstream's header) is acceptable.
      EXPECT_NE(res->status, 200u) << "the client saw a complete-looking 200 with " << res->body_size << " of "
                                   << full_size << " bytes";
      if (res->status != 200) expect_upstream_502(*res);
    }
    EXPECT_TRUE(c.server_closed(5s)) << "the client connection must be closed after a broken body";
  }

  std::unique_ptr<RawUpstream> raw_;
};

// ---- upstream faults --------------------------------------------------------------------------

TEST_F(Faults, UpstreamConnectionRefusedIs502AndTheProxyStaysHealthy) {
  start(ProxySetup{}.without_upstream());
  for (int i = 0; i < 3; ++i) {
    auto t0 = clock_type::now();
    auto res = http_get(port(), "/api/status");
    expect_proxy_error(res, 502, "upstream_connect");
    EXPECT_LT(clock_type::now() - t0, 3s) << "a refused connection must fail fast";
  }
  expect_healthy();
}

TEST_F(Faults, UpstreamResetBeforeTheHeaderIs502) {
  // No pool, so no connection opened at start either: the request goes out on a new connection,
  // which is never replayed (a pooled one may be: docs/architecture.md, "Retries").
  start(ProxySetup{}
            .with_handler(ok_or(
                [](const RecordedRequest&) { return Response::make_fault(Response::Fault::reset_before_response); }))
            .with_env({{"VAULT_PROXY_POOL_SIZE", "0"}}));
  auto res = http_get(port(), "/reset");
  expect_upstream_502(res);
  EXPECT_EQ(upstream().request_count(), 1u) << "a request that reached the upstream must not be replayed";
  expect_recovered_on_a_new_connection("/reset");
}

TEST_F(Faults, UpstreamResetMidResponseAbortsTheClientConnection) {
  start(ProxySetup{}.with_handler(ok_or([](const RecordedRequest&) {
    Response r;
    r.generated_body = 200'000;
    r.fault = Response::Fault::reset_mid_body;
    r.fault_after_body_bytes = 50'000;
    return r;
  })));
  expect_aborted_download("/reset-mid", 200'000);
  expect_recovered_on_a_new_connection("/reset-mid");
}

TEST_F(Faults, UpstreamStallBeforeHeadersIs504AfterTheUpstreamHeaderTimeout) {
  start(ProxySetup{}
            .with_handler(ok_or([](const RecordedRequest&) {
              Response r = Response::text(200, "too late");
              r.stall_before_header = 5s;
              return r;
            }))
            .with_toml("[timeouts]\nupstream_header_ms = 500\n"));
  auto t0 = clock_type::now();
  auto res = http_get(port(), "/stall");
  auto took = clock_type::now() - t0;
  expect_proxy_error(res, 504, "upstream_timeout");
  EXPECT_GE(took, 450ms);
  EXPECT_LT(took, 3s) << "upstream_header_ms = 500 was not applied";
  // The stalled connection would deliver "too late" to the next request if it were pooled.
  expect_recovered_on_a_new_connection("/stall");
}

TEST_F(Faults, UpstreamStallMidBodyAbortsTheClientAfterTheBodyInactivityTimeout) {
  start(ProxySetup{}
            .with_handler(ok_or([](const RecordedRequest&) {
              Response r;
              r.generated_body = 100'000;
              r.stall_after_body_bytes = 10'000;
              r.stall_mid_body = 5s;
              return r;
            }))
            .with_toml("[timeouts]\nbody_inactivity_ms = 500\n"));
  auto t0 = clock_type::now();
  expect_aborted_download("/stall-body", 100'000);
  EXPECT_LT(clock_type::now() - t0, 4s) << "body_inactivity_ms = 500 was not applied";
  expect_recovered_on_a_new_connection("/stall-body");
}

TEST_F(Faults, UpstreamCloseMidBodyWithContentLengthIsNeverCompleteOnTheClient) {
  start(ProxySetup{}.with_handler(ok_or([](const RecordedRequest&) {
    Response r;
    r.generated_body = 100'000;
    r.fault = Response::Fault::close_mid_body;
    r.fault_after_body_bytes = 30'000;
    return r;
  })));
  expect_aborted_download("/close-mid", 100'000);
  expect_recovered_on_a_new_connection("/close-mid");
}

TEST_F(Faults, UpstreamCloseMidChunkedBodyNeverGetsATerminatingChunk) {
  start(ProxySetup{}.with_handler(ok_or([](const RecordedRequest&) {
    Response r;
    r.generated_body = 100'000;
    r.framing = Response::Framing::chunked;
    r.chunk_size = 4'000;
    r.fault = Response::Fault::close_mid_body;
    r.fault_after_body_bytes = 30'000;
    return r;
  })));
  expect_aborted_download("/close-mid-chunked", 100'000);
  expect_recovered_on_a_new_connection("/close-mid-chunked");
}

TEST_F(Faults, GarbageFromUpstreamIs502UpstreamProtocol) {
  start(ProxySetup{}.with_handler(ok_or([](const RecordedRequest&) {
    Response r = Response::make_fault(Response::Fault::raw_bytes);
    r.raw = "\x16\x03\x01\x00\xff garbage \x00\x01\x02\r\n\r\n"s;
    return r;
  })));
  auto res = http_get(port(), "/garbage");
  expect_proxy_error(res, 502, "upstream_protocol");
  expect_recovered_on_a_new_connection("/garbage");
}

TEST_F(Faults, WrongNameCertificateIs502UpstreamTlsAndNothingIsSent) {
  start(ProxySetup{}.with_upstream_cert(shared_pki().wrong_name));
  for (int i = 0; i < 2; ++i) expect_proxy_error(http_get(port(), "/api/status"), 502, "upstream_tls");
  EXPECT_EQ(upstream().request_count(), 0u);
  EXPECT_EQ(upstream().handshakes(), 0u);
  EXPECT_EQ(http_get(port(), "/__vault-proxy/health").status, 200u);
}

TEST_F(Faults, ExpiredCertificateIs502UpstreamTlsAndNothingIsSent) {
  start(ProxySetup{}.with_upstream_cert(shared_pki().expired));
  for (int i = 0; i < 2; ++i) expect_proxy_error(http_get(port(), "/api/status"), 502, "upstream_tls");
  EXPECT_EQ(upstream().request_count(), 0u);
  EXPECT_EQ(upstream().handshakes(), 0u);
  EXPECT_EQ(http_get(port(), "/__vault-proxy/health").status, 200u);
}

TEST_F(Faults, UpstreamHeaderJustOverTheLimitIs502) {
  start(ProxySetup{}.with_handler(ok_or([](const RecordedRequest&) {
    Response r = Response::text(200, "ok");
    r.padding_header_bytes = 64 * 1024 + 1;
    return r;
  })));
  auto res = http_get(port(), "/big-header");
  expect_proxy_error(res, 502, "upstream_protocol");
  expect_recovered_on_a_new_connection("/big-header");
}

// ---- bytes nobody asked for ----------------------------------------------------------------------

/// An answer whose body is the request's method and target, so a client can tell its own answer.
std::string echo_reply(const RawRequest& r) {
  const std::string body = r.head.substr(0, r.head.find(' ')) + " " + r.target;
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

constexpr std::string_view unsolicited_response = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nunsolicited";

/// Sends `method target` on a new client connection and expects the answer to that request.
void expect_own_answer(std::uint16_t port, const std::string& method, const std::string& target) {
  ClientRequest req;
  req.method = method;
  req.target = target;
  auto res = http_request(port, req);
  EXPECT_EQ(res.status, 200u) << method << " " << target << ": " << res.body;
  EXPECT_EQ(res.body, method + " " + target) << "the answer to another request reached this client";
}

TEST_F(Faults, AResponseNobodyAskedForThatArrivesWithTheAnswerReachesNoClient) {
  // Both TLS records arrive in one segment, so OpenSSL's read-ahead holds the second one while the
  // socket itself is empty.
  raw_ = std::make_unique<RawUpstream>(shared_pki().valid, [](const RawRequest& r) {
    RawReply reply{echo_reply(r)};
    reply.unsolicited = unsolicited_response;
    return reply;
  });
  // One worker, one pool: every request would take the connection the one before it used.
  start(ProxySetup{}.without_upstream().with_env(
      {{"VAULT_PROXY_CONNECT_TO", raw_->address()}, {"VAULT_PROXY_THREADS", "1"}}));
  // GET skips the probe a POST gets; both must see their own answers.
  for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/one"}, {"GET", "/two"}, {"POST", "/three"}, {"GET", "/four"}, {"POST", "/five"}})
    expect_own_answer(port(), method, target);
  EXPECT_EQ(raw_->requests().size(), 5u);
}

TEST_F(Faults, AResponseNobodyAskedForThatArrivesWhileTheConnectionIdlesReachesNoClient) {
  raw_ = std::make_unique<RawUpstream>(shared_pki().valid, [](const RawRequest& r) {
    RawReply reply{echo_reply(r)};
    reply.unsolicited = unsolicited_response;
    reply.unsolicited_delay = 300ms;
    return reply;
  });
  start(ProxySetup{}.without_upstream().with_env(
      {{"VAULT_PROXY_CONNECT_TO", raw_->address()}, {"VAULT_PROXY_THREADS", "1"}}));
  std::size_t sent = 0;
  for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/one"}, {"GET", "/two"}, {"POST", "/three"}, {"GET", "/four"}}) {
    expect_own_answer(port(), method, target);
    // The extra response is in the proxy's socket before the next request takes the connection.
    ASSERT_TRUE(raw_->wait_for_unsolicited(++sent, 5s));
  }
  EXPECT_EQ(raw_->requests().size(), 4u);
}

// ---- client faults ----------------------------------------------------------------------------

TEST_F(Faults, ClientDisconnectMidUploadDiscardsTheUpstreamConnection) {
  // One worker, so there is one pool and the upload is sure to take the pooled connection.
  start(ProxySetup{}.with_env({{"VAULT_PROXY_THREADS", "1"}}));
  ASSERT_TRUE(upstream().wait_for_handshakes(1, 10s));  // the connection the worker opens at start
  expect_healthy();  // leaves it pooled
  ASSERT_EQ(upstream().connections(), 1u);
  {
    HttpClient c(port(), 10s);
    ClientRequest req;
    req.method = "POST";
    req.target = "/upload";
    c.send_header(req, 10'000'000);
    c.send_body_generated(1'000'000, false);
    ASSERT_TRUE(upstream().wait_for_requests(2, 10s));
    c.close();
  }
  // The upstream saw half a request on that connection: the proxy must close it, not pool it.
  EXPECT_TRUE(upstream().wait_for_open_connections_at_most(0, 10s))
      << upstream().open_connections() << " upstream connection(s) still open after the client left mid-upload";
  auto reqs = upstream().requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_FALSE(reqs[1].body_complete) << "the upstream must not see a complete upload";
  EXPECT_LT(reqs[1].body_size, 10'000'000u);

  auto res = http_get(port(), "/ok");
  EXPECT_EQ(res.status, 200u);
  reqs = upstream().requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_NE(reqs[2].connection_id, reqs[1].connection_id) << "the half-written connection was reused";
  EXPECT_EQ(upstream().connections(), 2u);
  EXPECT_EQ(http_get(port(), "/__vault-proxy/health").status, 200u);
}

TEST_F(Faults, ClientDisconnectMidDownloadDiscardsTheUpstreamConnection) {
  start(ProxySetup{}
            .with_handler(ok_or([](const RecordedRequest&) {
              Response r;
              r.generated_body = 256ull * 1024 * 1024;  // far more than the socket buffers hold
              return r;
            }))
            .with_env({{"VAULT_PROXY_THREADS", "1"}}));
  ASSERT_TRUE(upstream().wait_for_handshakes(1, 10s));  // the download takes the one opened at start
  {
    HttpClient c(port(), 10s);
    ClientRequest req;
    req.target = "/download";
    c.send(req);
    ASSERT_FALSE(c.server_closed(5s)) << "no byte of the download arrived";
    c.close();  // unread bytes in the receive queue: the kernel resets the connection
  }
  EXPECT_TRUE(upstream().wait_for_open_connections_at_most(0, 15s))
      << upstream().open_connections() << " upstream connection(s) still open after the client left mid-download";
  auto res = http_get(port(), "/ok");
  EXPECT_EQ(res.status, 200u);
  EXPECT_NE(connection_of("/ok"), connection_of("/download")) << "the interrupted connection was reused";
  EXPECT_EQ(upstream().connections(), 2u);
  EXPECT_EQ(http_get(port(), "/__vault-proxy/health").status, 200u);
}

// ---- chunked relay: the body is neither cut short nor followed by stray bytes -----------------

TEST_F(Faults, ChunkedResponseIsRelayedWholeAndTheConnectionStaysInSync) {
  start(ProxySetup{}.with_handler(ok_or([](const RecordedRequest&) {
    Response r;
    r.generated_body = 20'000;
    r.framing = Response::Framing::chunked;
    r.chunk_size = 1'000;  // twenty chunks, each written separately
    return r;
  })));
  HttpClient c(port(), 10s);
  ClientRequest req;
  req.target = "/chunked";
  c.send(req);
  auto res = c.read_response({.store_body = false});
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(res.body_size, 20'000u) << "the chunked body was cut short (an empty chunk ends a chunked body)";
  EXPECT_EQ(res.body_sha256, PatternBody::sha256(20'000));
  // Stray bytes after the body would be read as the start of the next response.
  req.target = "/ok";
  c.send(req);
  auto next = c.read_response();
  EXPECT_EQ(next.status, 200u);
  EXPECT_EQ(next.body, "ok");
}

TEST_F(Faults, ChunkedUploadArrivesWholeUpstream) {
  start();
  HttpClient c(port(), 10s);
  ClientRequest req;
  req.method = "POST";
  req.target = "/chunked-upload";
  req.chunked = true;
  c.send_generated(req, 20'000, 1'000);
  auto res = c.read_response();
  EXPECT_EQ(res.status, 200u);
  auto reqs = upstream().requests();
  ASSERT_GE(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/chunked-upload");
  EXPECT_TRUE(reqs[0].body_complete);
  EXPECT_EQ(reqs[0].body_size, 20'000u) << "the upstream received a shortened body";
  EXPECT_EQ(reqs[0].body_sha256, PatternBody::sha256(20'000));
  EXPECT_EQ(reqs.size(), 1u) << "the rest of the body reached the upstream as another request";
}

// ---- strict HTTP from the client --------------------------------------------------------------

struct BadRequest {
  std::string name;
  std::string bytes;  ///< `{H}` is replaced by an allowed Host value
  unsigned status;
  std::string code;
};

std::ostream& operator<<(std::ostream& os, const BadRequest& b) { return os << b.name; }

std::string many_fields(std::size_t n, std::size_t value_size) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += "X-F" + std::to_string(i) + ": " + std::string(value_size, 'v') + "\r\n";
  return out;
}

const std::vector<BadRequest>& bad_requests() {
  static const std::vector<BadRequest> cases = {
      // Framing (RFC 9112 §6.1, §6.3): two ways to find the end of a body are a smuggling vector.
      {"ContentLengthThenTransferEncoding",
       "POST /x HTTP/1.1\r\nHost: {H}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
       "bad_request"},
      {"TransferEncodingThenContentLength",
       "POST /x HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400,
       "bad_request"},
      {"TransferEncodingIdentityWithContentLength",
       "POST /x HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: identity\r\nContent-Length: 5\r\n\r\nhello", 400,
       "bad_request"},
      {"ConflictingContentLength",
       "POST /x HTTP/1.1\r\nHost: {H}\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400, "bad_request"},
      {"RepeatedContentLengthSameValue",
       "POST /x HTTP/1.1\r\nHost: {H}\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400, "bad_request"},
      {"ContentLengthListSameValue", "POST /x HTTP/1.1\r\nHost: {H}\r\nContent-Length: 5, 5\r\n\r\nhello", 400,
       "bad_request"},
      {"ContentLengthWithSign", "POST /x HTTP/1.1\r\nHost: {H}\r\nContent-Length: +5\r\n\r\nhello", 400,
       "bad_request"},
      {"TransferEncodingGzipOnly", "POST /x HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: gzip\r\n\r\nhello", 400,
       "bad_request"},
      {"TransferEncodingChunkedNotLast",
       "POST /x HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked, gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400,
       "bad_request"},
      {"TransferEncodingUnknownCoding",
       "POST /x HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400,
       "bad_request"},
      {"TransferEncodingChunkedTwice",
       "POST /x HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       400, "bad_request"},
      {"ChunkSizeNotHex",
       "POST /x HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400,
       "bad_request"},
      {"ChunkSizeOverflow",
       "POST /x HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\nhello\r\n0\r\n\r\n",
       400, "bad_request"},
      {"ChunkSizeEmpty", "POST /x HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n",
       400, "bad_request"},
      // Field syntax (RFC 9112 §5).
      {"ObsFold", "GET /x HTTP/1.1\r\nHost: {H}\r\nX-Folded: a\r\n b\r\n\r\n", 400, "bad_request"},
      {"SpaceBeforeColon", "GET /x HTTP/1.1\r\nHost: {H}\r\nX-A : b\r\n\r\n", 400, "bad_request"},
      {"TabBeforeColon", "GET /x HTTP/1.1\r\nHost: {H}\r\nX-A\t: b\r\n\r\n", 400, "bad_request"},
      {"NulInValue", "GET /x HTTP/1.1\r\nHost: {H}\r\nX-A: a\0b\r\n\r\n"s, 400, "bad_request"},
      {"CrInValue", "GET /x HTTP/1.1\r\nHost: {H}\r\nX-A: a\rb\r\n\r\n", 400, "bad_request"},
      {"LfInValue", "GET /x HTTP/1.1\r\nHost: {H}\r\nX-A: a\nb\r\n\r\n", 400, "bad_request"},
      // Request line (RFC 9112 §3).
      {"MethodWithSeparator", "G(T /x HTTP/1.1\r\nHost: {H}\r\n\r\n", 400, "bad_request"},
      {"MethodWithControl", "GE\x01T /x HTTP/1.1\r\nHost: {H}\r\n\r\n", 400, "bad_request"},
      {"EmptyMethod", " /x HTTP/1.1\r\nHost: {H}\r\n\r\n", 400, "bad_request"},
      {"VersionNotDigits", "GET /x HTTP/1.x\r\nHost: {H}\r\n\r\n", 400, "bad_request"},
      {"VersionLowercase", "GET /x http/1.1\r\nHost: {H}\r\n\r\n", 400, "bad_request"},
      {"VersionWithoutDot", "GET /x HTTP/11\r\nHost: {H}\r\n\r\n", 400, "bad_request"},
      {"VersionMajorTwo", "GET /x HTTP/2.0\r\nHost: {H}\r\n\r\n", 400, "bad_request"},
      // Limits.
      {"RequestLineOver8KiB", "GET /" + std::string(9 * 1024, 'a') + " HTTP/1.1\r\nHost: {H}\r\n\r\n", 414,
       "uri_too_long"},
      {"HeaderBlockOver64KiB", "GET /x HTTP/1.1\r\nHost: {H}\r\n" + many_fields(70, 1000) + "\r\n", 431,
       "header_too_large"},
      {"TooManyFields", "GET /x HTTP/1.1\r\nHost: {H}\r\n" + many_fields(300, 4) + "\r\n", 431, "header_too_large"},
  };
  return cases;
}

class StrictRequest : public Faults, public ::testing::WithParamInterface<BadRequest> {};

TEST_P(StrictRequest, IsRefusedAndNothingReachesTheUpstream) {
  const BadRequest& bad = GetParam();
  start();
  std::string bytes = bad.bytes;
  const std::string host = "127.0.0.1:" + std::to_string(port());
  for (auto pos = bytes.find("{H}"); pos != std::string::npos; pos = bytes.find("{H}"))
    bytes.replace(pos, 3, host);
  {
    HttpClient c(port(), 5s);
    c.send_raw(bytes);
    std::optional<ClientResponse> res;
    try {
      res = c.try_read_response();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "no response, the connection broke: " << e.what();
    }
    if (res) {
      expect_proxy_error(*res, bad.status, bad.code);
      EXPECT_TRUE(c.server_closed(5s)) << "after a malformed request the connection must close";
    } else {
      ADD_FAILURE() << "the proxy closed the connection without answering " << bad.status;
    }
  }
  // Barrier: once /ok has been answered, anything the bad request caused upstream has arrived.
  expect_healthy();
  auto reqs = upstream().requests();
  ASSERT_FALSE(reqs.empty());
  EXPECT_EQ(reqs.size(), 1u) << "the malformed request reached the upstream:\n" << reqs.front().raw_header;
  EXPECT_EQ(reqs.back().target, "/ok");
}

INSTANTIATE_TEST_SUITE_P(Faults, StrictRequest, ::testing::ValuesIn(bad_requests()),
                         [](const auto& info) { return info.param.name; });

// ---- malformed upstream responses -------------------------------------------------------------

struct BadResponse {
  std::string name;
  std::string bytes;
  /// The fault is in the body: after the upstream's header has gone out a 502 is impossible, so
  /// an aborted client connection is also right.
  bool in_body = false;
};

std::ostream& operator<<(std::ostream& os, const BadResponse& b) { return os << b.name; }

const std::vector<BadResponse>& bad_responses() {
  static const std::vector<BadResponse> cases = {
      {"ConflictingContentLength", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!"},
      {"RepeatedContentLengthSameValue", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"},
      {"ContentLengthAndChunked",
       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"},
      {"ObsFold", "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\nok"},
      {"SpaceBeforeColon", "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok"},
      {"NulInValue", "HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 2\r\n\r\nok"s},
      {"StatusCodeTwoDigits", "HTTP/1.1 20 OK\r\nContent-Length: 2\r\n\r\nok"},
      {"StatusCodeFourDigits", "HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok"},
      {"VersionWithoutMinor", "HTTP/2 200 OK\r\nContent-Length: 2\r\n\r\nok"},
      {"NotHttp", "hello there\r\n\r\n"},
      {"ChunkSizeNotHex", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n", true},
  };
  return cases;
}

class MalformedResponse : public Faults, public ::testing::WithParamInterface<BadResponse> {};

TEST_P(MalformedResponse, Is502AndThatUpstreamConnectionIsDiscarded) {
  const BadResponse& bad = GetParam();
  // The bad answer goes out on a connection that the upstream keeps open: only the proxy can
  // decide to drop it.
  raw_ = std::make_unique<RawUpstream>(shared_pki().valid, [bytes = bad.bytes](const RawRequest& r) {
    if (r.target == "/ok") return RawReply{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"};
    return RawReply{bytes};
  });
  // One worker, whose connection opened at start carries /bad: no idle one stays open elsewhere.
  start(ProxySetup{}.without_upstream().with_env(
      {{"VAULT_PROXY_CONNECT_TO", raw_->address()}, {"VAULT_PROXY_THREADS", "1"}}));
  ASSERT_TRUE(raw_->wait_for_handshakes(1, 10s));
  {
    HttpClient c(port(), 5s);
    ClientRequest req;
    req.target = "/bad";
    c.send(req);
    std::optional<ClientResponse> res;
    std::string error;
    try {
      res = c.try_read_response();
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (res) {
      expect_proxy_error(*res, 502, "upstream_protocol");
    } else if (!bad.in_body) {
      ADD_FAILURE() << "no 502: " << (error.empty() ? "connection closed" : error);
    }
  }
  EXPECT_TRUE(raw_->wait_for_open_connections_at_most(0, 5s))
      << "the connection that carried the malformed response is still open (pooled?)";
  auto ok = http_get(port(), "/ok");
  EXPECT_EQ(ok.status, 200u) << ok.body;
  auto reqs = raw_->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_NE(reqs[1].connection_id, reqs[0].connection_id) << "the malformed response's connection was reused";
  EXPECT_EQ(http_get(port(), "/__vault-proxy/health").status, 200u);
}

INSTANTIATE_TEST_SUITE_P(Faults, MalformedResponse, ::testing::ValuesIn(bad_responses()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
