#include "proxy/access_log.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace vp::proxy {

std::string format_access(const AccessRecord& r, config::LogFormat format) {
  auto path = r.target.substr(0, r.target.find('?'));
  double ms = static_cast<double>(r.duration.count()) / 1000.0;
  if (format == config::LogFormat::json) {
    nlohmann::json j{{"type", "access"},          {"method", r.method},
                     {"path", path},              {"status", r.status},
                     {"upstream_status", r.upstream_status},
                     {"bytes", r.bytes},          {"duration_ms", ms},
                     {"error", r.error},         {"diagnosis", r.diagnosis}};
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return fmt::format("{} {} {} upstream={} bytes={} {:.3f}ms error={} diagnosis={}", r.method, path,
                     r.status, r.upstream_status, r.bytes, ms, r.error.empty() ? "-" : r.error,
                     r.diagnosis.empty() ? "-" : r.diagnosis);
}

}  // namespace vp::proxy
