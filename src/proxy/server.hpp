#pragma once
// The server: binds the listener, runs one worker per thread, hands accepted connections out
// round-robin, and drains on SIGTERM / SIGINT.

#include "config/config.hpp"
#include "core/credentials.hpp"

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

class Server {
 public:
  /// Builds the TLS context and workers. Throws std::runtime_error on a bad CA file.
  Server(const config::Config& cfg, core::CredentialStore& creds);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds and listens. Throws ListenError with an operator-facing message.
  void bind();
  /// The bound port (after bind()).
  std::uint16_t port() const;
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

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vp::proxy
