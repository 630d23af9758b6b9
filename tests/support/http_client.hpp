#pragma once
// A small blocking HTTP/1.1 client over plain TCP to 127.0.0.1:PORT, for driving the proxy. Requests
// are written as raw bytes (so tests control casing, duplicates and malformed input); responses are
// parsed with Beast. Every operation has a deadline, so a broken proxy fails a test instead of hanging.

#include "support/http_types.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace vp::test {

/// A request to serialise. Host is added (as `127.0.0.1:PORT`) unless the test sets one.
struct ClientRequest {
  std::string method = "GET";
  std::string target = "/";
  std::string version = "HTTP/1.1";
  HeaderList headers;
  std::string body;
  /// Framing for `body`: add Content-Length (when body non-empty or method has a body), or send it
  /// chunked. Neither is added if the test put Content-Length / Transfer-Encoding in headers.
  bool chunked = false;
  bool add_host = true;
  bool add_content_length = true;
};

/// One parsed response.
struct ClientResponse {
  unsigned status = 0;
  std::string reason;
  unsigned version = 0;
  HeaderList headers;
  std::string body;             ///< when stored (ReadOptions::store_body)
  std::uint64_t body_size = 0;
  std::string body_sha256;
  bool chunked = false;
  bool keep_alive = false;      ///< per the response's version and Connection field

  std::vector<std::string> values(std::string_view name) const { return header_values(headers, name); }
  std::size_t count(std::string_view name) const { return header_count(headers, name); }
  std::optional<std::string> header(std::string_view name) const { return header_value(headers, name); }
};

struct ReadOptions {
  bool head = false;                      ///< the request was HEAD: no body follows
  bool store_body = true;                 ///< false: only count and hash (large downloads)
  std::uint32_t header_limit = 1024 * 1024;

  /// Count and hash the body without keeping it.
  static ReadOptions streaming() {
    ReadOptions o;
    o.store_body = false;
    return o;
  }
};

/// One client connection.
class HttpClient {
 public:
  /// Connects to 127.0.0.1:port. Throws on failure. `timeout` bounds every later operation.
  explicit HttpClient(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  ~HttpClient();

  void set_timeout(std::chrono::milliseconds timeout);

  /// Writes bytes as they are. Throws std::runtime_error on error or timeout.
  void send_raw(std::string_view bytes);
  /// Serialises and writes a request.
  void send(const ClientRequest& request);
  /// Writes a request whose body is `size` PatternBody bytes, generated `chunk` bytes at a time,
  /// with Content-Length or chunked framing. Nothing the size of the body is held in memory.
  void send_generated(ClientRequest head, std::uint64_t size, std::size_t chunk = 64 * 1024);
  /// Writes just the header of `request` (e.g. with `Expect: 100-continue`); the body follows with
  /// send_raw / send_body_generated.
  void send_header(const ClientRequest& request, std::optional<std::uint64_t> content_length);
  /// Writes `size` PatternBody bytes (raw, or as chunks followed by the last chunk).
  void send_body_generated(std::uint64_t size, bool chunked, std::size_t chunk = 64 * 1024);

  /// Reads one response (1xx responses are returned as such). Throws on error or timeout.
  ClientResponse read_response(const ReadOptions& options = {});
  /// send() then read_response(); HEAD is detected from the method.
  ClientResponse request(const ClientRequest& request);
  /// Reads one response, or nullopt if the connection closed/reset cleanly before any byte of it.
  std::optional<ClientResponse> try_read_response(const ReadOptions& options = {});

  /// True if the peer closed (EOF or reset) within `wait`; false if the connection is still open
  /// (bytes that arrive meanwhile are kept for the next read).
  bool server_closed(std::chrono::milliseconds wait = std::chrono::seconds(2));
  /// Half-closes our sending side.
  void shutdown_send();
  void close();

  /// Bytes received but not yet parsed.
  std::string pending_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Serialises a request head (and small body) as the client would send it.
std::string serialize(const ClientRequest& request, std::uint16_t port);

/// One-shot: connect, send, read, close.
ClientResponse http_request(std::uint16_t port, const ClientRequest& request);
/// One-shot GET.
ClientResponse http_get(std::uint16_t port, const std::string& target, HeaderList headers = {});

}  // namespace vp::test
