#pragma once
// The files mcp-config reads and writes in a project directory (`.mcp.json`, `.gitignore`): where a
// symlink may lead, how they are read and replaced (sys/files.hpp), and what git says about them.
// A repository can hold links that someone else made: `.gitignore -> ~/.ssh/id_ed25519` must not
// put the key into the repository.

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace vp::cli {

/// The top level of the git work tree holding `dir` (the nearest directory, `dir` included, with a
/// `.git` entry), with symlinks resolved; nullopt outside any work tree.
std::optional<std::filesystem::path> git_top_level(const std::filesystem::path& dir);

/// The file mcp-config edits for `given` (absolute, normalised). A symlink is followed only when
/// its target lies inside the git work tree that holds the link, outside `.git/` (both compared
/// after realpath); otherwise McpConfigError(exit_failure) names the link and its target, and
/// says what to do. Nothing is written through a link that leads elsewhere.
std::filesystem::path resolve_project_file(const std::filesystem::path& given);

/// The text of `path`, read without following a symlink; it must be a regular file of this user
/// that others cannot write. nullopt when it does not exist. Throws McpConfigError.
std::optional<std::string> read_project_file(const std::filesystem::path& path);

/// Replaces `path` with `text` (sys::write_file_atomic, mode `mode`). Throws
/// McpConfigError(exit_failure) naming the file; nothing was changed then.
void write_project_file(const std::filesystem::path& path, std::string_view text, mode_t mode);

/// Permission bits of `path` itself (lstat), or `fallback` when nothing is there.
mode_t existing_mode(const std::filesystem::path& path, mode_t fallback);

/// `git check-ignore`: true/false, or nullopt when git is missing or this is not a repository git
/// understands. It sees global excludes and parent .gitignore files too.
std::optional<bool> git_ignores(const std::filesystem::path& dir, const std::string& filename);

/// Adds mcp-config's line for `mcp_json` to the .gitignore `gi` (whose text is `gtext`, nullopt
/// when it does not exist) unless git or that text already ignores the file. Returns the report's
/// `gitignore` value: "added", "already-ignored" or "not-a-git-tree".
std::string add_gitignore_line(const std::filesystem::path& gi, const std::optional<std::string>& gtext,
                               const std::filesystem::path& mcp_json);

/// Takes mcp-config's line for `mcp_json` out of the .gitignore `gi` again (deleting a .gitignore
/// it created). Returns "removed", or "" when the line is not there.
std::string remove_gitignore_line(const std::filesystem::path& gi, const std::filesystem::path& mcp_json);

}  // namespace vp::cli
