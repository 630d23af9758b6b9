#pragma once
// The Cloudflare Access service token and the holder the request path reads it from. The holder is
// the only seam between credential sources (env, files, rotation, auto-auth) and the data path.

#include "core/secret.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace vp::core {

/// One service token: the pair of values sent as CF-Access-Client-Id / CF-Access-Client-Secret.
struct ServiceToken {
  Secret client_id;
  Secret client_secret;
  std::string source;        ///< where it came from, e.g. "env" or "file:/run/creds/id" (no values)
  std::uint64_t version = 0; ///< increments each time the holder is given a new token
  std::chrono::system_clock::time_point loaded_at{};  ///< when it was read (set by the loader)

  /// A short, non-reversible identifier (first 12 hex of SHA-256 over id and secret), safe to print.
  std::string fingerprint() const;
};

/// Holds the current token. Readers take a snapshot per request; a writer may swap at any time.
class CredentialStore {
 public:
  /// The current token, or null when none is configured.
  std::shared_ptr<const ServiceToken> current() const noexcept {
    return token_.load(std::memory_order_acquire);
  }
  /// Installs a new token; its version is set to the previous version + 1.
  void replace(ServiceToken token);
  /// Removes the token (requests then get 503 credentials_missing).
  void clear() noexcept;

 private:
  std::atomic<std::shared_ptr<const ServiceToken>> token_;
  std::atomic<std::uint64_t> versions_{0};
};

}  // namespace vp::core
