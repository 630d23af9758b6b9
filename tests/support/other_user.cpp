#include "support/other_user.hpp"

#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <utility>

namespace vp::test {

namespace {
constexpr const char* setpriv = "/usr/bin/setpriv";
}

std::optional<OtherUser> OtherUser::make(uid_t uid, std::string& why) {
  if (::geteuid() != 0) {
    why = "a second uid needs root (setpriv --reuid); these tests run as uid " + std::to_string(::geteuid());
    return std::nullopt;
  }
  if (::access(setpriv, X_OK) != 0) {
    why = std::string(setpriv) + " is missing (Debian package util-linux)";
    return std::nullopt;
  }
  return OtherUser(uid);
}

ProxyProcess::Options OtherUser::wrap(ProxyProcess::Options o) const {
  const char* override_binary = std::getenv("VP_TEST_BINARY");
  std::string binary = !o.binary.empty() ? o.binary
                       : override_binary && *override_binary ? override_binary
                                                             : VP_BINARY;
  const std::string id = std::to_string(uid_);
  std::vector<std::string> args{"--reuid=" + id, "--regid=" + id, "--clear-groups", std::move(binary)};
  args.insert(args.end(), o.args.begin(), o.args.end());
  o.args = std::move(args);
  o.binary = setpriv;
  return o;
}

void OtherUser::give(const std::string& path) const {
  if (::chown(path.c_str(), uid_, uid_) != 0) throw std::runtime_error("chown " + path + " failed");
}

}  // namespace vp::test
