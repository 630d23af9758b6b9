#include "support/other_user.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

#ifndef VP_BINARY
#define VP_BINARY "vault-proxy"
#endif

namespace vp::test {

namespace fs = std::filesystem;

namespace {

/// The first `name` on PATH that is executable, or "".
std::string on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (std::size_t start = 0; start <= dirs.size();) {
    auto colon = dirs.find(':', start);
    if (colon == std::string::npos) colon = dirs.size();
    std::string candidate = dirs.substr(start, colon - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = colon + 1;
  }
  return {};
}

/// Every directory on the way to `file` lets others search it, and others may read and run `file`.
bool reachable_by_others(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0 || (st.st_mode & (S_IROTH | S_IXOTH)) != (S_IROTH | S_IXOTH)) return false;
  for (fs::path dir = file.parent_path(); !dir.empty(); dir = dir.parent_path()) {
    if (::stat(dir.c_str(), &st) != 0 || (st.st_mode & S_IXOTH) == 0) return false;
    if (dir == dir.root_path()) break;
  }
  return true;
}

}  // namespace

std::string other_uids_unavailable() {
  if (::geteuid() != 0) return "running commands as a second and third uid needs root (CI runs the suite as root)";
  if (on_path("setpriv").empty()) return "setpriv (util-linux) is not on PATH";
  return {};
}

const std::string& binary_for_other_uids() {
  static std::unique_ptr<TempDir> copy_dir;
  static const std::string binary = [] {
    const char* override_binary = std::getenv("VP_TEST_BINARY");
    fs::path built = fs::absolute(override_binary && *override_binary ? override_binary : VP_BINARY);
    if (reachable_by_others(built)) return built.string();
    copy_dir = std::make_unique<TempDir>("vp-bin-");
    ::chmod(copy_dir->path().c_str(), 0755);
    fs::path copy = fs::path(copy_dir->path()) / "vault-proxy";
    fs::copy_file(built, copy);
    ::chmod(copy.c_str(), 0755);
    return copy.string();
  }();
  return binary;
}

ProxyProcess::Options command_as(uid_t uid, std::vector<std::string> argv, std::map<std::string, std::string> env) {
  ProxyProcess::Options o;
  o.binary = on_path("setpriv");
  o.args = {"--reuid=" + std::to_string(uid), "--regid=" + std::to_string(uid), "--clear-groups", "--"};
  o.args.insert(o.args.end(), argv.begin(), argv.end());
  o.env = std::move(env);
  o.wait_ready = false;
  return o;
}

ProxyProcess::Options vault_proxy_as(uid_t uid, std::vector<std::string> args, std::map<std::string, std::string> env) {
  args.insert(args.begin(), binary_for_other_uids());
  return command_as(uid, std::move(args), std::move(env));
}

Finished run_to_end(ProxyProcess::Options options, std::chrono::milliseconds timeout) {
  ProxyProcess p(std::move(options));
  auto code = p.wait_exit(timeout);
  return {code.value_or(-1), p.stdout_text(), p.stderr_text()};
}

std::string default_state_dir(uid_t uid) { return "/tmp/vault-proxy-" + std::to_string(uid); }

DefaultStateDirs::DefaultStateDirs(std::vector<uid_t> uids) : uids_(std::move(uids)) {
  std::error_code ec;
  for (uid_t u : uids_) fs::remove_all(default_state_dir(u), ec);
}

DefaultStateDirs::~DefaultStateDirs() {
  std::error_code ec;
  for (uid_t u : uids_) fs::remove_all(default_state_dir(u), ec);
}

}  // namespace vp::test
