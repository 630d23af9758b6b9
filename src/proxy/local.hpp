#pragma once
// The proxy's own endpoints under /__vault-proxy/. They are answered here and never forwarded.

#include "proxy/worker.hpp"

namespace vp::proxy {

/// Answers a request whose target starts with core::local_prefix.
///   GET /__vault-proxy/health  200 {"status":"ok"}: the process is alive
///   GET /__vault-proxy/ready   200 when credentials are loaded and the cached upstream probe
///                              passed; otherwise 503 with {"ready":false,"reason":...}
///   GET /__vault-proxy/status  200 with counters, diagnoses, last error and the credential
///                              fingerprint (docs/CONTRACT.md); never a secret value
net::awaitable<http::response<http::string_body>> handle_local(Worker& w,
                                                             const http::request_header<>& req);

}  // namespace vp::proxy
