#include "cli/mcp_config.hpp"

#include "cli/exit_codes.hpp"
#include "cli/mcp_files.hpp"
#include "cli/project_root.hpp"
#include "cli/runtime_state.hpp"
#include "core/env_refs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>

namespace vp::cli {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view credential_keys[] = {"INFISICAL_UNIVERSAL_AUTH_CLIENT_ID",
                                                "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET", "INFISICAL_TOKEN"};
constexpr std::string_view gitignore_created_suffix = " (created .gitignore)";
constexpr std::size_t min_secret_scan = 8;

bool is_managed(const ojson& entry) { return ownership(entry).has_value(); }

std::string json_path_join(const std::string& base, const std::string& key) {
  return base.empty() ? key : base + "." + key;
}

void scan(const ojson& node, const std::string& path, const std::vector<KnownSecret>& secrets,
          std::vector<std::string>& found) {
  auto check = [&](const std::string& text, const std::string& where) {
    for (auto& s : secrets)
      if (s.value.size() >= min_secret_scan && text.find(s.value) != std::string::npos)
        found.push_back(fmt::format("the value of ${} appears literally at {}", s.var, where));
  };
  if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      auto sub = json_path_join(path, it.key());
      check(it.key(), sub + " (as a key)");
      scan(it.value(), sub, secrets, found);
    }
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) scan(node[i], fmt::format("{}[{}]", path, i), secrets, found);
  } else if (node.is_string()) {
    check(node.get<std::string>(), path);
  }
}

void collect_refs(const ojson& node, std::vector<std::string>& out) {
  if (node.is_string()) {
    // Expanded with nothing set, what stays unset is each reference without a default.
    auto unset = core::expand_env_refs(node.get_ref<const std::string&>(),
                                       [](std::string_view) -> std::optional<std::string> { return std::nullopt; })
                     .unset;
    for (auto& name : unset)
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
  } else if (node.is_array() || node.is_object()) {
    for (auto& v : node) collect_refs(v, out);
  }
}

std::string trim_line(std::string_view l) {
  while (!l.empty() && (l.back() == '\r' || l.back() == ' ' || l.back() == '\t')) l.remove_suffix(1);
  return std::string(l);
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    lines.emplace_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

std::optional<ojson> load_doc(const fs::path& p) {
  auto text = read_project_file(p);
  if (!text) return std::nullopt;
  try {
    return ojson::parse(*text);
  } catch (const ojson::parse_error& e) {
    throw McpConfigError(exit_usage,
                         fmt::format("refusing to touch {}: it is not valid JSON (parse error at byte {}). Nothing "
                                     "was written. Fix the file (or move it away) and run the command again",
                                     p.string(), e.byte));
  }
}

struct ResolvedUrl {
  std::string url;       ///< what goes into the file (with the capability prefix, if any)
  std::string display;   ///< for output: the prefix masked
  std::string source;
  bool proxy_running = true;  ///< false: nothing runs on the chosen port yet
  bool by_reference = true;   ///< false: --url, written as given
};

/// The .mcp.json to use: --path, else the repository root's; and how to name it in output.
std::pair<fs::path, std::string> chosen_file(const std::string& given) {
  const auto root = current_project_root();
  const std::string path = default_mcp_json(given, root);
  return {resolve_project_file(path), describe_mcp_json(path, root, !given.empty())};
}

/// Adds the capability prefix of the proxy recorded on `port`, when that proxy requires one.
ResolvedUrl with_running_proxy(std::string base, std::string source, const FoundProxy* proxy) {
  ResolvedUrl r{base, base, std::move(source), proxy != nullptr};
  if (!proxy) return r;
  std::string error;
  auto prefix = capability_prefix(proxy->state, error);
  if (!prefix)
    throw McpConfigError(exit_failure, error + "; or give the whole URL with --url");
  if (!prefix->empty()) {
    r.url = base + *prefix;
    r.display = base + "/<capability>";
  }
  return r;
}

ResolvedUrl resolve_url(const McpConfigOptions& o, const config::Env& env) {
  if (o.url) {
    if (auto problem = url_problem(*o.url); !problem.empty())
      throw McpConfigError(exit_usage, fmt::format("--url {}: {}", *o.url, problem));
    std::string u = *o.url;
    while (u.size() > 1 && u.back() == '/' && u.find("://") + 3 < u.size() - 1) u.pop_back();
    return {u, u, "--url", true, false};
  }
  std::optional<std::uint16_t> port;
  std::string source;
  if (o.port) {
    if (*o.port == 0)
      throw McpConfigError(exit_usage, "--port 0: the MCP server needs a fixed port; give the port the proxy listens on");
    port = o.port;
    source = "--port";
  } else if (auto v = env("VAULT_PROXY_PORT"); v && !v->empty()) {
    auto p = parse_port(*v);
    if (!p)
      throw McpConfigError(exit_usage, fmt::format("VAULT_PROXY_PORT='{}' is not a port number; fix it or pass --port", *v));
    if (*p != 0) {
      port = p;
      source = "VAULT_PROXY_PORT";
    }
  }
  auto survey = survey_proxies(env, port);
  if (!survey.refused.empty())
    throw McpConfigError(exit_failure, survey.refused + "; or give the proxy's URL with --url. Nothing was written");
  if (port)
    return with_running_proxy(proxy_url("127.0.0.1", *port), source,
                              survey.running.empty() ? nullptr : &survey.running.front());
  if (survey.running.size() == 1) {
    auto& p = survey.running.front();
    std::string problem;
    auto host = loopback_connect_address(p.state.listen, problem);
    if (!host)
      throw McpConfigError(
          exit_failure,
          fmt::format("refusing to point the MCP server at the proxy recorded in {}: the state file {}. The MCP "
                      "server sends the identity's client secret to that address. Nothing was written; if the "
                      "proxy really listens there, give its loopback URL with --url",
                      p.path, problem));
    return with_running_proxy(proxy_url(*host, p.state.port), fmt::format("the running proxy (pid {})", p.state.pid),
                              &p);
  }
  if (survey.running.size() > 1) {
    std::string ports;
    for (auto& r : survey.running) ports += fmt::format("{}{}", ports.empty() ? "" : ", ", r.state.port);
    throw McpConfigError(exit_usage,
                         fmt::format("several proxies are running (ports {}); choose one with --port", ports));
  }
  auto r = with_running_proxy(proxy_url("127.0.0.1", 2019), "the default port", nullptr);
  r.proxy_running = false;
  return r;
}

/// Throws when the current value of a credential variable appears anywhere in `doc`.
void refuse_literal_secrets(const McpConfigOptions& o, const config::Env& env, const ojson& doc,
                            const std::string& path) {
  std::vector<KnownSecret> secrets;
  for (const std::string& var : {o.client_id_var, o.client_secret_var, std::string("CF_ACCESS_CLIENT_ID"),
                                 std::string("CF_ACCESS_CLIENT_SECRET")})
    if (auto v = env(var); v && !v->empty()) secrets.push_back({var, *v});
  if (auto leaks = find_literal_secrets(doc, secrets); !leaks.empty())
    throw McpConfigError(
        exit_usage,
        fmt::format("refusing to write {}: {}. The file must hold only ${{VAR}} references (Claude Code expands "
                    "them when it starts the server): replace each literal value with a reference such as "
                    "\"${{{}}}\" and run the command again. If the file was ever committed or shared, rotate "
                    "that secret. Nothing was written",
                    path, fmt::join(leaks, "; "), o.client_secret_var));
}

void add_warnings(McpConfigReport& rep, const McpConfigOptions& o, const config::Env& env, const MergeResult& merged,
                  const ojson& entry, const ResolvedUrl& url) {
  if (merged.replaced_unmanaged)
    rep.warnings.push_back(fmt::format("replaced an existing \"{}\" entry that vault-proxy had not written", o.name));
  for (auto& var : referenced_vars(entry))
    if (auto v = env(var); (!v || v->empty()) && var == local_token_var)
      rep.warnings.push_back(fmt::format(
          "{} is not set in this environment; start Claude Code with 'vault-proxy run --auto-auth -- claude', which "
          "exports it, or export it from the proxy's local token file (docs/auto-auth.md)",
          var));
    else if (!v || v->empty())
      rep.warnings.push_back(fmt::format(
          "{} is not set in this environment; Claude Code expands ${{{}}} when it starts the MCP server, and "
          "an unset variable keeps the server from logging in. Export it before starting Claude Code",
          var, var));
  if (!url.proxy_running)
    rep.warnings.push_back(fmt::format("no vault-proxy is running at {} yet; start it with 'vault-proxy serve' (or "
                                       "'vault-proxy run -- <command>') before Claude Code starts",
                                       url.display));
  if (url.display != url.url)
    rep.warnings.push_back("the URL holds this proxy's capability prefix, which changes every time the proxy "
                           "starts: run mcp-config again after a restart");
}

}  // namespace

bool valid_env_var_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

std::string url_problem(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("http://")) rest = url.substr(7);
  else if (url.starts_with("https://")) rest = url.substr(8);
  else return "use an http:// or https:// URL, e.g. http://127.0.0.1:2019";
  auto slash = rest.find('/');
  if (rest.substr(0, slash).empty()) return "the URL has no host";
  if (rest.find_first_of("@?# ") != std::string_view::npos) return "give only scheme, host and port";
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.ends_with("/api"))
    return "do not end the URL with /api: the Infisical SDK adds /api itself (…/api gives /api/api/… and 404)";
  return {};
}

std::vector<std::string> literal_credential_values(const ojson& entry) {
  std::vector<std::string> out;
  if (!entry.is_object() || !entry.contains("env") || !entry["env"].is_object()) return out;
  for (auto key : credential_keys) {
    auto it = entry["env"].find(std::string(key));
    if (it == entry["env"].end()) continue;
    if (!it->is_string() || !core::parse_env_ref(it->get_ref<const std::string&>()))
      out.push_back(fmt::format("env.{} is not a ${{VAR}} reference", key));
  }
  return out;
}

std::vector<std::string> find_literal_secrets(const ojson& doc, const std::vector<KnownSecret>& secrets) {
  std::vector<std::string> found;
  scan(doc, "", secrets, found);
  return found;
}

std::vector<std::string> referenced_vars(const ojson& entry) {
  std::vector<std::string> out;
  if (!entry.is_object()) return out;
  for (const char* key : {"command", "args", "env"})
    if (entry.contains(key)) collect_refs(entry[key], out);
  return out;
}

MergeResult merge_entry(const ojson& existing, const std::string& name, const ojson& entry) {
  MergeResult r;
  r.doc = existing.is_null() ? ojson::object() : existing;
  if (!r.doc.is_object())
    throw McpConfigError(exit_usage, "refusing to edit the file: its top level is not a JSON object. Nothing was written");
  if (!r.doc.contains("mcpServers")) r.doc["mcpServers"] = ojson::object();
  auto& servers = r.doc["mcpServers"];
  if (!servers.is_object())
    throw McpConfigError(exit_usage, "refusing to edit the file: \"mcpServers\" is not a JSON object. Nothing was written");
  if (servers.contains(name)) {
    r.replaced = true;
    r.replaced_unmanaged = !is_managed(servers[name]);
  }
  servers[name] = entry;
  return r;
}

RemoveResult remove_entries(const ojson& doc, const std::optional<std::string>& name, bool force) {
  RemoveResult r;
  r.doc = doc;
  if (!r.doc.is_object())
    throw McpConfigError(exit_usage, "refusing to edit the file: its top level is not a JSON object. Nothing was written");
  if (!r.doc.contains("mcpServers")) return r;
  auto& servers = r.doc["mcpServers"];
  if (!servers.is_object())
    throw McpConfigError(exit_usage, "refusing to edit the file: \"mcpServers\" is not a JSON object. Nothing was written");
  std::vector<std::string> names;
  if (name) {
    if (servers.contains(*name)) names.push_back(*name);
  } else {
    for (auto it = servers.begin(); it != servers.end(); ++it)
      if (is_managed(it.value())) names.push_back(it.key());
  }
  bool created_file = false;
  for (auto& n : names) {
    if (!is_managed(servers[n]) && !force) {
      r.skipped_unmanaged.push_back(n);
      continue;
    }
    created_file = created_file || managed_marker(servers[n]) == managed_entry_and_file;
    r.matched.push_back(ownership(servers[n]).value_or("--force"));
    servers.erase(n);
    r.removed.push_back(n);
  }
  r.delete_file = created_file && servers.empty() && r.doc.size() == 1;
  return r;
}

bool gitignore_lists(std::string_view text, std::string_view filename) {
  const std::string name(filename);
  for (auto& raw : split_lines(text)) {
    auto line = trim_line(raw);
    if (line == name || line == "/" + name || line == "**/" + name) return true;
  }
  return false;
}

std::string gitignore_add(std::string_view text, std::string_view filename) {
  std::string out(text);
  const bool created = text.empty();
  if (!out.empty() && out.back() != '\n') out += '\n';
  out += gitignore_marker;
  if (created) out += gitignore_created_suffix;
  out += '\n';
  out += filename;
  out += '\n';
  return out;
}

std::optional<GitignoreRemoval> gitignore_remove(std::string_view text, std::string_view filename) {
  auto lines = split_lines(text);
  const std::string marker(gitignore_marker);
  const std::string created_marker = marker + std::string(gitignore_created_suffix);
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    auto m = trim_line(lines[i]);
    if ((m != marker && m != created_marker) || trim_line(lines[i + 1]) != filename) continue;
    GitignoreRemoval r;
    for (std::size_t k = 0; k < lines.size(); ++k) {
      if (k == i || k == i + 1) continue;
      r.text += lines[k];
      r.text += '\n';
    }
    // Keep a file that had no final newline that way (unless mcp-config's pair was at the end).
    if (!text.ends_with('\n') && i + 2 < lines.size() && !r.text.empty()) r.text.pop_back();
    r.delete_file = m == created_marker && r.text.find_first_not_of(" \t\r\n") == std::string::npos;
    return r;
  }
  return std::nullopt;
}

McpConfigReport apply_mcp_config(const McpConfigOptions& o, const config::Env& env) {
  for (auto* v : {&o.client_id_var, &o.client_secret_var})
    if (!valid_env_var_name(*v))
      throw McpConfigError(exit_usage,
                           fmt::format("'{}' is not an environment variable name: pass the NAME of the variable "
                                       "that holds the credential (upper case, e.g. INFISICAL_MCP_CLIENT_SECRET), "
                                       "never the value itself",
                                       v == &o.client_id_var ? "--client-id-var" : "--client-secret-var"));
  if (o.name.empty()) throw McpConfigError(exit_usage, "--name must not be empty");

  McpConfigReport rep;
  const ResolvedUrl url = resolve_url(o, env);
  rep.url = url.display;
  rep.url_source = url.source;
  const auto [path, where] = chosen_file(o.path);
  rep.path = path.string();
  rep.where = where;
  // Both files are checked before either is written.
  std::optional<fs::path> gi;
  std::optional<std::string> gtext;
  if (!o.print) {
    gi = resolve_project_file(path.parent_path() / ".gitignore");
    gtext = read_project_file(*gi);
  }

  std::optional<ojson> existing = load_doc(path);
  bool created_file = !existing.has_value();
  if (existing && existing->is_object() && existing->contains("mcpServers") && (*existing)["mcpServers"].is_object() &&
      (*existing)["mcpServers"].contains(o.name))
    created_file = managed_marker((*existing)["mcpServers"][o.name]) == managed_entry_and_file;

  ojson entry =
      build_entry({url.url, o.client_id_var, o.client_secret_var, created_file, url.by_reference, o.auto_auth});
  if (url.by_reference) rep.url = build_entry({url.display})["env"]["INFISICAL_HOST_URL"].get<std::string>();
  if (auto literal = literal_credential_values(entry); !literal.empty())
    throw McpConfigError(exit_usage, fmt::format("refusing to write {}: {}. Credentials must be ${{VAR}} references",
                                                 rep.path, fmt::join(literal, "; ")));
  MergeResult merged = merge_entry(existing ? *existing : ojson(nullptr), o.name, entry);

  refuse_literal_secrets(o, env, merged.doc, rep.path);
  add_warnings(rep, o, env, merged, entry, url);

  const std::string text = merged.doc.dump(2) + "\n";
  if (o.print) {
    rep.action = "printed";
    rep.printed = text;
    return rep;
  }
  if (existing && *existing == merged.doc && existing_mode(path, 0) == 0600) {
    rep.action = "unchanged";
  } else {
    write_project_file(path, text, 0600);
    rep.action = existing ? "updated" : "created";
  }
  rep.gitignore = add_gitignore_line(*gi, gtext, path);
  return rep;
}

McpConfigReport revert_mcp_config(const std::string& given_path, const std::optional<std::string>& name, bool force,
                                  bool print_only) {
  McpConfigReport rep;
  const auto [path, where] = chosen_file(given_path);
  rep.path = path.string();
  rep.where = where;
  std::optional<fs::path> gi;  // checked before anything is written
  if (!print_only) gi = resolve_project_file(path.parent_path() / ".gitignore");
  std::optional<ojson> doc = load_doc(path);
  bool managed_left = false;
  if (!doc) {
    rep.action = "unchanged";
    rep.warnings.push_back(fmt::format("{} does not exist; nothing to remove", rep.path));
  } else {
    RemoveResult r = remove_entries(*doc, name, force);
    rep.removed = r.removed;
    rep.matched = r.matched;
    for (auto& n : r.skipped_unmanaged)
      rep.warnings.push_back(fmt::format(
          "left the entry \"{}\" in {}: vault-proxy did not write it (its env has no {} marker). Remove it by "
          "hand, or pass --force",
          n, rep.path, managed_marker_key));
    if (auto servers = r.doc.find("mcpServers"); servers != r.doc.end() && servers->is_object())
      for (auto& v : *servers) managed_left = managed_left || is_managed(v);
    if (print_only) {
      rep.action = "printed";
      rep.printed = r.delete_file ? std::string() : r.doc.dump(2) + "\n";
      return rep;
    }
    if (r.removed.empty()) {
      rep.action = "unchanged";
      if (r.skipped_unmanaged.empty())
        rep.warnings.push_back(name ? fmt::format("{} has no \"{}\" entry; nothing to remove", rep.path, *name)
                                    : fmt::format("{} has no entry written by vault-proxy; nothing to remove", rep.path));
    } else if (r.delete_file) {
      std::error_code ec;
      fs::remove(path, ec);
      if (ec) throw McpConfigError(exit_failure, fmt::format("cannot remove {}: {}", rep.path, ec.message()));
      rep.action = "removed-file";
    } else {
      write_project_file(path, r.doc.dump(2) + "\n", existing_mode(path, 0600));
      rep.action = "removed-entry";
    }
  }
  if (print_only) return rep;
  // The .gitignore line goes only with the last entry vault-proxy wrote.
  rep.gitignore = managed_left ? "kept" : remove_gitignore_line(*gi, path);
  return rep;
}

void add_mcp_config(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<McpConfigOptions>();
  auto* cmd = app.add_subcommand(
      "mcp-config", "Write the session-local .mcp.json entry that runs the Infisical MCP server through this proxy "
                    "(credentials as ${VAR} references only); --remove reverts it");
  cmd->add_option("--path", o->path,
                  "the .mcp.json to write or edit (default: .mcp.json at the repository root, or in the current "
                  "directory outside a repository)");
  cmd->add_option("--name", o->name, "name of the server entry under mcpServers")->capture_default_str();
  auto* url = cmd->add_option_function<std::string>("--url", [o](const std::string& v) { o->url = v; },
                                                    "INFISICAL_HOST_URL to write (default: this proxy's address)");
  cmd->add_option_function<std::uint16_t>("-p,--port", [o](std::uint16_t v) { o->port = v; },
                                          "proxy port to point at (default: VAULT_PROXY_PORT, else the running "
                                          "proxy, else 2019)")
      ->excludes(url);
  cmd->add_option("--client-id-var", o->client_id_var, "variable holding the identity's client id")
      ->capture_default_str();
  cmd->add_option("--client-secret-var", o->client_secret_var, "variable holding the identity's client secret")
      ->capture_default_str();
  cmd->add_flag("--auto-auth", o->auto_auth,
                "for a proxy in auto-auth mode: the entry uses INFISICAL_AUTH_METHOD=access-token with "
                "INFISICAL_TOKEN=${VAULT_PROXY_LOCAL_TOKEN} (the proxy's local placeholder) and no client id or secret");
  cmd->add_flag("--remove", o->remove, "remove the entry (and the .gitignore line) that mcp-config added");
  cmd->add_flag("--force", o->force, "with --remove: also remove an entry of that name vault-proxy did not write");
  cmd->add_flag("--print", o->print, "print the resulting file instead of writing it");
  cmd->add_flag("--json", o->json, "print a JSON report on stdout");
  cmd->footer("Exit codes: 0 done, 1 I/O failure, an entry left in place, or a refusal (a symlink that leads out "
              "of the repository, a file or state directory another user could have planted, a recorded listen "
              "address that is not loopback), 2 bad arguments, invalid existing JSON, or a literal secret that "
              "would be written.");
  cmd->callback([o, &exit_code] { exit_code = run_mcp_config(*o, config::process_env()); });
}

int run_mcp_config(const McpConfigOptions& o, const config::Env& env) {
  McpConfigReport rep;
  try {
    rep = o.remove ? revert_mcp_config(o.path, o.name, o.force, o.print) : apply_mcp_config(o, env);
  } catch (const McpConfigError& e) {
    std::cerr << "vault-proxy mcp-config: " << e.what() << "\n";
    return e.exit_code;
  }
  const bool left_unmanaged =
      o.remove && std::any_of(rep.warnings.begin(), rep.warnings.end(),
                              [](const std::string& w) { return w.starts_with("left the entry"); });
  for (auto& w : rep.warnings) std::cerr << "vault-proxy mcp-config: warning: " << w << "\n";
  if (o.print) {
    std::cout << rep.printed;
    return left_unmanaged ? exit_failure : exit_ok;
  }
  if (o.json) {
    nlohmann::json j{{"path", rep.path},         {"action", rep.action},     {"removed", rep.removed},
                     {"matched", rep.matched},   {"gitignore", rep.gitignore}, {"warnings", rep.warnings}};
    if (!o.remove) {
      j["url"] = rep.url;
      j["url_source"] = rep.url_source;
      j["name"] = o.name;
    }
    std::cout << j.dump(2) << "\n";
    return left_unmanaged ? exit_failure : exit_ok;
  }
  if (o.remove) {
    if (rep.action == "removed-file")
      std::cout << fmt::format("removed {} (mcp-config had created it; only its \"{}\" entry was in it)\n", rep.where,
                               fmt::join(rep.removed, "\", \""));
    else if (rep.action == "removed-entry")
      std::cout << fmt::format("removed the \"{}\" entry from {}; other entries are untouched\n",
                               fmt::join(rep.removed, "\", \""), rep.where);
    for (std::size_t i = 0; i < rep.removed.size() && i < rep.matched.size(); ++i)
      std::cout << fmt::format("  \"{}\" counted as ours: {}\n", rep.removed[i], rep.matched[i]);
    if (rep.gitignore == "removed")
      std::cout << "removed the .gitignore line that mcp-config had added\n";
    if (rep.action != "unchanged")
      std::cout << "Restart Claude Code (or run /mcp) so it drops the server.\n";
    return left_unmanaged ? exit_failure : exit_ok;
  }
  std::cout << fmt::format("{} {}: MCP server \"{}\" -> {} (from {})\n",
                           rep.action == "created" ? "created" : rep.action == "updated" ? "updated" : "unchanged",
                           rep.where, o.name, rep.url, rep.url_source);
  if (rep.gitignore == "added")
    std::cout << fmt::format("added \"{}\" to {}/.gitignore (under the line \"{}\")\n",
                             fs::path(rep.path).filename().string(), fs::path(rep.path).parent_path().string(),
                             gitignore_marker);
  std::cout << "Restart Claude Code (or run /mcp) to load the server; approve it when asked. Revert with "
               "'vault-proxy mcp-config --remove'.\n";
  return exit_ok;
}

}  // namespace vp::cli
