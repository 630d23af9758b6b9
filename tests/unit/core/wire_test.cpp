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
