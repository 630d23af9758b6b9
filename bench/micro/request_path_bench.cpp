// Per-request cost of the pure request path: parse → check → rewrite → serialize, on the header
// the Infisical MCP server actually sends (docs/infisical-api.md §1.3), plus the response side.
// The serialisation is session.cpp's (core/wire). Every benchmark reports the heap allocations
// per iteration (`allocs`), counted by the replaced global operator new below.
// Run: build/release/bench/micro/vp_micro_bench
#include "core/diagnosis.hpp"
#include "core/headers.hpp"
#include "core/request_check.hpp"
#include "core/wire.hpp"

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

namespace {
std::atomic<std::size_t> allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
// GCC cannot see that operator new above is this file's, which allocates with malloc.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace {

// Reports the allocations per iteration of the loop it wraps.
struct AllocCounter {
  benchmark::State& state;
  std::size_t start = allocations.load();
  ~AllocCounter() {
    state.counters["allocs"] = benchmark::Counter(static_cast<double>(allocations.load() - start),
                                                  benchmark::Counter::kAvgIterations);
  }
};

using namespace vp;

const std::string request_bytes =
    "GET /api/v3/secrets/raw/DB_PASSWORD?secretName=DB_PASSWORD&workspaceId=29b77751-f761-4afa-b3fa-"
    "2c842988f95c&environment=prod&expandSecretReferences=true&includeImports=true&secretPath=%2F"
    "MooseQuest&viewSecretValue=true HTTP/1.1\r\n"
    "Accept: application/json, text/plain, */*\r\n"
    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtY3AifQ.c2lnbmF0dXJl\r\n"
    "User-Agent: axios/1.21.1\r\n"
    "Accept-Encoding: gzip, compress, deflate, br\r\n"
    "Host: 127.0.0.1:2019\r\n"
    "Connection: keep-alive\r\n\r\n";

const std::string response_bytes =
    "HTTP/1.1 200 OK\r\nDate: Sat, 28 Nov 2026 20:00:00 GMT\r\nContent-Type: application/json; "
    "charset=utf-8\r\nContent-Length: 2\r\nConnection: keep-alive\r\nCF-RAY: 8f-LHR\r\n"
    "Server: cloudflare\r\nVary: Accept-Encoding\r\n\r\n{}";

core::ServiceToken token() {
  core::ServiceToken t;
  t.client_id = core::Secret("0123456789abcdef0123456789abcdef.access");
  t.client_secret = core::Secret("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  return t;
}

void BM_RequestPath(benchmark::State& state) {
  auto tok = token();
  core::CheckPolicy policy;
  std::string out;
  out.reserve(1024);
  AllocCounter count{state};
  for (auto _ : state) {
    http::request_parser<http::empty_body> p;
    beast::error_code ec;
    p.put(boost::asio::buffer(request_bytes), ec);
    auto& req = p.get();
    auto check = core::check_request(req, policy);
    benchmark::DoNotOptimize(check);
    // As proxy/exchange.cpp: stripped here, the injected fields written with the bytes.
    const core::Injection inj{"vault.raxx.app", "raxx-vault-proxy/1.0", &tok};
    core::strip_request(req, inj);
    out.clear();
    core::append_request_header(out, req, &inj);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_RequestPath);

void BM_ResponsePath(benchmark::State& state) {
  std::string out;
  out.reserve(1024);
  AllocCounter count{state};
  for (auto _ : state) {
    http::response_parser<http::string_body> p;
    beast::error_code ec;
    p.put(boost::asio::buffer(response_bytes), ec);
    auto& res = p.get();
    core::ResponseFacts facts{.status = res.result_int(), .content_type = res[http::field::content_type]};
    auto d = core::classify(facts);
    benchmark::DoNotOptimize(d);
    core::rewrite_response(res);
    out.clear();
    core::append_response_header(out, res);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_ResponsePath);

void BM_ClassifyAccessPage(benchmark::State& state) {
  const std::string body(4000, 'x');
  AllocCounter count{state};
  for (auto _ : state) {
    core::ResponseFacts facts{.status = 403, .content_type = "text/html", .body = body};
    benchmark::DoNotOptimize(core::classify(facts));
  }
}
BENCHMARK(BM_ClassifyAccessPage);

}  // namespace
