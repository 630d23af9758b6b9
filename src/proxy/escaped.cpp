#include "proxy/escaped.hpp"

#include <spdlog/spdlog.h>

namespace vp::proxy {

void LogEscaped::operator()(std::exception_ptr e) const {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    spdlog::log(level, "{}: {}", what, x.what());
  } catch (...) {
    spdlog::log(level, "{}: an exception that is not a std::exception", what);
  }
}

}  // namespace vp::proxy
