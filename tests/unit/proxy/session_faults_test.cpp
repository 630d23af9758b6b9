// The session's request loop with the client cut off at every step, in process: run_session over a
// Unix socket pair (the Session is generic over the client's protocol), never an upstream. Each run
// must end: the coroutine completes, the worker forgets the session, no relay block stays lent, and
// the client got either nothing or one complete, defined answer (ASan checks for leaks).
//
// Why not beast::test::stream and fail_count, as read_header_faults_test does: Session<Protocol>
// takes `Protocol::socket` and wraps it in net_util::DeadlineStream (which cancels and closes the
// socket itself), and its upstream side is net_upstream::Connection, a TlsStream over a tcp::socket
// that the connector dials. Neither is a template parameter, so the test stream fits neither side;
// the relay steps of exchange.cpp are members of the same Session. What is generic is tested here
// (the client's protocol) and in read_header_faults_test (read_header over any stream); the relay
// with a failing upstream is covered on loopback by tests/integration/faults_test.cpp.

#include "core/credentials.hpp"
#include "net/tls.hpp"
#include "proxy/worker.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

namespace vp::proxy {
namespace {

using local = net::local::stream_protocol;

/// How the client ends its side.
enum class ClientEnd {
  shut_send,  ///< stops sending after its bytes, then reads the answer to the end
  vanish,     ///< closes the socket at once after its bytes, reading nothing
};

struct Conversation {
  bool session_ended = false;
  std::string answer;  ///< every byte the session sent
};

class SessionFaults : public ::testing::Test {
 protected:
  SessionFaults() {
    cfg_.access_log = false;
    shared_.policy.check_host = false;
  }

  /// One session over a socket pair; the client sends `bytes` and ends as `end` says.
  Conversation converse(std::string_view bytes, ClientEnd end) {
    Worker w(shared_);
    local::socket client(w.ioc), server(w.ioc);
    net::local::connect_pair(client, server);
    Conversation c;
    net::co_spawn(w.ioc, run_session(w, std::move(server)), [&](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
      c.session_ended = true;
    });
    net::co_spawn(w.ioc, talk(client, bytes, end, c.answer), net::detached);
    w.ioc.run_for(std::chrono::seconds(10));
    EXPECT_TRUE(w.sessions.empty()) << "the worker still lists the session";
    EXPECT_EQ(w.blocks.lent(), 0u) << "a relay block was not given back";
    return c;
  }

  /// Every cut of `request` short of its end, then the whole of it.
  void cut_everywhere(const std::string& request, std::string_view whole_answer_starts) {
    for (std::size_t cut = 0; cut <= request.size(); ++cut) {
      SCOPED_TRACE(cut);
      auto c = converse(std::string_view(request).substr(0, cut), ClientEnd::shut_send);
      ASSERT_TRUE(c.session_ended);
      if (cut == request.size()) {
        EXPECT_TRUE(c.answer.starts_with(whole_answer_starts)) << c.answer.substr(0, 40);
      } else {
        // A header cut short is a client that left: no answer. A body cut short after a
        // complete header may still be answered, but only as a whole response.
        EXPECT_TRUE(c.answer.empty() || complete(c.answer)) << c.answer.substr(0, 40);
      }
    }
  }

  /// One whole response: a header block and exactly Content-Length body bytes.
  static bool complete(const std::string& answer) {
    auto end = answer.find("\r\n\r\n");
    auto cl = answer.find("Content-Length: ");
    if (!answer.starts_with("HTTP/1.1 ") || end == std::string::npos || cl == std::string::npos || cl > end)
      return false;
    return answer.size() - end - 4 == std::stoul(answer.substr(cl + 16));
  }

  config::Config cfg_;
  core::CredentialStore creds_;  // empty: nothing can go upstream
  Shared shared_{cfg_, creds_, net_tls::make_client_context(std::nullopt)};

 private:
  static net::awaitable<void> talk(local::socket& s, std::string_view bytes, ClientEnd end, std::string& answer) {
    // A write that fails (the session already closed) ends the talk like any other.
    co_await net::async_write(s, net::buffer(bytes.data(), bytes.size()), net::as_tuple(net::use_awaitable));
    error_code ignored;
    if (end == ClientEnd::vanish) {
      s.close(ignored);
      co_return;
    }
    s.shutdown(local::socket::shutdown_send, ignored);
    char buf[4096];
    for (;;) {
      auto [ec, got] = co_await s.async_read_some(net::buffer(buf), net::as_tuple(net::use_awaitable));
      answer.append(buf, got);
      if (ec) break;
    }
  }
};

const std::string health = "GET /__vault-proxy/health HTTP/1.1\r\nHost: localhost\r\n\r\n";
const std::string forwarded = "GET /api/status HTTP/1.1\r\nHost: localhost\r\n\r\n";
const std::string with_body = "POST /api/v1/x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n0123456789";

TEST_F(SessionFaults, ALocalEndpointRequestCutAnywhereEndsTheSession) {
  cut_everywhere(health, "HTTP/1.1 200 ");
}

TEST_F(SessionFaults, AForwardedRequestCutAnywhereEndsTheSessionAndWithoutCredentialsIs503) {
  cut_everywhere(forwarded, "HTTP/1.1 503 ");
}

TEST_F(SessionFaults, ABodyCutAnywhereEndsTheSession) {
  cut_everywhere(with_body, "HTTP/1.1 503 ");
}

TEST_F(SessionFaults, ASecondPipelinedRequestCutAnywhereLeavesTheFirstAnswered) {
  for (std::size_t cut = 0; cut < health.size(); ++cut) {
    SCOPED_TRACE(cut);
    auto c = converse(health + health.substr(0, cut), ClientEnd::shut_send);
    ASSERT_TRUE(c.session_ended);
    ASSERT_TRUE(c.answer.starts_with("HTTP/1.1 200 ")) << c.answer.substr(0, 40);
    EXPECT_TRUE(complete(c.answer)) << "one answer, whole, and nothing for the cut request";
  }
}

TEST_F(SessionFaults, AMalformedRequestCutAnywhereEndsTheSessionAndWholeIs400) {
  cut_everywhere("GET / HTTP/1.1\r\nHost: localhost\r\nX-A: 1\r\n folded\r\n\r\n", "HTTP/1.1 400 ");
}

TEST_F(SessionFaults, AClientThatVanishesBeforeTheAnswerEndsTheSession) {
  for (const auto* request : {&health, &forwarded, &with_body}) {
    for (std::size_t cut : {std::size_t(0), request->size() / 2, request->size()}) {
      SCOPED_TRACE(*request + " cut at " + std::to_string(cut));
      auto c = converse(std::string_view(*request).substr(0, cut), ClientEnd::vanish);
      EXPECT_TRUE(c.session_ended);
    }
  }
}

}  // namespace
}  // namespace vp::proxy
