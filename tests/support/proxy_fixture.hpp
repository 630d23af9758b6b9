#pragma once
// A gtest fixture that wires the pieces together: a fake upstream with a certificate from the shared
// test PKI, the real `vault-proxy serve` pointed at it through VAULT_PROXY_CONNECT_TO, and fresh random
// credentials. TearDown asserts the credentials never reached the proxy's output and that the proxy
// shuts down cleanly (exit 0) on SIGTERM.

#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/pki.hpp"
#include "support/proxy_process.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vp::test {

/// The upstream name every proxy test uses (Host, SNI and certificate name).
inline constexpr const char* upstream_name = "vault.test";

/// One PKI for the whole test process, issued for upstream_name.
const Pki& shared_pki();

/// How to start one proxy test.
struct ProxySetup {
  bool credentials = true;                 ///< set CF_ACCESS_CLIENT_ID / _SECRET
  bool start_upstream = true;              ///< false: nothing listens at the connect-to address
  std::optional<CertFiles> upstream_cert;  ///< default: shared_pki().valid
  FakeUpstream::Handler handler;           ///< default: 200 "ok"
  std::size_t store_body_limit = 8 * 1024 * 1024;
  std::string toml;                        ///< non-empty: written to a file passed as VAULT_PROXY_CONFIG
  std::map<std::string, std::string> env;  ///< added to (and overriding) the standard environment
  std::string user_agent = "vp-integration-test/1.0";
  bool wait_ready = true;
  std::vector<std::string> launcher;       ///< ProxyProcess::Options::launcher (e.g. taskset)

  // Chainable setters: `start(ProxySetup{}.with_handler(h).with_env({...}))`. (GCC 12 warns about
  // every omitted member of a designated initializer under -Wextra, so these replace them.)
  ProxySetup without_credentials() const { auto s = *this; s.credentials = false; return s; }
  ProxySetup without_upstream() const { auto s = *this; s.start_upstream = false; return s; }
  ProxySetup without_waiting_for_ready() const { auto s = *this; s.wait_ready = false; return s; }
  ProxySetup with_upstream_cert(CertFiles c) const { auto s = *this; s.upstream_cert = std::move(c); return s; }
  ProxySetup with_handler(FakeUpstream::Handler h) const { auto s = *this; s.handler = std::move(h); return s; }
  ProxySetup with_store_body_limit(std::size_t n) const { auto s = *this; s.store_body_limit = n; return s; }
  ProxySetup with_toml(std::string t) const { auto s = *this; s.toml = std::move(t); return s; }
  /// Adds (or overrides) environment variables.
  ProxySetup with_env(const std::map<std::string, std::string>& e) const {
    auto s = *this;
    for (const auto& [k, v] : e) s.env[k] = v;
    return s;
  }
  ProxySetup with_user_agent(std::string ua) const { auto s = *this; s.user_agent = std::move(ua); return s; }
  ProxySetup with_launcher(std::vector<std::string> l) const { auto s = *this; s.launcher = std::move(l); return s; }
};

/// A port on 127.0.0.1 that nothing listens on (bound, read back, closed). Another process may take
/// it afterwards; prefer ReservedPort when the test needs it to stay dead.
std::uint16_t unused_port();

/// A port on 127.0.0.1 held bound but never listening for this object's lifetime: connecting to it
/// is refused, and no parallel test can take it.
class ReservedPort {
 public:
  ReservedPort();
  ReservedPort(const ReservedPort&) = delete;
  ReservedPort& operator=(const ReservedPort&) = delete;
  ~ReservedPort();
  std::uint16_t port() const noexcept { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

/// Base fixture for tests that run the real binary.
class ProxyTest : public ::testing::Test {
 protected:
  /// Starts the upstream (unless disabled) and the proxy.
  void start(ProxySetup setup = {});
  /// Secret checks, then SIGTERM and a clean exit (code 0) within the grace period.
  void TearDown() override;

  FakeUpstream& upstream() { return *upstream_; }
  ProxyProcess& proxy() { return *proxy_; }
  std::uint16_t port() const { return proxy_->port(); }
  /// The environment the proxy was started with (for starting a second one).
  const std::map<std::string, std::string>& proxy_env() const { return env_; }

  /// Asserts (non-fatally) that no output of the proxy contains the client id or secret.
  void expect_no_secrets_in_output();
  /// The proxy's stderr with the credentials masked, for failure messages.
  std::string redacted_stderr() const;

  std::string client_id;
  std::string client_secret;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<FakeUpstream> upstream_;
  std::unique_ptr<ProxyProcess> proxy_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<ReservedPort> dead_port_;
  /// Set by a test that itself stops the proxy (TearDown then skips the shutdown check).
  bool stopped_by_test_ = false;
};


/// Parses a JSON error body; empty strings when it is not JSON or lacks the fields.
struct ErrorBody {
  std::string message;
  std::string error;
  bool valid_json = false;
};
ErrorBody parse_error_body(const std::string& body);

}  // namespace vp::test
