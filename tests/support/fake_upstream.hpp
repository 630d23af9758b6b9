#pragma once
// An HTTPS/1.1 server on 127.0.0.1:0 in its own thread, standing in for the vault. It records exactly
// what it received (header fields in wire order and casing, body digest, SNI, connection id) and
// answers with whatever a per-test handler returns, including deliberate faults.

#include "support/http_types.hpp"
#include "support/pki.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vp::test {

/// One request as the upstream saw it.
struct RecordedRequest {
  std::string method;
  std::string target;          ///< request-target bytes exactly as sent
  unsigned version = 11;       ///< 10 or 11
  HeaderList headers;          ///< wire order, casing and duplicates kept
  std::string raw_header;      ///< request line + fields + CRLFCRLF, byte for byte
  bool chunked = false;        ///< the body arrived with chunked framing
  bool expect_continue = false;///< `Expect: 100-continue` was sent
  std::uint64_t body_size = 0; ///< decoded body bytes received
  std::string body_sha256;     ///< SHA-256 hex of the decoded body
  bool body_stored = false;    ///< `body` holds the whole body (size <= Options::store_body_limit)
  bool body_complete = false;  ///< the whole body arrived (false: connection died mid-body)
  std::string body;            ///< the body, when body_stored
  std::string sni;             ///< TLS server name the client sent ("" = none)
  std::string tls_version;     ///< e.g. "TLSv1.3"
  std::uint64_t connection_id = 0;     ///< 1-based, in accept order
  std::size_t index_on_connection = 0; ///< 0 for the first request on a connection
  std::size_t sequence = 0;            ///< 0-based across the whole server

  std::vector<std::string> values(std::string_view name) const { return header_values(headers, name); }
  std::size_t count(std::string_view name) const { return header_count(headers, name); }
  std::optional<std::string> header(std::string_view name) const { return header_value(headers, name); }
};

/// What the upstream answers. Defaults: `200 OK`, Content-Length framing, empty body, keep-alive.
struct Response {
  enum class Framing { content_length, chunked, close_delimited };
  enum class Fault {
    none,
    close_without_response,  ///< read the request, then close the TCP connection, no bytes sent
    reset_before_response,   ///< read the request, then RST (SO_LINGER 0)
    reset_mid_body,          ///< send the header and fault_after_body_bytes body bytes, then RST
    close_mid_body,          ///< send the header and fault_after_body_bytes body bytes, then close
    raw_bytes,               ///< send `raw` verbatim instead of a response, then close
  };

  unsigned status = 200;
  std::string reason;           ///< empty = the standard reason phrase
  HeaderList headers;           ///< sent verbatim, in order
  HeaderList trailers;          ///< chunked framing only
  std::string body;
  /// Send this many PatternBody bytes instead of `body`, generated chunk by chunk.
  std::optional<std::uint64_t> generated_body;
  Framing framing = Framing::content_length;
  /// Add Content-Length / Transfer-Encoding / Connection: close for the framing unless the test
  /// already put that field in `headers`.
  bool add_framing_headers = true;
  std::size_t chunk_size = 16 * 1024;  ///< write size (and chunk size for chunked framing)
  bool close = false;                  ///< close the connection after this response
  /// Close the connection after this response without announcing it (no `Connection: close`), the
  /// way a server's idle timeout closes a kept-alive connection.
  bool close_quietly = false;

  Fault fault = Fault::none;
  std::uint64_t fault_after_body_bytes = 0;
  std::string raw;                     ///< bytes for Fault::raw_bytes
  std::chrono::milliseconds stall_before_header{0};
  std::chrono::milliseconds stall_mid_body{0};
  std::uint64_t stall_after_body_bytes = 0;
  /// Pad the header with an `X-Padding` field of this many bytes (for oversized-header tests).
  std::size_t padding_header_bytes = 0;

  /// A response with `body` and a Content-Type.
  static Response text(unsigned status, std::string body, std::string content_type = "text/plain");
  /// A fault with no other content.
  static Response make_fault(Fault f, std::uint64_t after_body_bytes = 0);
};

/// The fake vault. Construct, read port(), point the proxy at it, assert on requests().
class FakeUpstream {
 public:
  /// Runs on the upstream's own thread: keep it quick; use Response's stall fields to delay.
  using Handler = std::function<Response(const RecordedRequest&)>;

  struct Options {
    CertFiles cert;                                   ///< server certificate + key
    std::size_t store_body_limit = 8 * 1024 * 1024;   ///< bodies above this are only counted/hashed
    bool send_100_continue = true;                    ///< answer `Expect: 100-continue` with 100
    std::chrono::milliseconds idle_timeout{30'000};   ///< drop a connection idle this long
    std::size_t max_header_bytes = 1024 * 1024;
    std::uint16_t port = 0;                           ///< 0: any free port
  };

  /// Starts listening on 127.0.0.1 (on Options::port, default any free one) immediately. The default
  /// handler answers 200 with body "ok".
  explicit FakeUpstream(CertFiles cert, Handler handler = {});
  FakeUpstream(Options options, Handler handler);
  FakeUpstream(const FakeUpstream&) = delete;
  FakeUpstream& operator=(const FakeUpstream&) = delete;
  /// Closes every connection and joins the thread.
  ~FakeUpstream();

  std::uint16_t port() const noexcept;
  /// "127.0.0.1:PORT", the value for VAULT_PROXY_CONNECT_TO.
  std::string address() const;

  void set_handler(Handler handler);

  /// Snapshot of every request recorded so far (including ones whose body never completed).
  std::vector<RecordedRequest> requests() const;
  std::size_t request_count() const;
  /// Waits until at least n requests are recorded; false on timeout.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const;
  /// Forgets recorded requests (counters are kept).
  void clear_requests();

  std::size_t connections() const noexcept;        ///< TCP connections accepted
  std::size_t handshakes() const noexcept;         ///< TLS handshakes completed
  std::size_t failed_handshakes() const noexcept;  ///< TLS handshakes that failed
  /// Waits until at least `n` TLS handshakes have completed; false on timeout.
  bool wait_for_handshakes(std::size_t n, std::chrono::milliseconds timeout) const;
  std::size_t open_connections() const noexcept;   ///< sessions currently alive
  /// Waits until at most `n` sessions are alive; false on timeout.
  bool wait_for_open_connections_at_most(std::size_t n, std::chrono::milliseconds timeout) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vp::test
