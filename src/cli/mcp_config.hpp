#pragma once
// `vault-proxy mcp-config`: writes (or, with --remove, reverts) the session-local `.mcp.json` entry
// that starts the Infisical MCP server against this proxy. It replaces the runbook's
// enable-vault-mcp.sh and its "To revert" step. The file only ever holds `${VAR}` references to
// credentials, never their values (docs/commands.md, ../shared/docs/infisical-api.md §1.1 and §4).

#include "config/config.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vp::cli {

/// `.mcp.json` documents keep their key order so that other servers' entries are written back as
/// they were.
using ojson = nlohmann::ordered_json;

/// The pinned MCP server package.
inline constexpr std::string_view infisical_mcp_package = "@infisical/mcp@0.0.24";
/// Env key that marks an entry written by mcp-config; its value says what else was created.
inline constexpr std::string_view managed_marker_key = "VAULT_PROXY_MANAGED";
/// Marker value: the entry was written into an existing file.
inline constexpr std::string_view managed_entry = "entry";
/// Marker value: the entry was written and the file was created for it.
inline constexpr std::string_view managed_entry_and_file = "entry+file";
/// The comment line written above the `.gitignore` line that mcp-config added.
inline constexpr std::string_view gitignore_marker = "# added by vault-proxy mcp-config";
/// Loopback hosts for NO_PROXY, so an inherited HTTP_PROXY does not capture the proxy's traffic.
inline constexpr std::string_view loopback_no_proxy = "localhost,127.0.0.1,::1";

/// Options of `mcp-config`.
struct McpConfigOptions {
  std::string path;  ///< empty: .mcp.json at the repository root (cli/project_root.hpp)
  std::string name = "infisical";
  std::optional<std::string> url;             ///< --url
  std::optional<std::uint16_t> port;          ///< --port
  std::string client_id_var = "INFISICAL_MCP_CLIENT_ID";
  std::string client_secret_var = "INFISICAL_MCP_CLIENT_SECRET";
  bool auto_auth = false;  ///< the entry holds the proxy's local placeholder, not the identity (docs/auto-auth.md)
  bool remove = false;   ///< revert what mcp-config added
  bool print = false;    ///< print the resulting file instead of writing it
  bool force = false;    ///< --remove: also remove an entry vault-proxy did not write
  bool json = false;     ///< machine-readable report on stdout
};

/// A refusal or failure with operator-facing text; `exit_code` is from exit_codes.hpp.
struct McpConfigError : std::runtime_error {
  McpConfigError(int code, const std::string& what) : std::runtime_error(what), exit_code(code) {}
  int exit_code;
};

/// What the entry holds.
struct McpEntrySpec {
  std::string host_url;  ///< e.g. http://127.0.0.1:2019 (no /api suffix)
  std::string client_id_var = "INFISICAL_MCP_CLIENT_ID";
  std::string client_secret_var = "INFISICAL_MCP_CLIENT_SECRET";
  bool created_file = false;  ///< recorded in the marker so --remove can delete the file again
  /// Write INFISICAL_HOST_URL as `${VAULT_PROXY_URL:-<host_url>}`: inside `vault-proxy run` the
  /// MCP server follows the run's proxy, whatever port it got; elsewhere it uses host_url.
  bool by_reference = true;
  /// Auto-auth: INFISICAL_AUTH_METHOD=access-token and INFISICAL_TOKEN=${VAULT_PROXY_LOCAL_TOKEN},
  /// and no client id or secret: the session holds neither the identity's secret nor a real token.
  bool auto_auth = false;
};

/// The variable `vault-proxy run --auto-auth` exports with the proxy's local placeholder token.
inline constexpr std::string_view local_token_var = "VAULT_PROXY_LOCAL_TOKEN";

/// The `mcpServers.<name>` value: npx @infisical/mcp with env pointing at the proxy.
ojson build_entry(const McpEntrySpec& spec);

/// The VAULT_PROXY_MANAGED marker's value in `entry` ("" when it has none).
std::string managed_marker(const ojson& entry);

/// The variable `vault-proxy run` exports with its proxy's URL, which the entry refers to.
inline constexpr std::string_view proxy_url_var = "VAULT_PROXY_URL";

/// Why vault-proxy may remove `entry`, in a sentence; nullopt when it is not ours. Ours is an
/// entry with the VAULT_PROXY_MANAGED marker, or one that runs the Infisical MCP server
/// (`@infisical/mcp…` in command or args) against a plain-http loopback INFISICAL_HOST_URL (its
/// `${VAR:-default}` defaults applied): what the runbook's enable script wrote before mcp-config
/// existed.
std::optional<std::string> ownership(const ojson& entry);

/// True for an upper-case environment variable name ([A-Z_][A-Z0-9_]*).
bool valid_env_var_name(std::string_view name);

/// Checks `--url`: http(s), a host, no `/api` suffix (the SDK adds `/api` itself). Returns the
/// problem, or "" when fine.
std::string url_problem(std::string_view url);

/// Credential keys (INFISICAL_UNIVERSAL_AUTH_CLIENT_ID/_SECRET, INFISICAL_TOKEN) of `entry`
/// whose value is not a `${VAR}` or `${VAR:-default}` reference: one sentence each.
std::vector<std::string> literal_credential_values(const ojson& entry);

/// A secret to look for: the variable it came from and its value.
struct KnownSecret {
  std::string var;
  std::string value;
};

/// Every place in `doc` (keys and string values, by JSON path) where a known secret's value occurs
/// literally: one sentence each, naming the variable and the path but never the value. Values
/// shorter than 8 bytes are not searched (too likely to match by chance).
std::vector<std::string> find_literal_secrets(const ojson& doc, const std::vector<KnownSecret>& secrets);

/// Variables referenced as `${VAR}` (no default) anywhere in `entry`'s command, args and env.
std::vector<std::string> referenced_vars(const ojson& entry);

/// Outcome of merging the entry into a document.
struct MergeResult {
  ojson doc;
  bool replaced = false;            ///< an entry of that name existed
  bool replaced_unmanaged = false;  ///< ...and vault-proxy had not written it
};

/// Puts `entry` at `mcpServers.<name>` in `existing` (null = new file), leaving every other key
/// and entry as it was. Throws McpConfigError(exit_usage) when the document has the wrong shape.
MergeResult merge_entry(const ojson& existing, const std::string& name, const ojson& entry);

/// Outcome of removing entries.
struct RemoveResult {
  ojson doc;
  std::vector<std::string> removed;             ///< names removed
  std::vector<std::string> matched;             ///< for each removed name: ownership()
  std::vector<std::string> skipped_unmanaged;   ///< named entry present but not written by vault-proxy
  bool delete_file = false;  ///< nothing but an empty mcpServers is left, in a file mcp-config created
};

/// Removes `mcpServers.<name>` if vault-proxy wrote it (or `force`); with no name, every entry
/// vault-proxy wrote. Throws McpConfigError(exit_usage) when the document has the wrong shape.
RemoveResult remove_entries(const ojson& doc, const std::optional<std::string>& name, bool force);

/// True when `text` (a .gitignore) has a line that ignores `filename` in its own directory
/// (`name`, `/name`, `**/name`).
bool gitignore_lists(std::string_view text, std::string_view filename);
/// `text` with the marker comment and `filename` appended. When `text` is empty the marker also
/// records that the .gitignore was created, so that removal can delete it again.
std::string gitignore_add(std::string_view text, std::string_view filename);

/// What is left of a .gitignore after taking out mcp-config's lines.
struct GitignoreRemoval {
  std::string text;
  bool delete_file = false;  ///< mcp-config created the file and nothing else is in it
};
/// `text` without the marker comment and the `filename` line right after it; nullopt when that
/// pair is not there (the line was not added by mcp-config).
std::optional<GitignoreRemoval> gitignore_remove(std::string_view text, std::string_view filename);

/// The outcome of one mcp-config run, for the report.
struct McpConfigReport {
  std::string path;                 ///< the .mcp.json written or edited
  std::string where;                ///< path, and why that one ("… (the repository root)")
  std::string action;               ///< created, updated, removed-entry, removed-file, unchanged, printed
  std::string url;                  ///< INFISICAL_HOST_URL written
  std::string url_source;           ///< --url, --port, VAULT_PROXY_PORT, running proxy, default
  std::string gitignore;            ///< added, already-ignored, not-a-git-tree, removed, kept, ""
  std::vector<std::string> removed; ///< entries removed
  std::vector<std::string> matched; ///< why each removed entry counted as ours (ownership())
  std::vector<std::string> warnings;
  std::string printed;              ///< --print: the document
};

/// Does the work (no printing) and returns the report; throws McpConfigError.
McpConfigReport apply_mcp_config(const McpConfigOptions& options, const config::Env& env);

/// `--remove` logic shared with `stop --revert`: removes the entry `name` (or every entry
/// vault-proxy wrote when name is empty) from the file at `path` (empty: the repository root's), deletes the file if mcp-config
/// created it and it is now empty, and takes out the .gitignore line mcp-config added.
McpConfigReport revert_mcp_config(const std::string& path, const std::optional<std::string>& name, bool force,
                                  bool print_only);

/// Registers the subcommand; the callback stores the exit code in `exit_code`.
void add_mcp_config(CLI::App& app, int& exit_code);

/// Runs mcp-config and prints the report (human or JSON). Returns an exit code.
int run_mcp_config(const McpConfigOptions& options, const config::Env& env);

}  // namespace vp::cli
