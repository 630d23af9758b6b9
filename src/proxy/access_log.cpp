#include "proxy/access_log.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <atomic>

namespace vp::proxy {

std::string format_access(const AccessRecord& r, config::LogFormat format) {
  auto path = r.target.substr(0, r.target.find('?'));
  double ms = static_cast<double>(r.duration.count()) / 1000.0;
  if (format == config::LogFormat::json) {
    nlohmann::json j{{"type", "access"},          {"method", r.method},
                     {"path", path},              {"status", r.status},
                     {"upstream_status", r.upstream_status},
                     {"bytes", r.bytes},          {"duration_ms", ms},
                     {"error", r.error},         {"diagnosis", r.diagnosis},
                     {"underscore_fields_removed", r.underscore_fields_removed},
                     {"access_cookies_removed", r.access_cookies_removed}};
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  auto line = fmt::format("{} {} {} upstream={} bytes={} {:.3f}ms error={} diagnosis={}", r.method, path,
                          r.status, r.upstream_status, r.bytes, ms, r.error.empty() ? "-" : r.error,
                          r.diagnosis.empty() ? "-" : r.diagnosis);
  // Removals are rare, and a line names them only when they happened.
  if (r.underscore_fields_removed > 0) line += fmt::format(" underscore_fields_removed={}", r.underscore_fields_removed);
  if (r.access_cookies_removed > 0) line += fmt::format(" access_cookies_removed={}", r.access_cookies_removed);
  return line;
}

namespace {
std::atomic<config::LogFormat> g_access_format{config::LogFormat::text};
}

void set_access_format(config::LogFormat format) noexcept { g_access_format.store(format, std::memory_order_relaxed); }

config::LogFormat access_format() noexcept { return g_access_format.load(std::memory_order_relaxed); }

void log_access(const AccessRecord& r) {
  // Looked up once: `serve` sets logging up before the first request, and a registry lookup per
  // request would take its mutex on the hot path.
  static const auto logger = spdlog::get(std::string(access_logger_name));
  (logger ? logger : spdlog::default_logger())->info("{}", format_access(r, access_format()));
}

}  // namespace vp::proxy
