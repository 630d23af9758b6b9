#pragma once
// `${VAR}` and `${VAR:-default}` references, expanded the way Claude Code expands the values of a
// `.mcp.json` entry (command, args, env) when it starts an MCP server. Pure: the environment is a
// lookup function.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vp::core {

/// Looks a variable up; nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;

/// One reference: its variable's name and whether it carries a default.
struct EnvRef {
  std::string_view name;
  bool has_default = false;
  std::string_view fallback;  ///< the default (empty without one)
};

/// `text` as exactly one `${NAME}` or `${NAME:-default}` (no text around it), or nullopt.
std::optional<EnvRef> parse_env_ref(std::string_view text);

/// The expanded text and what it needed.
struct Expansion {
  std::string value;
  std::vector<std::string> referenced;  ///< every variable named, in order, once each
  std::vector<std::string> unset;       ///< referenced without a default and not set
};

/// Replaces each `${NAME}` by NAME's value and each `${NAME:-default}` by NAME's value when it is
/// set and not empty, else by `default` (as a POSIX shell does). NAME is `[A-Za-z_][A-Za-z0-9_]*`.
/// A reference to an unset variable without a default expands to nothing and is listed in
/// `unset`. Text that is not a well-formed reference (`$X`, `${`, `${1A}`) stays as it is.
Expansion expand_env_refs(std::string_view text, const EnvLookup& lookup);

}  // namespace vp::core
