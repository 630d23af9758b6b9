#include "cli/logging.hpp"

#include "core/redact.hpp"

#include <fmt/chrono.h>
#include <nlohmann/json.hpp>
#include <spdlog/details/null_mutex.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <mutex>

namespace vp::cli {
namespace {

// Every line passes through RedactionSet::global() before it is written.
class RedactingStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit RedactingStderrSink(config::LogFormat format) : format_(format) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string payload =
        core::RedactionSet::global().apply(std::string_view(msg.payload.data(), msg.payload.size()));
    std::string line;
    if (format_ == config::LogFormat::json) {
      nlohmann::json j;
      j["time"] = fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", fmt::gmtime(std::chrono::system_clock::to_time_t(msg.time)));
      j["level"] = std::string(spdlog::level::to_string_view(msg.level).data(),
                               spdlog::level::to_string_view(msg.level).size());
      auto parsed = nlohmann::json::parse(payload, nullptr, false);
      if (!payload.empty() && payload.front() == '{' && parsed.is_object())
        j.update(parsed);
      else
        j["msg"] = payload;
      line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
      line = fmt::format("{:%Y-%m-%dT%H:%M:%S}Z {} {}",
                         fmt::gmtime(std::chrono::system_clock::to_time_t(msg.time)),
                         spdlog::level::to_string_view(msg.level), payload);
    }
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
  }
  void flush_() override { std::fflush(stderr); }

 private:
  config::LogFormat format_;
};

}  // namespace

void setup_logging(config::LogFormat format, const std::string& level) {
  auto sink = std::make_shared<RedactingStderrSink>(format);
  auto logger = std::make_shared<spdlog::logger>("vault-proxy", sink);
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

}  // namespace vp::cli
