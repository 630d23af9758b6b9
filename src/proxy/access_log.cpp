#include "proxy/access_log.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

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

void log_access(const AccessRecord& r, config::LogFormat format) {
  // Looked up once: `serve` sets logging up before the first request, and a registry lookup per
  // request would take its mutex on the hot path.
  static const auto logger = spdlog::get(std::string(access_logger_name));
  (logger ? logger : spdlog::default_logger())->info("{}", format_access(r, format));
}

}  // namespace vp::proxy
