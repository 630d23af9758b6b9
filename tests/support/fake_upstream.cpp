#include "support/fake_upstream.hpp"

#include "support/digest.hpp"
#include "support/open_connections.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

namespace vp::test {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using net::awaitable;
using net::use_awaitable;
constexpr auto tuple_awaitable = net::as_tuple(net::use_awaitable);

Response Response::text(unsigned status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.headers.push_back({"Content-Type", std::move(content_type)});
  r.body = std::move(body);
  return r;
}

Response Response::make_fault(Fault f, std::uint64_t after_body_bytes) {
  Response r;
  r.fault = f;
  r.fault_after_body_bytes = after_body_bytes;
  return r;
}

namespace {

using Stream = beast::ssl_stream<beast::tcp_stream>;

bool has_body(const std::string& method, unsigned status) {
  if (method == "HEAD") return false;
  return !(status < 200 || status == 204 || status == 304);
}

std::string reason_for(unsigned status) {
  auto r = http::obsolete_reason(static_cast<http::status>(status));
  return r.empty() ? std::string("Unknown") : std::string(r);
}

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

struct FakeUpstream::Impl {
  // Declared before the io_context: coroutine frames still pending at shutdown are destroyed with
  // it, and their guards touch these.
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  Handler handler;
  std::vector<RecordedRequest> recorded;
  std::size_t sequence = 0;

  std::atomic<std::size_t> n_connections{0};
  std::atomic<std::size_t> n_handshakes{0};
  std::atomic<std::size_t> n_failed_handshakes{0};
  OpenConnections open;

  Options options;
  ssl::context tls{ssl::context::tls_server};
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::uint16_t port = 0;
  std::thread thread;

  std::uint64_t next_connection_id = 1;  // io thread only
  std::vector<std::weak_ptr<Stream>> sessions;  // io thread only
  bool stopping = false;                        // io thread only

  Impl(Options o, Handler h) : handler(std::move(h)), options(std::move(o)) {
    if (!handler) handler = [](const RecordedRequest&) { return Response::text(200, "ok"); };
    tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    tls.use_certificate_chain_file(options.cert.cert);
    tls.use_private_key_file(options.cert.key, ssl::context::pem);

    tcp::endpoint ep(net::ip::make_address("127.0.0.1"), options.port);
    acceptor.open(ep.protocol());
    acceptor.set_option(net::socket_base::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen(net::socket_base::max_listen_connections);
    port = acceptor.local_endpoint().port();

    net::co_spawn(ioc, accept_loop(), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
    thread = std::thread([this] { ioc.run(); });
  }

  ~Impl() {
    std::promise<void> closed;
    auto done = closed.get_future();
    net::post(ioc, [this, &closed] {
      stopping = true;
      beast::error_code ec;
      acceptor.close(ec);
      for (auto& w : sessions)
        if (auto s = w.lock()) beast::get_lowest_layer(*s).socket().close(ec);
      closed.set_value();
    });
    done.wait_for(std::chrono::seconds(5));
    ioc.stop();
    if (thread.joinable()) thread.join();
  }

  awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, sock] = co_await acceptor.async_accept(tuple_awaitable);
      if (ec) {
        if (stopping || ec == net::error::operation_aborted) co_return;
        continue;
      }
      ++n_connections;
      std::uint64_t id = next_connection_id++;
      auto stream = std::make_shared<Stream>(std::move(sock), tls);
      std::erase_if(sessions, [](const auto& w) { return w.expired(); });
      sessions.push_back(stream);
      net::co_spawn(ioc, session(stream, id), [this](std::exception_ptr e) {
        // A throwing session is a bug in this file; surface it instead of losing it.
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            std::fprintf(stderr, "fake upstream session threw: %s\n", ex.what());
          }
        }
      });
    }
  }

  awaitable<void> wait_ms(std::chrono::milliseconds d) {
    if (d.count() <= 0) co_return;
    net::steady_timer t(ioc, d);
    co_await t.async_wait(tuple_awaitable);
  }

  awaitable<bool> write_all(Stream& s, std::string_view data) {
    beast::get_lowest_layer(s).expires_after(std::chrono::seconds(60));
    auto [ec, n] = co_await net::async_write(s, net::buffer(data), tuple_awaitable);
    co_return !ec;
  }

  static void hard_close(Stream& s) {
    beast::error_code ec;
    auto& sock = beast::get_lowest_layer(s).socket();
    sock.shutdown(tcp::socket::shutdown_both, ec);
    sock.close(ec);
  }

  static void reset(Stream& s) {
    beast::error_code ec;
    auto& sock = beast::get_lowest_layer(s).socket();
    sock.set_option(net::socket_base::linger(true, 0), ec);
    sock.close(ec);
  }

  awaitable<void> graceful_close(Stream& s) {
    // Send close_notify so close-delimited bodies end cleanly (RFC 8446 §6.1), but do not wait long
    // for the peer's.
    beast::get_lowest_layer(s).expires_after(std::chrono::milliseconds(500));
    co_await s.async_shutdown(tuple_awaitable);
    hard_close(s);
  }

  void record(RecordedRequest r) {
    {
      std::lock_guard lock(mu);
      r.sequence = sequence++;
      recorded.push_back(std::move(r));
    }
    cv.notify_all();
  }

  void update_last(std::size_t seq, const RecordedRequest& r) {
    {
      std::lock_guard lock(mu);
      for (auto& x : recorded)
        if (x.sequence == seq) {
          std::size_t keep = x.sequence;
          x = r;
          x.sequence = keep;
        }
    }
    cv.notify_all();
  }

  awaitable<void> session(std::shared_ptr<Stream> sp, std::uint64_t conn_id) {
    open.opened();
    OpenConnections::Guard closed(open);
    Stream& s = *sp;

    beast::get_lowest_layer(s).expires_after(std::chrono::seconds(10));
    auto [hec] = co_await s.async_handshake(ssl::stream_base::server, tuple_awaitable);
    if (hec) {
      ++n_failed_handshakes;
      hard_close(s);
      co_return;
    }
    {
      std::lock_guard lock(mu);  // so that a waiter cannot miss the notification
      ++n_handshakes;
    }
    cv.notify_all();
    std::string sni;
    if (const char* name = SSL_get_servername(s.native_handle(), TLSEXT_NAMETYPE_host_name)) sni = name;
    std::string tls_version = SSL_get_version(s.native_handle());

    beast::flat_buffer buf;
    std::vector<char> chunk(256 * 1024);
    for (std::size_t index = 0;; ++index) {
      // Read up to the end of the header ourselves so raw_header holds the exact bytes.
      std::size_t header_end = 0;
      for (;;) {
        std::string_view have(static_cast<const char*>(buf.data().data()), buf.size());
        if (auto pos = have.find("\r\n\r\n"); pos != std::string_view::npos) {
          header_end = pos + 4;
          break;
        }
        if (buf.size() > options.max_header_bytes) {
          hard_close(s);
          co_return;
        }
        beast::get_lowest_layer(s).expires_after(options.idle_timeout);
        auto [ec, n] = co_await s.async_read_some(buf.prepare(16 * 1024), tuple_awaitable);
        if (ec) {
          hard_close(s);
          co_return;
        }
        buf.commit(n);
      }

      RecordedRequest req;
      req.raw_header.assign(static_cast<const char*>(buf.data().data()), header_end);
      req.sni = sni;
      req.tls_version = tls_version;
      req.connection_id = conn_id;
      req.index_on_connection = index;

      http::request_parser<http::buffer_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
      parser.body_limit(boost::none);
      beast::error_code pec;
      parser.put(net::buffer(buf.data().data(), header_end), pec);
      if (pec || !parser.is_header_done()) {
        co_await write_all(s, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        hard_close(s);
        co_return;
      }
      buf.consume(header_end);

      auto& msg = parser.get();
      req.method = std::string(msg.method_string());
      req.target = std::string(msg.target());
      req.version = msg.version();
      for (const auto& f : msg) req.headers.push_back({std::string(f.name_string()), std::string(f.value())});
      req.chunked = parser.chunked();
      if (auto it = msg.find(http::field::expect); it != msg.end() && iequals(it->value(), "100-continue"))
        req.expect_continue = true;
      bool keep_alive = msg.keep_alive();

      // Record as soon as the header is in, so tests can see requests whose body never completes.
      std::size_t seq;
      {
        std::lock_guard lock(mu);
        seq = sequence;
      }
      record(req);

      if (req.expect_continue && options.send_100_continue && !parser.is_done()) {
        if (!co_await write_all(s, "HTTP/1.1 100 Continue\r\n\r\n")) {
          hard_close(s);
          co_return;
        }
      }

      Sha256 digest;
      std::string stored;
      bool store = true;
      while (!parser.is_done()) {
        msg.body().data = chunk.data();
        msg.body().size = chunk.size();
        beast::get_lowest_layer(s).expires_after(options.idle_timeout);
        auto [ec, n] = co_await http::async_read(s, buf, parser, tuple_awaitable);
        if (ec == http::error::need_buffer) ec = {};
        std::size_t got = chunk.size() - msg.body().size;
        digest.update(chunk.data(), got);
        req.body_size += got;
        if (store) {
          if (stored.size() + got > options.store_body_limit) {
            store = false;
            std::string().swap(stored);
          } else {
            stored.append(chunk.data(), got);
          }
        }
        if (ec) {
          req.body_sha256 = digest.hex();
          update_last(seq, req);
          hard_close(s);
          co_return;
        }
      }
      req.body_complete = true;
      req.body_sha256 = digest.hex();
      req.body_stored = store;
      if (store) req.body = std::move(stored);
      update_last(seq, req);

      Handler h;
      {
        std::lock_guard lock(mu);
        h = handler;
      }
      Response resp;
      try {
        resp = h(req);
      } catch (const std::exception& e) {
        resp = Response::text(500, std::string("fake upstream handler threw: ") + e.what());
        resp.close = true;
      }

      co_await wait_ms(resp.stall_before_header);
      if (stopping) co_return;

      using Fault = Response::Fault;
      switch (resp.fault) {
        case Fault::close_without_response:
          hard_close(s);
          co_return;
        case Fault::reset_before_response:
          reset(s);
          co_return;
        case Fault::raw_bytes:
          co_await write_all(s, resp.raw);
          co_await graceful_close(s);
          co_return;
        default:
          break;
      }

      const bool body_allowed = has_body(req.method, resp.status);
      const std::uint64_t body_size = resp.generated_body ? *resp.generated_body : resp.body.size();
      const bool close_after = resp.close || !keep_alive ||
                               resp.framing == Response::Framing::close_delimited;

      std::string head = "HTTP/1.1 " + std::to_string(resp.status) + " " +
                         (resp.reason.empty() ? reason_for(resp.status) : resp.reason) + "\r\n";
      for (const auto& f : resp.headers) head += f.name + ": " + f.value + "\r\n";
      if (resp.padding_header_bytes > 0) head += "X-Padding: " + std::string(resp.padding_header_bytes, 'p') + "\r\n";
      if (resp.add_framing_headers) {
        const bool no_body_status = resp.status < 200 || resp.status == 204 || resp.status == 304;
        if (resp.framing == Response::Framing::content_length && !no_body_status &&
            header_count(resp.headers, "Content-Length") == 0)
          head += "Content-Length: " + std::to_string(body_size) + "\r\n";
        if (resp.framing == Response::Framing::chunked && !no_body_status &&
            header_count(resp.headers, "Transfer-Encoding") == 0)
          head += "Transfer-Encoding: chunked\r\n";
        if (close_after && header_count(resp.headers, "Connection") == 0) head += "Connection: close\r\n";
      }
      head += "\r\n";
      if (!co_await write_all(s, head)) {
        hard_close(s);
        co_return;
      }

      if (body_allowed) {
        const bool chunked = resp.framing == Response::Framing::chunked;
        const bool cut = resp.fault == Fault::reset_mid_body || resp.fault == Fault::close_mid_body;
        bool stalled = false;
        std::uint64_t sent = 0;
        std::vector<char> out;
        for (;;) {
          if (resp.stall_mid_body.count() > 0 && !stalled && sent >= resp.stall_after_body_bytes) {
            stalled = true;
            co_await wait_ms(resp.stall_mid_body);
            if (stopping) co_return;
          }
          if (cut && sent >= resp.fault_after_body_bytes) break;
          if (sent >= body_size) break;
          std::uint64_t limit = body_size;
          if (cut) limit = std::min(limit, resp.fault_after_body_bytes);
          if (resp.stall_mid_body.count() > 0 && !stalled) limit = std::min(limit, resp.stall_after_body_bytes);
          std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(resp.chunk_size, limit - sent));
          out.clear();
          if (chunked) {
            std::string size_line = hex(take) + "\r\n";
            out.insert(out.end(), size_line.begin(), size_line.end());
          }
          std::size_t at = out.size();
          out.resize(at + take);
          if (resp.generated_body)
            PatternBody::fill(sent, out.data() + at, take);
          else
            std::copy_n(resp.body.data() + sent, take, out.data() + at);
          if (chunked) out.insert(out.end(), {'\r', '\n'});
          if (!co_await write_all(s, std::string_view(out.data(), out.size()))) {
            hard_close(s);
            co_return;
          }
          sent += take;
        }
        if (resp.fault == Fault::reset_mid_body) {
          reset(s);
          co_return;
        }
        if (resp.fault == Fault::close_mid_body) {
          hard_close(s);
          co_return;
        }
        if (chunked) {
          std::string last = "0\r\n";
          for (const auto& f : resp.trailers) last += f.name + ": " + f.value + "\r\n";
          last += "\r\n";
          if (!co_await write_all(s, last)) {
            hard_close(s);
            co_return;
          }
        }
      }

      if (close_after || resp.close_quietly) {
        co_await graceful_close(s);
        co_return;
      }
    }
  }
};

FakeUpstream::FakeUpstream(CertFiles cert, Handler handler)
    : FakeUpstream(Options{std::move(cert)}, std::move(handler)) {}

FakeUpstream::FakeUpstream(Options options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

FakeUpstream::~FakeUpstream() = default;

std::uint16_t FakeUpstream::port() const noexcept { return impl_->port; }

std::string FakeUpstream::address() const { return "127.0.0.1:" + std::to_string(impl_->port); }

void FakeUpstream::set_handler(Handler handler) {
  std::lock_guard lock(impl_->mu);
  impl_->handler = std::move(handler);
}

std::vector<RecordedRequest> FakeUpstream::requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->recorded;
}

std::size_t FakeUpstream::request_count() const {
  std::lock_guard lock(impl_->mu);
  return impl_->recorded.size();
}

bool FakeUpstream::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->recorded.size() >= n; });
}

void FakeUpstream::clear_requests() {
  std::lock_guard lock(impl_->mu);
  impl_->recorded.clear();
}

bool FakeUpstream::wait_for_handshakes(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->n_handshakes >= n; });
}

std::size_t FakeUpstream::connections() const noexcept { return impl_->n_connections; }
std::size_t FakeUpstream::handshakes() const noexcept { return impl_->n_handshakes; }
std::size_t FakeUpstream::failed_handshakes() const noexcept { return impl_->n_failed_handshakes; }
std::size_t FakeUpstream::open_connections() const noexcept { return impl_->open.count(); }

bool FakeUpstream::wait_for_open_connections_at_most(std::size_t n, std::chrono::milliseconds timeout) const {
  return impl_->open.wait_at_most(n, timeout);
}

}  // namespace vp::test
