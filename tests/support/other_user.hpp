#pragma once
// A second local user for tests where another uid matters: the attacker on a shared machine, or a
// non-root caller whose view of /proc depends on dumpability. Commands run as that uid through
// setpriv(1). Only available when the tests run as root (CI does) and setpriv exists.

#include "support/proxy_process.hpp"

#include <sys/types.h>

#include <optional>
#include <string>

namespace vp::test {

/// An unprivileged uid (and gid of the same number) with no supplementary groups. It needs no
/// /etc/passwd entry.
class OtherUser {
 public:
  /// The user, or nullopt when no second uid can be made here; then `why` says why.
  static std::optional<OtherUser> make(uid_t uid, std::string& why);

  uid_t uid() const noexcept { return uid_; }
  /// `o` rewritten to run its binary as this user: setpriv becomes the binary.
  ProxyProcess::Options wrap(ProxyProcess::Options o) const;
  /// Hands `path` (a file or directory the test made) to this user.
  void give(const std::string& path) const;

 private:
  explicit OtherUser(uid_t uid) : uid_(uid) {}
  uid_t uid_;
};

}  // namespace vp::test
