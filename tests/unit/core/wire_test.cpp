// core/wire: the flat header serialisation must produce exactly the bytes Beast's serializer did.

#include "core/wire.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace vp {
namespace {

template <bool isRequest>
std::string beast_bytes(const http::header<isRequest>& h) {
  http::message<isRequest, http::empty_body> m(h);
  std::ostringstream os;
  os << m.base();
  return os.str();
}

TEST(Wire, RequestHeaderMatchesBeast) {
  http::request_header<> req;
  req.method(http::verb::post);
  req.target("/api/v3/secrets/raw?environment=dev&x=%2F");
  req.version(11);
  req.set(http::field::host, "vault.example.com");
  req.set(http::field::user_agent, "vault-proxy/1");
  req.insert("X-Custom", "a, b");
  req.insert("x-custom", "second");
  req.set(http::field::content_length, "12");
  std::string out;
  core::append_request_header(out, req);
  EXPECT_EQ(out, beast_bytes(req));
  EXPECT_EQ(out.substr(0, 48), "POST /api/v3/secrets/raw?environment=dev&x=%2F H");
  EXPECT_TRUE(out.ends_with("Content-Length: 12\r\n\r\n"));
}

// The proxy strips the client's header (strip_request) and writes the injected fields with the
// bytes (issue 17); that must be what rewrite_request followed by Beast's serializer writes, for
// hostile headers too: every client copy of Host, User-Agent and CF-Access-* gone, one of each sent.
TEST(Wire, InjectedFieldsWrittenWithTheBytesMatchRewriteRequest) {
  core::ServiceToken tok;
  tok.client_id = core::Secret("id-0123.access");
  tok.client_secret = core::Secret("secret-0123");
  const std::vector<std::vector<std::pair<std::string, std::string>>> inputs{
      {{"Host", "127.0.0.1:2019"}, {"Accept", "*/*"}},
      {{"host", "a"}, {"HOST", "b"}, {"User-Agent", "curl"}, {"user-agent", "again"}},
      {{"CF-Access-Client-Id", "forged"}, {"cf-access-client-secret", "forged"}, {"X-Kept", "1"}},
      {{"Connection", "Host, X-Drop"}, {"X-Drop", "1"}, {"Host", "h"}, {"Cookie", "a=1; CF_Authorization=x"}},
      {{"Authorization", "Bearer vpl_placeholder"}, {"Accept", "*/*"}},
      {{"authorization", "Bearer a"}, {"Authorization", "Bearer b"}},
      {},
  };
  const core::Secret real("eyJreal.token");
  for (const core::ServiceToken* token : {static_cast<const core::ServiceToken*>(&tok), static_cast<const core::ServiceToken*>(nullptr)})
  for (const core::Secret* bearer : {static_cast<const core::Secret*>(nullptr), &real}) {
    const core::Injection inj{"vault.example.com", "vault-proxy/1", token, bearer};
    for (const auto& fields : inputs) {
      http::request_header<> req;
      req.method(http::verb::get);
      req.target("/api/status");
      req.version(11);
      for (const auto& [n, v] : fields) req.insert(n, v);
      auto rewritten = req;
      auto stripped = req;
      auto a = core::rewrite_request(rewritten, inj);
      auto b = core::strip_request(stripped, inj);
      EXPECT_EQ(a.injected, b.injected);
      EXPECT_EQ(a.bearer_replaced, b.bearer_replaced);
      EXPECT_EQ(a.bearer_replaced, bearer != nullptr);
      EXPECT_EQ(a.client_credentials_removed, b.client_credentials_removed);
      std::string out;
      core::append_request_header(out, stripped, &inj);
      EXPECT_EQ(out, beast_bytes(rewritten));
      EXPECT_EQ(stripped.count(http::field::host) + stripped.count(http::field::user_agent), 0u);
    }
  }
}

TEST(Wire, UnknownMethodKeepsItsSpelling) {
  http::request_header<> req;
  req.method_string("PROPFIND");
  req.target("/");
  req.version(11);
  std::string out;
  core::append_request_header(out, req);
  EXPECT_EQ(out, "PROPFIND / HTTP/1.1\r\n\r\n");
}

TEST(Wire, ResponseHeaderMatchesBeastAndKeepsTheReasonPhrase) {
  http::response_header<> res;
  res.result(404);
  res.reason("Nope");
  res.version(10);
  res.set(http::field::content_type, "application/json");
  std::string out;
  core::append_response_header(out, res);
  EXPECT_EQ(out, "HTTP/1.0 404 Nope\r\nContent-Type: application/json\r\n\r\n");
  EXPECT_EQ(out, beast_bytes(res));
}

TEST(Wire, EmptyReasonGetsTheStandardOne) {
  http::response_header<> res;
  res.result(http::status::service_unavailable);
  res.version(11);
  std::string out;
  core::append_response_header(out, res);
  EXPECT_EQ(out, "HTTP/1.1 503 Service Unavailable\r\n\r\n");
}

TEST(Wire, UnregisteredStatusCode) {
  http::response_header<> res;
  res.result(599);
  res.version(11);
  std::string out;
  core::append_response_header(out, res);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 599 ")) << out;
  EXPECT_TRUE(out.ends_with("\r\n\r\n"));
}

TEST(Wire, ChunkSizeIsLowerCaseHex) {
  std::string out;
  core::append_chunk_size(out, 0x4000);
  core::append_chunk_size(out, 1);
  core::append_chunk_size(out, 0xabcdef);
  EXPECT_EQ(out, "4000\r\n1\r\nabcdef\r\n");
}

TEST(Wire, AppendsWithoutClearing) {
  std::string out = "keep";
  http::request_header<> req;
  req.method(http::verb::get);
  req.target("/x");
  req.version(11);
  core::append_request_header(out, req);
  EXPECT_EQ(out, "keepGET /x HTTP/1.1\r\n\r\n");
}

}  // namespace
}  // namespace vp
