#pragma once
// The one place TLS to the upstream is configured, shared by the proxy and the CLI: TLS >= 1.2,
// peer verification against the system store or a configured CA bundle, SNI and hostname check.
// There is deliberately no way to turn verification off.

#include "net/asio.hpp"

#include <memory>
#include <optional>
#include <string>

namespace vp::net_tls {

/// Builds the client context. Throws std::runtime_error naming the CA file and OpenSSL's reason.
std::shared_ptr<ssl::context> make_client_context(const std::optional<std::string>& ca_file);

/// Sets SNI (for DNS names) and the hostname / IP check on a new client stream, and offers the
/// last session for resumption. Returns false and sets `why` when OpenSSL refuses.
bool prepare_client(SSL* ssl, const std::string& host, std::string& why);

/// A human reason for a failed handshake: the certificate verification result when there is one
/// (e.g. "certificate has expired"), else OpenSSL's error string.
std::string describe_failure(const error_code& ec, SSL* ssl);

/// How many sessions were resumed / fully negotiated since start (for tests and metrics).
struct SessionStats {
  std::uint64_t full = 0;
  std::uint64_t resumed = 0;
};
SessionStats session_stats();
/// Records the outcome of a finished handshake.
void note_handshake(SSL* ssl);

}  // namespace vp::net_tls
