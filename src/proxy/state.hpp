#pragma once
// State shared by every worker: configuration, credentials, TLS context, counters and the ready
// probe cache. Written only at start or through atomics / its own mutex.

#include "config/config.hpp"
#include "core/credentials.hpp"
#include "core/request_check.hpp"
#include "net/asio.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

namespace vp::proxy {

/// Process-wide counters (relaxed atomics; read by status and tests).
struct Counters {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> proxied{0};
  std::atomic<std::uint64_t> local{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> upstream_errors{0};
  std::atomic<std::uint64_t> credentials_injected{0};
  std::atomic<std::uint64_t> client_credentials_removed{0};
};

/// The cached outcome of the last ready probe.
struct ProbeResult {
  bool ready = false;
  unsigned upstream_status = 0;
  std::string reason;
  std::chrono::steady_clock::time_point at{};
};

/// Everything a session needs that is not per-worker.
struct Shared {
  Shared(const config::Config& c, CredentialStore& cr, std::shared_ptr<ssl::context> t)
      : cfg(c), creds(cr), tls(std::move(t)), host_header(c.upstream.host_header()) {}

  const config::Config& cfg;
  CredentialStore& creds;
  std::shared_ptr<ssl::context> tls;
  std::string host_header;
  core::CheckPolicy policy;
  Counters counters;
  std::atomic<std::size_t> connections{0};
  std::atomic<bool> draining{false};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  std::mutex probe_mutex;
  ProbeResult probe;
};

}  // namespace vp::proxy
