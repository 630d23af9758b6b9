#include "net/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <mutex>
#include <stdexcept>

namespace vp::net_tls {
namespace {

// There is one upstream, so one resumable session is all the cache needs. TLS 1.3 tickets arrive
// after the handshake, hence the new-session callback rather than SSL_get1_session.
std::mutex session_mutex;
SSL_SESSION* latest_session = nullptr;
std::atomic<std::uint64_t> full_handshakes{0};
std::atomic<std::uint64_t> resumed_handshakes{0};

int on_new_session(SSL*, SSL_SESSION* session) {
  std::lock_guard lock(session_mutex);
  if (latest_session != nullptr) SSL_SESSION_free(latest_session);
  latest_session = session;
  return 1;  // we keep the reference
}

std::string openssl_reason() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

bool is_ip_literal(const std::string& host) {
  error_code ec;
  boost::asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

std::shared_ptr<ssl::context> make_client_context(const std::optional<std::string>& ca_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  // No SSL_MODE_RELEASE_BUFFERS: it frees and reallocates the two 17 KiB record buffers around
  // every record, which showed as malloc/free at the top of the profile. The pool frees the
  // buffers of connections that go idle instead (net_upstream::Pool::give_back).
  // The proxy's stream lets OpenSSL read the socket itself (net/tls_stream.hpp): without read-ahead
  // it reads each record in two system calls, its 5-byte header and then its body.
  SSL_CTX_set_read_ahead(native, 1);
  ctx->set_verify_mode(ssl::verify_peer);
  if (ca_file) {
    if (SSL_CTX_load_verify_locations(native, ca_file->c_str(), nullptr) != 1)
      throw std::runtime_error("cannot load CA bundle '" + *ca_file + "': " + openssl_reason() +
                               " (fix VAULT_PROXY_CA_FILE / ca_file)");
  } else if (SSL_CTX_set_default_verify_paths(native) != 1) {
    throw std::runtime_error("cannot load the system CA store: " + openssl_reason());
  }
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(native, on_new_session);
  // Only HTTP/1.1 goes over the connection; say so, so that an ALPN-enforcing server agrees.
  static const unsigned char alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(native, alpn, sizeof alpn);
  return ctx;
}

bool prepare_client(SSL* ssl, const std::string& host, std::string& why) {
  if (is_ip_literal(host)) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) {
      why = "cannot set IP check: " + openssl_reason();
      return false;
    }
  } else {
    // RFC 6066 §3: SNI carries DNS names only, never IP literals.
    if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1 || SSL_set1_host(ssl, host.c_str()) != 1) {
      why = "cannot set SNI / hostname check: " + openssl_reason();
      return false;
    }
  }
  std::lock_guard lock(session_mutex);
  if (latest_session != nullptr) SSL_set_session(ssl, latest_session);
  return true;
}

std::string describe_failure(const error_code& ec, SSL* ssl) {
  if (ssl != nullptr) {
    long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK)
      return std::string("certificate verification failed: ") +
             X509_verify_cert_error_string(verify);
  }
  if (ec.category() == boost::asio::error::get_ssl_category()) {
    char buf[256];
    ERR_error_string_n(static_cast<unsigned long>(ec.value()), buf, sizeof buf);
    return buf;
  }
  return ec.message();
}

SessionStats session_stats() { return {full_handshakes.load(), resumed_handshakes.load()}; }

void note_handshake(SSL* ssl) {
  if (SSL_session_reused(ssl) == 1)
    resumed_handshakes.fetch_add(1, std::memory_order_relaxed);
  else
    full_handshakes.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace vp::net_tls
