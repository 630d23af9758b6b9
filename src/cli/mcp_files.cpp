#include "cli/mcp_files.hpp"

#include "cli/exit_codes.hpp"
#include "cli/mcp_config.hpp"
#include "cli/project_root.hpp"
#include "sys/files.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cerrno>
#include <vector>

extern char** environ;

namespace vp::cli {

namespace fs = std::filesystem;

namespace {

/// True when `p` is `dir` itself or lies below it (both canonical).
bool is_within(const fs::path& p, const fs::path& dir) {
  auto rel = p.lexically_relative(dir);
  return !rel.empty() && *rel.begin() != "..";
}

}  // namespace

std::optional<fs::path> git_top_level(const fs::path& start) {
  std::error_code ec;
  fs::path dir = fs::weakly_canonical(start, ec);
  if (ec) return std::nullopt;
  auto root = find_project_root(dir.string());
  if (!root.in_repository) return std::nullopt;
  return fs::path(root.dir);
}

fs::path resolve_project_file(const fs::path& given) {
  const fs::path p = fs::absolute(given).lexically_normal();
  std::error_code ec;
  if (!fs::is_symlink(fs::symlink_status(p, ec))) return p;
  const fs::path target = fs::weakly_canonical(p, ec);
  if (ec)
    throw McpConfigError(exit_failure, fmt::format("refusing to write {}: it is a symbolic link that cannot be "
                                                   "resolved ({}). Replace it with a regular file and run the "
                                                   "command again",
                                                   p.string(), ec.message()));
  const auto top = git_top_level(p.parent_path());
  if (top && is_within(target, *top) && !is_within(target, *top / ".git")) return target;
  throw McpConfigError(
      exit_failure,
      fmt::format("refusing to write {}: it is a symbolic link to {}, {}. mcp-config writes through a link only "
                  "when it leads to a file inside the same git repository, so that a planted link cannot make it "
                  "copy or change a file elsewhere. Nothing was written. Replace the link with a regular file "
                  "(or point it inside the repository) and run the command again",
                  p.string(), target.string(),
                  top ? "outside the repository " + top->string() : std::string("and it is not in a git repository")));
}

std::optional<std::string> read_project_file(const fs::path& path) {
  auto read = sys::read_file(path.string(), sys::owned_by_caller(S_IWOTH));
  if (read.missing) return std::nullopt;
  if (!read.content)
    throw McpConfigError(exit_failure, fmt::format("{}; refusing to edit it. Nothing was written; fix that (or move "
                                                   "the file away) and run the command again",
                                                   read.problem));
  return std::move(*read.content);
}

void write_project_file(const fs::path& path, std::string_view text, mode_t mode) {
  try {
    sys::write_file_atomic(path.string(), text, mode);
  } catch (const sys::FileError& e) {
    throw McpConfigError(exit_failure, fmt::format("{}; nothing was changed", e.what()));
  }
}

mode_t existing_mode(const fs::path& path, mode_t fallback) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return st.st_mode & 07777;
  return fallback;
}

std::optional<bool> git_ignores(const fs::path& dir, const std::string& filename) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  std::vector<std::string> args{"git", "-C", dir.string(), "check-ignore", "-q", "--", filename};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, "git", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return std::nullopt;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status)) return std::nullopt;
  if (WEXITSTATUS(status) == 0) return true;
  if (WEXITSTATUS(status) == 1) return false;
  return std::nullopt;
}

std::string add_gitignore_line(const fs::path& gi, const std::optional<std::string>& gtext, const fs::path& mcp_json) {
  const fs::path dir = mcp_json.parent_path();
  const std::string filename = mcp_json.filename().string();
  if (!gtext && !git_top_level(dir)) return "not-a-git-tree";
  auto ignored = git_ignores(dir, filename);
  if ((ignored && *ignored) || gitignore_lists(gtext.value_or(""), filename)) return "already-ignored";
  write_project_file(gi, gitignore_add(gtext.value_or(""), filename), existing_mode(gi, 0644));
  return "added";
}

std::string remove_gitignore_line(const fs::path& gi, const fs::path& mcp_json) {
  auto text = read_project_file(gi);
  if (!text) return "";
  auto g = gitignore_remove(*text, mcp_json.filename().string());
  if (!g) return "";
  std::error_code ec;
  if (g->delete_file) fs::remove(gi, ec);
  else write_project_file(gi, g->text, existing_mode(gi, 0644));
  return "removed";
}

}  // namespace vp::cli
