#pragma once
// A TLS upstream on 127.0.0.1:0 that answers each request with bytes a test scripts exactly, and
// keeps the connection open afterwards unless told otherwise. FakeUpstream always writes a valid
// HTTP message (or closes after a fault); this one can send a malformed response on a connection
// that stays usable, so a test can tell "the proxy discarded that connection" from "the server
// closed it".

#include "support/pki.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace vp::test {

/// One request as received: the header bytes (request line to CRLFCRLF) and where it came from.
struct RawRequest {
  std::string head;                ///< request line + fields + CRLFCRLF
  std::string target;              ///< from the request line
  std::uint64_t connection_id = 0; ///< 1-based, in accept order
  std::size_t index_on_connection = 0;
};

/// What to send back.
struct RawReply {
  RawReply(std::string b = {}) : bytes(std::move(b)) {}  // NOLINT: implicit, a reply is its bytes

  std::string bytes;        ///< written verbatim
  bool close_after = false; ///< close the connection after writing (default: keep it open)
  /// After `bytes`: one write per call, until it returns an empty string or a write fails (the
  /// proxy closed): replies too large to hold in memory.
  std::function<std::string()> more;
  /// After the reply, bytes nobody asked for (e.g. a second response), in a write of their own, so
  /// in TLS records of their own. With no delay they leave in the same TCP segment as the reply
  /// (TCP_CORK), so the proxy receives both at once; with a delay, while the connection idles.
  std::string unsolicited;
  std::chrono::milliseconds unsolicited_delay{0};
};

class RawUpstream {
 public:
  /// Runs on the upstream's thread. Requests are expected without a body, or with Content-Length
  /// (the body is read and dropped).
  using Handler = std::function<RawReply(const RawRequest&)>;

  RawUpstream(CertFiles cert, Handler handler);
  RawUpstream(const RawUpstream&) = delete;
  RawUpstream& operator=(const RawUpstream&) = delete;
  ~RawUpstream();

  std::uint16_t port() const noexcept;
  /// "127.0.0.1:PORT", the value for VAULT_PROXY_CONNECT_TO.
  std::string address() const;

  std::vector<RawRequest> requests() const;
  /// Waits until at least n requests arrived; false on timeout.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const;
  /// Waits until `unsolicited` bytes have been written n times; false on timeout.
  bool wait_for_unsolicited(std::size_t n, std::chrono::milliseconds timeout) const;
  /// Waits until at least n TLS handshakes have completed; false on timeout.
  bool wait_for_handshakes(std::size_t n, std::chrono::milliseconds timeout) const;
  std::size_t connections() const;       ///< TCP connections accepted
  std::size_t open_connections() const;  ///< connections the peer has not closed yet
  /// Waits until at most n connections are open; false on timeout.
  bool wait_for_open_connections_at_most(std::size_t n, std::chrono::milliseconds timeout) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vp::test
