// What one connection can make the proxy hold (issue 11, item 4). Beast puts no limit on a
// chunk-size line (its extensions) or on the trailer section; the proxy's read buffers do. Each test
// sends 256 MiB of one of them through one connection, from the client or from the upstream, and
// checks that the exchange ends (431 / 502, or a reset once bytes have gone on), that the proxy's
// peak RSS stays flat, and that the proxy serves the next request.

#include "support/proxy_fixture.hpp"
#include "support/raw_upstream.hpp"
#include "support/rss.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace {

using namespace vp::test;
using namespace std::chrono_literals;

constexpr std::uint64_t hostile_size = 256ull * 1024 * 1024;
constexpr std::size_t piece_size = 1024 * 1024;

/// `line` repeated to fill `size` bytes (whole lines only).
std::string repeated(const std::string& line, std::size_t size) {
  std::string out;
  out.reserve(size);
  while (out.size() + line.size() <= size) out += line;
  return out;
}

/// A trailer field line of 4 KiB.
const std::string trailer_line = "X-Trailer: " + std::string(4096 - 13, 't') + "\r\n";

/// Writes `piece` until `total` bytes are sent or a write fails (the proxy closed the connection);
/// returns the bytes sent.
std::uint64_t send_until_refused(HttpClient& c, const std::string& piece, std::uint64_t total) {
  std::uint64_t sent = 0;
  try {
    while (sent < total) {
      c.send_raw(piece);
      sent += piece.size();
    }
  } catch (const std::exception&) {
  }
  return sent;
}

/// Gives `piece` to the upstream's writer until `total` bytes.
std::function<std::string()> pieces_of(std::string piece, std::uint64_t total) {
  return [piece = std::move(piece), total, given = std::uint64_t{0}]() mutable {
    if (given >= total) return std::string();
    given += piece.size();
    return piece;
  };
}

class Limits : public ProxyTest {
 protected:
  /// A chunked POST of a few bytes, to warm the request-body path before RSS is measured.
  void warm_up() {
    // After the connection the worker opens at start, so that the warm-up takes it.
    ASSERT_TRUE(upstream().wait_for_handshakes(1, 10s));
    ClientRequest warm;
    warm.method = "POST";
    warm.target = "/warm";
    warm.chunked = true;
    warm.body = "warm";
    ASSERT_EQ(http_request(port(), warm).status, 200u);
  }

  /// The request head of a chunked POST to `target`.
  std::string chunked_post(const std::string& target) {
    return "POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port()) +
           "\r\nTransfer-Encoding: chunked\r\n\r\n";
  }

  /// After a refused body: the client saw no success, and its connection ended.
  static void expect_refused(HttpClient& c, std::optional<unsigned> status) {
    std::optional<ClientResponse> res;
    try {
      res = c.try_read_response();
    } catch (const std::exception&) {
      // A reset may overtake the answer.
    }
    if (res) {
      if (status)
        EXPECT_EQ(res->status, *status) << res->body;
      else
        ADD_FAILURE() << "the client got an answer (" << res->status << ") to a request the upstream saw half of";
    }
    EXPECT_TRUE(c.server_closed(5s)) << "the connection must end after a refused body";
  }

  /// An upstream that answers GET /ok, and any other request with `head` followed by `piece` until
  /// 256 MiB have gone (or the proxy closed), then closes; the proxy, pointed at it and warmed up.
  /// Returns the proxy's RSS after the warm-up.
  std::uint64_t start_with_hostile_upstream(std::string head, std::string piece) {
    raw_ = std::make_unique<RawUpstream>(shared_pki().valid, [head, piece](const RawRequest& r) {
      if (r.target == "/ok") return RawReply{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"};
      RawReply reply{head};
      reply.more = pieces_of(piece, hostile_size);
      reply.close_after = true;
      return reply;
    });
    start(ProxySetup{}.without_upstream().with_env(rss_child_env()).with_env(
        {{"VAULT_PROXY_CONNECT_TO", raw_->address()}}));
    EXPECT_EQ(http_get(port(), "/ok").status, 200u);
    return proxy().status_kb("VmRSS").value_or(0);
  }

  /// GET `target` on `c`: the answer, or nullopt with the reason in `why`.
  static std::optional<ClientResponse> get(HttpClient& c, const std::string& target, std::string& why) {
    ClientRequest req;
    req.target = target;
    c.send(req);
    try {
      auto res = c.try_read_response();
      if (!res) why = "the connection closed before an answer";
      return res;
    } catch (const std::exception& e) {
      why = e.what();
      return std::nullopt;
    }
  }

  std::unique_ptr<RawUpstream> raw_;
};

// ---- from the client ----------------------------------------------------------------------------

TEST_F(Limits, ChunkExtensionOf256MiBFromTheClientIs431AndRssStaysFlat) {
  start(ProxySetup{}.with_env(rss_child_env()));
  warm_up();
  const auto before = proxy().status_kb("VmRSS").value_or(0);
  {
    HttpClient c(port(), 10s);
    c.send_raw(chunked_post("/extension") + "1;ext=");
    const auto sent = send_until_refused(c, std::string(piece_size, 'e'), hostile_size);
    EXPECT_LT(sent, hostile_size) << "the proxy read the whole 256 MiB chunk extension";
    if (sent < hostile_size) expect_refused(c, 431u);
  }
  expect_flat_rss(proxy(), before, "a 256 MiB chunk extension");
  auto res = http_get(port(), "/ok");
  EXPECT_EQ(res.status, 200u) << res.body;
  for (const auto& r : upstream().requests())
    EXPECT_NE(r.target, "/extension") << "a body refused in its first chunk-size line reached the upstream";
}

TEST_F(Limits, TrailerSectionOf256MiBFromTheClientResetsBothSidesAndRssStaysFlat) {
  // One worker: the upload takes the warm-up's pooled connection, whose closing the test waits for.
  start(ProxySetup{}.with_env(rss_child_env()).with_env({{"VAULT_PROXY_THREADS", "1"}}));
  warm_up();
  const auto before = proxy().status_kb("VmRSS").value_or(0);
  {
    HttpClient c(port(), 10s);
    c.send_raw(chunked_post("/trailers") + "1\r\na\r\n");
    // The header and the first piece have gone upstream: from here a refusal must reset both sides.
    ASSERT_TRUE(upstream().wait_for_requests(2, 10s));
    c.send_raw("0\r\n");
    const auto sent = send_until_refused(c, repeated(trailer_line, piece_size), hostile_size);
    EXPECT_LT(sent, hostile_size) << "the proxy read the whole 256 MiB trailer section";
    if (sent < hostile_size) expect_refused(c, std::nullopt);
  }
  expect_flat_rss(proxy(), before, "a 256 MiB trailer section");
  EXPECT_TRUE(upstream().wait_for_open_connections_at_most(0, 10s))
      << "the upstream connection that carried half a request is still open";
  auto reqs = upstream().requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].target, "/trailers");
  EXPECT_FALSE(reqs[1].body_complete) << "the upstream must never see a complete request";
  auto res = http_get(port(), "/ok");
  EXPECT_EQ(res.status, 200u) << res.body;
}

// ---- from the upstream --------------------------------------------------------------------------

TEST_F(Limits, ChunkExtensionOf256MiBFromTheUpstreamIs502AndRssStaysFlat) {
  const auto before = start_with_hostile_upstream("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;ext=",
                                                  std::string(piece_size, 'e'));
  {
    HttpClient c(port(), 20s);
    std::string why;
    auto res = get(c, "/extension", why);
    // Nothing of the body could be relayed, so the client gets a whole answer.
    if (res) {
      EXPECT_EQ(res->status, 502u) << res->body;
      EXPECT_EQ(res->header("X-Vault-Proxy-Error").value_or(""), "upstream_protocol");
    } else {
      ADD_FAILURE() << "no 502: " << why;
    }
  }
  expect_flat_rss(proxy(), before, "a 256 MiB chunk extension from the upstream");
  EXPECT_EQ(http_get(port(), "/ok").status, 200u);
}

TEST_F(Limits, TrailerSectionOf256MiBFromTheUpstreamResetsTheClientAndRssStaysFlat) {
  // A first chunk as large as the relay block, so the header and that chunk reach the client
  // before the trailers begin.
  const auto before = start_with_hostile_upstream(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000\r\n" + std::string(0x10000, 'b') + "\r\n0\r\n",
      repeated(trailer_line, piece_size));
  {
    HttpClient c(port(), 20s);
    std::string why;
    // Once the header has gone out, a cut-off body is what the client must see.
    if (auto res = get(c, "/trailers", why)) {
      EXPECT_EQ(res->status, 502u) << "the client saw a complete-looking " << res->status << " with "
                                   << res->body_size << " body bytes";
    }
    EXPECT_TRUE(c.server_closed(5s));
  }
  expect_flat_rss(proxy(), before, "a 256 MiB trailer section from the upstream");
  EXPECT_EQ(http_get(port(), "/ok").status, 200u);
}

}  // namespace
