// net_upstream::Pool: a connection on which bytes wait, or arrive while it idles, is never handed out
// again (issue 11, item 5). Loopback TCP without TLS: the pool's checks look at the connection's
// buffer, OpenSSL's (empty before a handshake) and the socket.

#include "net/tls.hpp"
#include "net/upstream.hpp"

#include <poll.h>

#include <gtest/gtest.h>

#include <functional>

namespace vp::net_upstream {
namespace {

class UpstreamPool : public ::testing::Test {
 protected:
  /// A connection to a loopback peer (`peer_`), attached the way connect() attaches one.
  std::unique_ptr<Connection> connection() {
    auto c = std::make_unique<Connection>(ioc_.get_executor(), *tls_, live_);
    c->stream.socket().connect(acceptor_.local_endpoint());
    peer_ = acceptor_.accept();
    error_code ec;
    c->stream.attach(ec);
    EXPECT_FALSE(ec) << ec.message();
    return c;
  }

  /// Waits until `c`'s socket has something to read (bytes or the peer's FIN).
  static void wait_readable(Connection& c) {
    pollfd p{c.stream.socket().native_handle(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 5000), 1) << "nothing arrived";
  }

  /// Pools a quiet connection, lets its peer `act` while it idles, then asks the pool for one.
  std::unique_ptr<Connection> take_after_peer(const std::function<void(tcp::socket&)>& act) {
    auto c = connection();
    auto& conn = *c;
    pool_.give_back(std::move(c));
    EXPECT_EQ(pool_.idle_count(), 1u);
    act(peer_);
    wait_readable(conn);
    return pool_.take_idle();
  }

  net::io_context ioc_;
  std::shared_ptr<ssl::context> tls_ = net_tls::make_client_context(std::nullopt);
  config::Config cfg_;
  Pool pool_{ioc_.get_executor(), tls_, cfg_};
  std::shared_ptr<std::size_t> live_ = std::make_shared<std::size_t>(0);
  tcp::acceptor acceptor_{ioc_, {net::ip::make_address("127.0.0.1"), 0}};
  tcp::socket peer_{ioc_};
};

TEST_F(UpstreamPool, AQuietConnectionIsPooledAndHandedOutAgain) {
  auto c = connection();
  auto* raw = c.get();
  pool_.give_back(std::move(c));
  EXPECT_EQ(pool_.idle_count(), 1u);
  EXPECT_EQ(pool_.take_idle().get(), raw);
  EXPECT_EQ(pool_.stats().reuses, 1u);
}

TEST_F(UpstreamPool, BytesLeftInTheConnectionsBufferKeepItOutOfThePool) {
  auto c = connection();
  auto extra = c->buffer.prepare(16);
  std::memcpy(extra.data(), "HTTP/1.1 200 OK\r", 16);
  c->buffer.commit(16);
  pool_.give_back(std::move(c));
  EXPECT_EQ(pool_.idle_count(), 0u);
  EXPECT_EQ(pool_.stats().unread_dropped, 1u);
}

TEST_F(UpstreamPool, BytesThatArriveWhileTheConnectionIdlesGetItDropped) {
  EXPECT_EQ(take_after_peer([](tcp::socket& peer) {
              net::write(peer, net::buffer(std::string_view("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")));
            }),
            nullptr);
  EXPECT_EQ(pool_.idle_count(), 0u);
  EXPECT_EQ(pool_.stats().stale_dropped, 1u);
}

TEST_F(UpstreamPool, APeerThatClosedWhileTheConnectionIdledGetsItDropped) {
  EXPECT_EQ(take_after_peer([](tcp::socket& peer) { peer.shutdown(tcp::socket::shutdown_send); }), nullptr);
  EXPECT_EQ(pool_.stats().stale_dropped, 1u);
}

TEST_F(UpstreamPool, OnlyTheSpoiltConnectionIsDroppedTheNextOneIsHandedOut) {
  auto older = connection();
  auto* older_raw = older.get();
  auto older_peer = std::move(peer_);
  auto newer = connection();
  auto& newer_conn = *newer;
  pool_.give_back(std::move(older));
  pool_.give_back(std::move(newer));
  net::write(peer_, net::buffer(std::string_view("x")));  // to the warmest connection, taken first
  wait_readable(newer_conn);
  EXPECT_EQ(pool_.take_idle().get(), older_raw);
  EXPECT_EQ(pool_.stats().stale_dropped, 1u);
}

}  // namespace
}  // namespace vp::net_upstream
