#include "net/port_owner.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace vp::net_util {
namespace {

// /proc/net/tcp{,6}: "sl local_address rem_address st ... uid timeout inode"; st 0A = LISTEN.
std::optional<std::string> listening_inode(std::uint16_t port) {
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string sl, local, remote, state, queues, timer, retr, uid, timeout, inode;
      fields >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> inode;
      auto colon = local.rfind(':');
      if (colon == std::string::npos || state != "0A") continue;
      if (std::stoul(local.substr(colon + 1), nullptr, 16) == port) return inode;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> port_owner(std::uint16_t port) {
  auto inode = listening_inode(port);
  if (!inode) return std::nullopt;
  const std::string wanted = "socket:[" + *inode + "]";
  std::error_code ec;
  for (auto const& proc : std::filesystem::directory_iterator("/proc", ec)) {
    auto pid = proc.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code fec;
    for (auto const& fd : std::filesystem::directory_iterator(proc.path() / "fd", fec)) {
      std::error_code lec;
      if (std::filesystem::read_symlink(fd.path(), lec).string() == wanted) {
        std::ifstream comm(proc.path() / "comm");
        std::string name;
        std::getline(comm, name);
        return "pid " + pid + " (" + name + ")";
      }
    }
  }
  return std::nullopt;
}

}  // namespace vp::net_util
