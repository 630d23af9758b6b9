// net_upstream::Pool::connect() failing at each step after the name is resolved, against a
// loopback peer that misbehaves at that step: nothing listens (TCP connect), the peer closes at
// once, stays silent, or answers the ClientHello with something that is not TLS (handshake). Each
// ends with no connection, the one error code the proxy answers with, a reason naming the address,
// and no connection left open in the pool's count. (The connector's streams are not templates, so
// beast::test::stream cannot stand in for the socket here; see docs/architecture.md.)

#include "net/tls.hpp"
#include "net/upstream.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>

namespace vp::net_upstream {
namespace {

using namespace std::chrono_literals;

/// What the peer does with the connection it accepts.
using PeerAct = std::function<net::awaitable<void>(tcp::socket&)>;

class PoolConnectFaults : public ::testing::Test {
 protected:
  PoolConnectFaults() {
    cfg_.upstream.host = "vault.example";
    cfg_.timeouts.connect = 2s;
    cfg_.timeouts.tls_handshake = 300ms;
  }

  /// Pool::connect() to a loopback peer that accepts one connection and then `act`s; with no
  /// `act`, nothing listens on the port.
  ConnectResult connect_to_peer(const std::optional<PeerAct>& act) {
    tcp::acceptor acceptor(ioc_, {net::ip::make_address("127.0.0.1"), 0});
    port_ = acceptor.local_endpoint().port();
    if (!act) acceptor.close();
    cfg_.connect_to = config::ConnectTo{"127.0.0.1", port_};
    tcp::socket peer(ioc_);
    if (act) {
      net::co_spawn(ioc_, [&]() -> net::awaitable<void> {
        co_await acceptor.async_accept(peer, net::use_awaitable);
        co_await (*act)(peer);
      }, net::detached);
    }
    std::optional<ConnectResult> out;
    net::co_spawn(ioc_, pool_.connect(), [&](std::exception_ptr e, ConnectResult r) {
      if (e) std::rethrow_exception(e);
      out = std::move(r);
      error_code ignored;
      peer.close(ignored);  // the peer has done its part; a waiting read ends
      acceptor.close(ignored);
    });
    ioc_.run_for(10s);
    return std::move(out.value());
  }

  void expect_failure(const ConnectResult& r, core::ErrorCode code) {
    EXPECT_EQ(r.connection, nullptr);
    ASSERT_TRUE(r.error);
    EXPECT_EQ(*r.error, code) << core::code_name(*r.error) << ": " << r.detail;
    EXPECT_NE(r.detail.find("127.0.0.1:" + std::to_string(port_)), std::string::npos) << r.detail;
    EXPECT_EQ(*pool_.live(), 0u) << "a failed connection is still counted open";
    EXPECT_EQ(pool_.stats().connects, 1u);
    EXPECT_EQ(pool_.idle_count(), 0u);
  }

  net::io_context ioc_;
  config::Config cfg_;
  Pool pool_{ioc_.get_executor(), net_tls::make_client_context(std::nullopt), cfg_};
  std::uint16_t port_ = 0;
};

/// Reads what the client sent first (its ClientHello), so that the next act follows it.
net::awaitable<void> read_hello(tcp::socket& peer) {
  char hello[4096];
  co_await peer.async_read_some(net::buffer(hello), net::as_tuple(net::use_awaitable));
}

TEST_F(PoolConnectFaults, NothingListensIsUpstreamConnect) {
  expect_failure(connect_to_peer(std::nullopt), core::ErrorCode::upstream_connect);
}

TEST_F(PoolConnectFaults, APeerThatClosesAtOnceIsUpstreamTls) {
  expect_failure(connect_to_peer([](tcp::socket& peer) -> net::awaitable<void> {
                   peer.close();
                   co_return;
                 }),
                 core::ErrorCode::upstream_tls);
}

TEST_F(PoolConnectFaults, APeerThatClosesAfterTheClientHelloIsUpstreamTls) {
  expect_failure(connect_to_peer([](tcp::socket& peer) -> net::awaitable<void> {
                   co_await read_hello(peer);
                   peer.close();
                 }),
                 core::ErrorCode::upstream_tls);
}

TEST_F(PoolConnectFaults, APeerThatAnswersWithoutTlsIsUpstreamTls) {
  expect_failure(connect_to_peer([](tcp::socket& peer) -> net::awaitable<void> {
                   co_await read_hello(peer);
                   co_await net::async_write(peer, net::buffer(std::string_view("HTTP/1.1 400 Bad Request\r\n\r\n")),
                                             net::as_tuple(net::use_awaitable));
                 }),
                 core::ErrorCode::upstream_tls);
}

TEST_F(PoolConnectFaults, APeerThatStaysSilentIsUpstreamTimeout) {
  expect_failure(connect_to_peer([](tcp::socket& peer) -> net::awaitable<void> {
                   co_await read_hello(peer);
                   co_await read_hello(peer);  // until the client gives up and the socket closes
                 }),
                 core::ErrorCode::upstream_timeout);
}

}  // namespace
}  // namespace vp::net_upstream
