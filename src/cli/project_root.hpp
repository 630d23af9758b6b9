#pragma once
// Where the session-local `.mcp.json` lives: at the root of the repository the user works in
// (runbook "Session start" step 4), whatever subfolder a command runs from. `mcp-config`,
// `doctor` and `stop --revert` all look there.

#include <string>

namespace vp::cli {

/// The folder that holds `.mcp.json`.
struct ProjectRoot {
  std::string dir;           ///< absolute
  bool in_repository = false;  ///< false: no repository above the start folder; `dir` is the start
};

/// The nearest folder at or above `start` that holds a `.git` entry (a directory, or the file a
/// worktree or submodule has), as `git rev-parse --show-toplevel` finds it; else `start` itself.
ProjectRoot find_project_root(const std::string& start);

/// find_project_root of the current directory.
ProjectRoot current_project_root();

/// The `.mcp.json` path a command uses: `explicit_path` when given, else `<root>/.mcp.json`.
std::string default_mcp_json(const std::string& explicit_path, const ProjectRoot& root);

/// How a command says which `.mcp.json` it chose, e.g. "/repo/.mcp.json (the repository root)".
std::string describe_mcp_json(const std::string& path, const ProjectRoot& root, bool explicit_path);

}  // namespace vp::cli
