#pragma once
// Logging setup: one stderr sink that scrubs secret values from every line and renders text or
// JSON lines.

#include "config/config.hpp"

namespace vp::cli {

/// Installs the default logger. `format` and `level` come from the config. Called again (a reload),
/// it changes the format and level of the loggers already installed: lines already being written
/// finish in the old format, the next ones use the new.
void setup_logging(config::LogFormat format, const std::string& level);

}  // namespace vp::cli
