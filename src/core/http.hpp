#pragma once
// Namespace aliases shared by every layer.
#include <boost/beast/http.hpp>

namespace vp {
namespace beast = boost::beast;
namespace http = boost::beast::http;
}  // namespace vp
