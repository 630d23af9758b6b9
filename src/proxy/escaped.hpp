#pragma once
// The completion handler of a detached coroutine: an exception that escapes it is logged, never
// lost (STYLE.md practice 4).

#include <spdlog/common.h>

#include <exception>
#include <string_view>

namespace vp::proxy {

/// Logs an escaped exception as "<what>: <reason>" at `level`; does nothing when none escaped.
struct LogEscaped {
  std::string_view what;
  spdlog::level::level_enum level = spdlog::level::err;

  void operator()(std::exception_ptr e) const;
};

}  // namespace vp::proxy
