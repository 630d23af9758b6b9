#include "support/http_client.hpp"

#include "support/digest.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <stdexcept>
#include <vector>

namespace vp::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string head_of(const ClientRequest& r, std::uint16_t port, std::optional<std::uint64_t> content_length) {
  std::string out = r.method + " " + r.target + " " + r.version + "\r\n";
  if (r.add_host && header_count(r.headers, "Host") == 0) out += "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";
  for (const auto& f : r.headers) out += f.name + ": " + f.value + "\r\n";
  const bool framed = header_count(r.headers, "Content-Length") > 0 || header_count(r.headers, "Transfer-Encoding") > 0;
  if (!framed) {
    if (r.chunked)
      out += "Transfer-Encoding: chunked\r\n";
    else if (content_length && r.add_content_length)
      out += "Content-Length: " + std::to_string(*content_length) + "\r\n";
  }
  out += "\r\n";
  return out;
}

bool method_has_body(const ClientRequest& r) {
  return !r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH";
}

}  // namespace

std::string serialize(const ClientRequest& r, std::uint16_t port) {
  std::optional<std::uint64_t> cl;
  if (method_has_body(r)) cl = r.body.size();
  std::string out = head_of(r, port, cl);
  if (r.chunked) {
    if (!r.body.empty()) out += hex(r.body.size()) + "\r\n" + r.body + "\r\n";
    out += "0\r\n\r\n";
  } else {
    out += r.body;
  }
  return out;
}

struct HttpClient::Impl {
  net::io_context ioc{1};
  tcp::socket sock{ioc};
  beast::flat_buffer buf;
  std::chrono::milliseconds timeout;
  std::uint16_t port;
  /// A read already saw EOF or a reset: the peer closed (epoll will not report it a second time).
  bool peer_closed = false;

  void note(const beast::error_code& ec) {
    if (ec == net::error::eof || ec == http::error::end_of_stream || ec == http::error::partial_message ||
        ec == net::error::connection_reset || ec == net::error::broken_pipe)
      peer_closed = true;
  }

  /// Runs one async operation to completion or until the deadline.
  template <class Start>
  beast::error_code run(Start start, std::size_t* n_out = nullptr) {
    bool done = false;
    beast::error_code result;
    std::size_t n = 0;
    start([&](beast::error_code ec, std::size_t bytes) {
      done = true;
      result = ec;
      n = bytes;
    });
    ioc.restart();
    ioc.run_for(timeout);
    if (!done) {
      beast::error_code ignored;
      sock.cancel(ignored);
      ioc.restart();
      ioc.run();
      result = net::error::timed_out;
    }
    if (n_out) *n_out = n;
    return result;
  }

  void write(std::string_view bytes) {
    auto ec = run([&](auto handler) { net::async_write(sock, net::buffer(bytes), handler); });
    note(ec);
    if (ec) throw std::runtime_error("http client write: " + ec.message());
  }
};

HttpClient::HttpClient(std::uint16_t port, std::chrono::milliseconds timeout) : impl_(std::make_unique<Impl>()) {
  impl_->timeout = timeout;
  impl_->port = port;
  tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
  auto ec = impl_->run([&](auto handler) {
    impl_->sock.async_connect(ep, [handler](beast::error_code e) mutable { handler(e, 0); });
  });
  if (ec) throw std::runtime_error("http client connect to 127.0.0.1:" + std::to_string(port) + ": " + ec.message());
  impl_->sock.set_option(tcp::no_delay(true));
}

HttpClient::~HttpClient() = default;

void HttpClient::set_timeout(std::chrono::milliseconds timeout) { impl_->timeout = timeout; }

void HttpClient::send_raw(std::string_view bytes) { impl_->write(bytes); }

void HttpClient::send(const ClientRequest& request) { impl_->write(serialize(request, impl_->port)); }

void HttpClient::send_header(const ClientRequest& request, std::optional<std::uint64_t> content_length) {
  impl_->write(head_of(request, impl_->port, content_length));
}

void HttpClient::send_body_generated(std::uint64_t size, bool chunked, std::size_t chunk) {
  std::vector<char> out;
  std::uint64_t sent = 0;
  while (sent < size) {
    std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, size - sent));
    out.clear();
    if (chunked) {
      std::string line = hex(take) + "\r\n";
      out.insert(out.end(), line.begin(), line.end());
    }
    std::size_t at = out.size();
    out.resize(at + take);
    PatternBody::fill(sent, out.data() + at, take);
    if (chunked) out.insert(out.end(), {'\r', '\n'});
    impl_->write(std::string_view(out.data(), out.size()));
    sent += take;
  }
  if (chunked) impl_->write("0\r\n\r\n");
}

void HttpClient::send_generated(ClientRequest head, std::uint64_t size, std::size_t chunk) {
  send_header(head, head.chunked ? std::nullopt : std::optional<std::uint64_t>(size));
  send_body_generated(size, head.chunked, chunk);
}

std::optional<ClientResponse> HttpClient::try_read_response(const ReadOptions& options) {
  auto& im = *impl_;
  http::response_parser<http::buffer_body> parser;
  parser.header_limit(options.header_limit);
  parser.body_limit(boost::none);
  if (options.head) parser.skip(true);

  auto ec = im.run([&](auto handler) { http::async_read_header(im.sock, im.buf, parser, handler); });
  im.note(ec);
  if ((ec == http::error::end_of_stream || ec == net::error::connection_reset || ec == net::error::eof) &&
      !parser.got_some())
    return std::nullopt;
  if (ec) throw std::runtime_error("http client read header: " + ec.message());

  ClientResponse r;
  auto& msg = parser.get();
  r.status = msg.result_int();
  r.reason = std::string(msg.reason());
  r.version = msg.version();
  for (const auto& f : msg) r.headers.push_back({std::string(f.name_string()), std::string(f.value())});
  r.chunked = parser.chunked();
  r.keep_alive = msg.keep_alive();

  Sha256 digest;
  std::vector<char> chunk(256 * 1024);
  while (!parser.is_done()) {
    msg.body().data = chunk.data();
    msg.body().size = chunk.size();
    ec = im.run([&](auto handler) { http::async_read(im.sock, im.buf, parser, handler); });
    if (ec == http::error::need_buffer) ec = {};
    im.note(ec);
    std::size_t got = chunk.size() - msg.body().size;
    digest.update(chunk.data(), got);
    r.body_size += got;
    if (options.store_body) r.body.append(chunk.data(), got);
    if (ec)
      throw std::runtime_error("http client read body after " + std::to_string(r.body_size) +
                               " bytes: " + ec.message());
  }
  r.body_sha256 = digest.hex();
  return r;
}

ClientResponse HttpClient::read_response(const ReadOptions& options) {
  auto r = try_read_response(options);
  if (!r) throw std::runtime_error("http client: connection closed before a response");
  return std::move(*r);
}

ClientResponse HttpClient::request(const ClientRequest& request) {
  send(request);
  ReadOptions o;
  o.head = request.method == "HEAD";
  return read_response(o);
}

bool HttpClient::server_closed(std::chrono::milliseconds wait) {
  auto& im = *impl_;
  if (im.peer_closed) return true;
  auto saved = im.timeout;
  im.timeout = wait;
  std::size_t n = 0;
  auto ec = im.run([&](auto handler) { im.sock.async_read_some(im.buf.prepare(16 * 1024), handler); }, &n);
  im.timeout = saved;
  if (!ec) {
    im.buf.commit(n);
    return false;
  }
  im.note(ec);
  return ec != net::error::timed_out;
}

void HttpClient::shutdown_send() {
  beast::error_code ec;
  impl_->sock.shutdown(tcp::socket::shutdown_send, ec);
}

void HttpClient::close() {
  beast::error_code ec;
  impl_->sock.close(ec);
}

std::string HttpClient::pending_bytes() const {
  return std::string(static_cast<const char*>(impl_->buf.data().data()), impl_->buf.size());
}

ClientResponse http_request(std::uint16_t port, const ClientRequest& request) {
  HttpClient c(port);
  return c.request(request);
}

ClientResponse http_get(std::uint16_t port, const std::string& target, HeaderList headers) {
  ClientRequest r;
  r.target = target;
  r.headers = std::move(headers);
  return http_request(port, r);
}

}  // namespace vp::test
