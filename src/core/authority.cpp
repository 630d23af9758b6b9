#include "core/authority.hpp"

#include <fmt/format.h>

namespace vp::core {

std::string host_port(std::string_view host, std::uint16_t port) {
  if (host.find(':') != std::string_view::npos && !host.starts_with('[')) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

bool is_loopback_name(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  return host.starts_with("127.");
}

}  // namespace vp::core
