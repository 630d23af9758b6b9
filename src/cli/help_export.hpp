#pragma once
// `vault-proxy help-export --format man|bash|zsh`: the man page and the shell completions,
// rendered from the same CLI::App tree as --help so that the three never drift (issue 16).

#include <iosfwd>
#include <string_view>

namespace CLI {
class App;
}

namespace vp::cli {

/// What help-export renders.
enum class HelpFormat { man, bash, zsh };

/// Writes vault-proxy(1) in roff: one section per subcommand (nested ones included), each option
/// with its description, the root's footer as EXIT STATUS.
void render_man(const CLI::App& root, std::string_view version, std::ostream& out);
/// Writes a bash completion script (bash-completion's `complete -F`) for every subcommand and flag.
void render_bash(const CLI::App& root, std::ostream& out);
/// Writes a zsh completion script (`#compdef vault-proxy`, `_arguments`) for every subcommand and flag.
void render_zsh(const CLI::App& root, std::ostream& out);

/// Adds the hidden `help-export` subcommand; it renders `app` itself, so it must be added last.
void add_help_export(CLI::App& app, int& exit_code);

}  // namespace vp::cli
