#pragma once
// The server: binds the listener, runs one worker per thread, hands accepted connections out
// round-robin, and drains on SIGTERM / SIGINT.

#include "config/config.hpp"
#include "core/credentials.hpp"
#include "core/policy.hpp"
#include "sys/append_log.hpp"
#include "net/token_slot.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>
#include <memory>
#include <stdexcept>

namespace vp::proxy {

/// The listener could not be bound (port in use, permission, bad address). main maps it to exit 3.
struct ListenError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Hooks for a service manager (systemd's sd_notify), all run on the server's control thread.
struct Lifecycle {
  std::function<void()> ready;     ///< once, when the listener accepts and a service token is loaded
  std::function<void()> stopping;  ///< when the drain begins
  std::chrono::milliseconds tick{0};
  std::function<void()> on_tick;   ///< every `tick` while serving (the watchdog), when tick > 0
};

class Server {
 public:
  /// Builds the TLS context and workers. Throws std::runtime_error on a bad CA file. `auto_auth`,
  /// when given, turns auto-auth on for the request path (it must outlive the server).
  Server(const config::Config& cfg, core::CredentialStore& creds, net_token::AutoAuth* auto_auth = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds and listens. Throws ListenError with an operator-facing message.
  void bind();
  /// Socket activation: serves on `fd`, a listening TCP socket systemd passed, instead of binding.
  /// The same rule as bind(): it must listen on a loopback address unless `allow_non_loopback`.
  /// Throws ListenError otherwise.
  void adopt(int fd, bool allow_non_loopback);
  /// The bound port (after bind() or adopt()).
  std::uint16_t port() const;
  /// The address the listener is bound to (after bind() or adopt()), e.g. "127.0.0.1".
  std::string address() const;
  /// The capability prefix token, empty when the capability is off.
  const std::string& capability() const;
  /// Serves until SIGTERM / SIGINT or stop(), then drains in-flight requests up to the
  /// configured grace period. Returns normally after a clean drain.
  void run();
  /// Begins the drain from any thread.
  void stop();
  /// Turns on hot reload of the service token (before run()): SIGHUP and any change in the
  /// credential files' folders re-read it. `file_env` names the files
  /// (config::credential_file_env). `on_hup` also runs on SIGHUP, for the rest of what can change
  /// without a new listener. Returns one sentence per folder that cannot be watched. Without it,
  /// SIGHUP is logged and ignored; it never stops the proxy.
  std::vector<std::string> enable_reload(config::Env file_env, std::function<void()> on_hup = {});
  /// Sets the local policy of each listener (docs/guardrails.md); null: none. Any thread, any time:
  /// a request in flight keeps the policy it started with.
  void set_policies(std::shared_ptr<const core::Policy> tcp, std::shared_ptr<const core::Policy> unix_socket);
  /// Turns the audit trail on (before run()): one line per request that touches a secret, a folder
  /// or an identity goes to `log`, which must outlive the server; `path` is shown by status.
  void set_audit(sys::AppendLog* log, std::string path);
  /// Sets the service-manager hooks (before run()).
  void set_lifecycle(Lifecycle hooks);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vp::proxy
