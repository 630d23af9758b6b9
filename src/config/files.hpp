#pragma once
// Reading the files the configuration names: the TOML file and the CA bundle (internal to src/config).

#include <optional>
#include <string>

namespace vp::config {

/// Reads the whole config file (a regular file of at most 1 MiB), or sets `problem`.
std::optional<std::string> read_text_file(const std::string& path, std::string& problem);

/// Whether `path` is a regular file that can be opened and holds at least one byte; else sets `problem`.
bool readable_file(const std::string& path, std::string& problem);

}  // namespace vp::config
