#include "cli/project_root.hpp"

#include <sys/stat.h>

#include <filesystem>

namespace vp::cli {

namespace fs = std::filesystem;

ProjectRoot find_project_root(const std::string& start) {
  std::error_code ec;
  fs::path dir = fs::absolute(start, ec).lexically_normal();
  if (ec) dir = start;
  if (!dir.has_filename()) dir = dir.parent_path();  // "/repo/sub/" → "/repo/sub"
  for (fs::path d = dir;; d = d.parent_path()) {
    struct stat st {};
    // lstat: a `.git` symlink planted above the repository is not a repository.
    if (::lstat((d / ".git").c_str(), &st) == 0 && (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)))
      return {d.string(), true};
    if (d == d.root_path() || d.parent_path() == d) break;
  }
  return {dir.string(), false};
}

ProjectRoot current_project_root() {
  std::error_code ec;
  auto cwd = fs::current_path(ec);
  return find_project_root(ec ? std::string(".") : cwd.string());
}

std::string default_mcp_json(const std::string& explicit_path, const ProjectRoot& root) {
  if (!explicit_path.empty()) return explicit_path;
  return (fs::path(root.dir) / ".mcp.json").string();
}

std::string describe_mcp_json(const std::string& path, const ProjectRoot& root, bool explicit_path) {
  if (explicit_path) return path;
  return path + (root.in_repository ? " (the repository root)"
                                    : " (the current directory: it is not inside a git repository)");
}

}  // namespace vp::cli
