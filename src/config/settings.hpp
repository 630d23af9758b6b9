#pragma once
// Every setting as one row: its TOML key, flag, environment variable, help and docs text, and the
// function that checks a value and stores it in Config. The loader, the command-line flags and the
// tables in docs/configuration.md are all derived from these rows, so adding a setting is one row.

#include "config/config.hpp"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vp::config {

/// The TOML type a setting must have in the file; flags and the environment always give text.
enum class Kind { string, integer, boolean };

/// What is wrong with one value and how to fix it; the loader adds the field and the source.
struct Problem {
  std::string problem;  ///< e.g. "'70000' is not a port number"
  std::string fix;      ///< e.g. "use a whole number from 0 to 65535"
};

/// One user-settable value. A row with neither flag nor env can only be set in the TOML file.
struct Setting {
  std::string_view key{};         ///< TOML key ("timeouts.connect_ms" for [timeouts]); the Flags::values key
  std::string_view flag{};        ///< e.g. "--port"; empty when there is no flag
  std::string_view short_flag{};  ///< e.g. "-p"; usually empty
  std::string_view env{};         ///< e.g. "VAULT_PROXY_PORT"; empty when there is no variable
  Kind kind = Kind::string;       ///< the TOML type
  std::string_view help{};        ///< --help text; flag_help() appends the env variable and the default
  std::string_view doc{};         ///< the docs table's description (Markdown)
  /// The documented default (Markdown) when show() of the defaults is "": unset, none, ...
  std::string_view unset_doc = "unset";
  /// Checks a value (TOML values arrive as text: 5000, true) and stores it; returns what is wrong.
  std::vector<Problem> (*apply)(std::string_view value, Config& c) = nullptr;
  /// The field as a value apply() accepts and stores unchanged; "" when unset.
  std::string (*show)(const Config& c) = nullptr;
};

/// Every setting, in the order issues, --help and the docs list them; [timeouts] rows come last.
std::span<const Setting> settings();

/// The row whose TOML key is `key`, or null.
const Setting* find_setting(std::string_view key);

/// The Issue::field of a setting: its key and every way to set it, e.g.
/// "port (--port / VAULT_PROXY_PORT / port)", or "ready_cache_ms (TOML file only)".
std::string issue_field(const Setting& s);

/// The --help line: the row's help, its environment variable and its default.
std::string flag_help(const Setting& s);

/// The default as the docs show it (Markdown): `2019`, or the row's unset_doc.
std::string default_doc(const Setting& s);

/// The flag and variable that name the TOML file. Not a setting: it chooses where settings come from.
inline constexpr std::string_view config_flag = "--config";
inline constexpr std::string_view config_env = "VAULT_PROXY_CONFIG";

/// The generated tables of docs/configuration.md.
enum class DocTable {
  settings,  ///< every top-level setting, plus --unsafe-listen and --config
  timeouts,  ///< the [timeouts] table
};

/// Renders one table as Markdown, one line per row, ending in a newline.
std::string render_doc_table(DocTable which);

}  // namespace vp::config
