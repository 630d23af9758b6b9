#pragma once
// Other local users, for tests in which a second user is the attacker: commands run as another uid
// through `setpriv --reuid=N --regid=N --clear-groups` (util-linux), which needs root. The uids
// need no /etc/passwd entry. Each test picks its own uids, so tests running in parallel never
// share a /tmp/vault-proxy-<uid> directory.

#include "support/proxy_process.hpp"

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace vp::test {

/// "" when this process can run commands as other uids; otherwise why it cannot (for GTEST_SKIP).
std::string other_uids_unavailable();

/// The vault-proxy binary under test when every uid can reach and execute it; otherwise a copy in
/// a mode 0755 directory (made once per test process).
const std::string& binary_for_other_uids();

/// Options that run `argv` (looked up on PATH) as `uid`, with gid `uid` and no supplementary
/// groups, with exactly `env` (plus PATH). wait_ready is off.
ProxyProcess::Options command_as(uid_t uid, std::vector<std::string> argv, std::map<std::string, std::string> env = {});

/// command_as() for `vault-proxy <args>`.
ProxyProcess::Options vault_proxy_as(uid_t uid, std::vector<std::string> args,
                                     std::map<std::string, std::string> env = {});

/// Runs `options` to completion: the exit code (128+signal), or -1 when it did not end in time.
struct Finished {
  int code = -1;
  std::string out;
  std::string err;
};
Finished run_to_end(ProxyProcess::Options options, std::chrono::milliseconds timeout = std::chrono::seconds(60));

/// /tmp/vault-proxy-<uid>, the state directory a uid gets without VAULT_PROXY_STATE_DIR and
/// XDG_RUNTIME_DIR.
std::string default_state_dir(uid_t uid);

/// Removes the default state directories of some uids when created and again when destroyed.
class DefaultStateDirs {
 public:
  explicit DefaultStateDirs(std::vector<uid_t> uids);
  DefaultStateDirs(const DefaultStateDirs&) = delete;
  DefaultStateDirs& operator=(const DefaultStateDirs&) = delete;
  ~DefaultStateDirs();

 private:
  std::vector<uid_t> uids_;
};

}  // namespace vp::test
