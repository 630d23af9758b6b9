#include "cli/logging.hpp"

#include "core/redact.hpp"
#include "proxy/access_log.hpp"

#include <fmt/chrono.h>
#include <nlohmann/json.hpp>
#include <spdlog/details/null_mutex.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>
#include <mutex>

namespace vp::cli {
namespace {

// Every line passes through RedactionSet::global() before it is written.
class RedactingStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit RedactingStderrSink(config::LogFormat format) : format_(format) {}
  void set_format(config::LogFormat format) { format_.store(format, std::memory_order_relaxed); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string payload =
        core::RedactionSet::global().apply(std::string_view(msg.payload.data(), msg.payload.size()));
    const auto time = fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", fmt::gmtime(std::chrono::system_clock::to_time_t(msg.time)));
    const auto level = spdlog::level::to_string_view(msg.level);
    std::string line;
    if (format_.load(std::memory_order_relaxed) != config::LogFormat::json) {
      line = fmt::format("{} {} {}", time, level, payload);
    } else if (msg.logger_name == proxy::access_logger_name && payload.starts_with('{')) {
      // An access record is already a JSON object (proxy::format_access): the time and level go
      // in front of its first member, without parsing it again.
      line = fmt::format("{{\"ts\":\"{}\",\"level\":\"{}\",\"msg\":\"access\",{}", time, level,
                         std::string_view(payload).substr(1));
    } else {
      // The field names most log pipelines expect: ts, level, msg.
      nlohmann::json j{{"ts", time}, {"level", std::string_view(level.data(), level.size())}, {"msg", payload}};
      line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
  }
  void flush_() override { std::fflush(stderr); }

 private:
  std::atomic<config::LogFormat> format_;
};

std::shared_ptr<RedactingStderrSink>& installed_sink() {
  static std::shared_ptr<RedactingStderrSink> sink;
  return sink;
}

}  // namespace

void setup_logging(config::LogFormat format, const std::string& level) {
  proxy::set_access_format(format);
  if (auto& sink = installed_sink()) {
    sink->set_format(format);
    spdlog::default_logger()->set_level(spdlog::level::from_str(level));
    if (auto access = spdlog::get(std::string(proxy::access_logger_name))) access->set_level(spdlog::level::from_str(level));
    return;
  }
  auto sink = std::make_shared<RedactingStderrSink>(format);
  installed_sink() = sink;
  auto logger = std::make_shared<spdlog::logger>("vault-proxy", sink);
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
  // Access records share the sink; their own name tells it that a JSON record is already built.
  auto access = std::make_shared<spdlog::logger>(std::string(proxy::access_logger_name), sink);
  access->set_level(logger->level());
  spdlog::drop(std::string(proxy::access_logger_name));
  spdlog::register_logger(access);
}

}  // namespace vp::cli
