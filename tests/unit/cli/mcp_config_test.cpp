// mcp-config: the entry it writes, the merge that leaves other servers alone, the refusal to write a
// literal secret, --remove reverting exactly what was added, and the .gitignore bookkeeping.

#include "cli/exit_codes.hpp"
#include "cli/mcp_config.hpp"
#include "cli/project_root.hpp"
#include "support/secrets.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <string>

namespace vp::cli {
namespace {

namespace fs = std::filesystem;
using test::read_file;
using test::TempDir;
using test::write_file;

// Another server's entry with unusual key order, nesting, numbers and unicode: it must come back
// exactly (same values, same key order).
const char* other_servers = R"({
  "mcpServers": {
    "zeta": {"type": "http", "url": "https://example.test/mcp", "headers": {"X-B": "2", "X-A": "1"}},
    "github": {"command": "docker", "args": ["run", "-i", "--rm", "ghcr.io/x:1"],
               "env": {"TOKEN": "${GITHUB_TOKEN}", "RETRIES": 3, "RATIO": 0.5, "NAME": "caf\u00e9"}}
  },
  "extraTopLevel": {"keep": [1, 2, {"b": null, "a": true}]}
})";

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

/// A scratch project directory plus an environment whose state dir is empty (no running proxy).
struct Project {
  TempDir dir{"vp-mcp-"};
  TempDir state{"vp-mcp-state-"};
  std::map<std::string, std::string> vars;
  std::string client_secret = test::random_token(24);
  std::string client_id = "2e7e38d8-4e23-4618-aad5-" + test::random_token(6);

  Project() {
    vars = {{"VAULT_PROXY_STATE_DIR", state.path()},
            {"INFISICAL_MCP_CLIENT_ID", client_id},
            {"INFISICAL_MCP_CLIENT_SECRET", client_secret}};
  }
  std::string mcp() const { return dir.file(".mcp.json"); }
  config::Env env() const { return config::map_env(vars); }
  McpConfigOptions options() const {
    McpConfigOptions o;
    o.path = mcp();
    return o;
  }
};

/// Runs the subcommand as the CLI does, capturing what it prints.
struct Captured {
  int code;
  std::string out;
  std::string err;
};
Captured run_captured(const McpConfigOptions& o, const config::Env& env) {
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  int code = run_mcp_config(o, env);
  std::string out = testing::internal::GetCapturedStdout();
  std::string err = testing::internal::GetCapturedStderr();
  return {code, out, err};
}

// ---- the entry ------------------------------------------------------------------------------

TEST(McpEntry, RunsThePinnedServerAgainstTheProxyWithReferencesOnly) {
  ojson e = build_entry({"http://127.0.0.1:2019", "INFISICAL_MCP_CLIENT_ID", "INFISICAL_MCP_CLIENT_SECRET", false});
  EXPECT_EQ(e["command"], "npx");
  EXPECT_EQ(e["args"], ojson::array({"-y", "@infisical/mcp@0.0.24"}));
  // By reference: inside `vault-proxy run` the run's URL, elsewhere the default.
  EXPECT_EQ(e["env"]["INFISICAL_HOST_URL"], "${VAULT_PROXY_URL:-http://127.0.0.1:2019}");
  EXPECT_EQ(e["env"]["INFISICAL_UNIVERSAL_AUTH_CLIENT_ID"], "${INFISICAL_MCP_CLIENT_ID}");
  EXPECT_EQ(e["env"]["INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET"], "${INFISICAL_MCP_CLIENT_SECRET}");
  EXPECT_EQ(e["env"]["NO_PROXY"], "localhost,127.0.0.1,::1");
  EXPECT_EQ(e["env"]["no_proxy"], "localhost,127.0.0.1,::1") << "proxy-from-env prefers the lower-case name";
  EXPECT_EQ(e["env"]["VAULT_PROXY_MANAGED"], "entry");
  EXPECT_TRUE(literal_credential_values(e).empty());
  EXPECT_EQ(referenced_vars(e), (std::vector<std::string>{"INFISICAL_MCP_CLIENT_ID", "INFISICAL_MCP_CLIENT_SECRET"}));
}

TEST(McpEntry, AutoAuthHoldsOnlyTheLocalPlaceholderReference) {
  McpEntrySpec spec{"http://127.0.0.1:2019"};
  spec.auto_auth = true;
  ojson e = build_entry(spec);
  EXPECT_EQ(e["env"]["INFISICAL_AUTH_METHOD"], "access-token");
  EXPECT_EQ(e["env"]["INFISICAL_TOKEN"], "${VAULT_PROXY_LOCAL_TOKEN}");
  EXPECT_FALSE(e["env"].contains("INFISICAL_UNIVERSAL_AUTH_CLIENT_ID"));
  EXPECT_FALSE(e["env"].contains("INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET"));
  EXPECT_TRUE(literal_credential_values(e).empty());
  EXPECT_EQ(referenced_vars(e), (std::vector<std::string>{"VAULT_PROXY_LOCAL_TOKEN"}));
}

TEST(McpEntry, AnExplicitUrlIsWrittenAsGiven) {
  McpEntrySpec spec{"http://localhost:7777"};
  spec.by_reference = false;
  EXPECT_EQ(build_entry(spec)["env"]["INFISICAL_HOST_URL"], "http://localhost:7777");
}

TEST(McpOwnership, TheMarkerOrTheRunbookScriptsShapeCountsAsOurs) {
  auto entry = [](std::string args, std::string host, std::string marker = "") {
    ojson e = ojson::parse(R"({"command": "npx", "env": {}})");
    e["args"] = ojson::array({"-y", args});
    if (!host.empty()) e["env"]["INFISICAL_HOST_URL"] = host;
    if (!marker.empty()) e["env"]["VAULT_PROXY_MANAGED"] = marker;
    return e;
  };
  struct Case {
    ojson e;
    bool ours;
    std::string_view because;
  };
  const std::vector<Case> cases{
      {entry("anything", "https://elsewhere", "entry"), true, "VAULT_PROXY_MANAGED marker"},
      {entry("@infisical/mcp", "http://localhost:2019"), true, "the runbook's enable script"},
      {entry("@infisical/mcp-server", "http://127.0.0.1:2019"), true, "INFISICAL_HOST_URL http://127.0.0.1:2019"},
      {entry("@infisical/mcp@0.0.24", "${VAULT_PROXY_URL:-http://[::1]:2100}"), true, "http://[::1]:2100"},
      {entry("@infisical/mcp", "https://vault.raxx.app"), false, ""},
      {entry("@infisical/mcp", "http://10.0.0.5:2019"), false, ""},
      {entry("@infisical/mcp", "${SOMEWHERE}"), false, ""},
      {entry("@infisical/mcp", ""), false, ""},
      {entry("some-other-server", "http://localhost:2019"), false, ""},
      {entry("@infisical/mcp", "http://localhost:2019", "not-ours"), true, "enable script"},
  };
  for (const auto& c : cases) {
    auto why = ownership(c.e);
    EXPECT_EQ(why.has_value(), c.ours) << c.e.dump();
    if (why) EXPECT_NE(why->find(c.because), std::string::npos) << *why;
  }
}

TEST(McpOwnership, RemoveTakesTheRunbookEntryAndSaysWhatItMatched) {
  auto doc = ojson::parse(R"({"mcpServers": {
    "infisical": {"command": "npx", "args": ["-y", "@infisical/mcp"],
                  "env": {"INFISICAL_HOST_URL": "http://localhost:2019"}},
    "other": {"command": "node", "args": ["x.js"]}}})");
  auto r = remove_entries(doc, std::string("infisical"), false);
  EXPECT_EQ(r.removed, std::vector<std::string>{"infisical"});
  ASSERT_EQ(r.matched.size(), 1u);
  EXPECT_NE(r.matched[0].find("enable script"), std::string::npos) << r.matched[0];
  EXPECT_FALSE(r.doc["mcpServers"].contains("infisical"));
  EXPECT_TRUE(r.doc["mcpServers"].contains("other"));
  EXPECT_FALSE(r.delete_file) << "the script's file was not created by mcp-config";
}

TEST(McpDocs, TheExampleInDocsMcpIsWhatMcpConfigWrites) {
  // docs/mcp.md shows the file `mcp-config` writes into a new project; they must not drift.
  const std::string doc = test::read_file(std::string(VP_SOURCE_DIR) + "/docs/mcp.md");
  const auto start = doc.find("```json\n");
  ASSERT_NE(start, std::string::npos) << "docs/mcp.md has no ```json example";
  const auto end = doc.find("```", start + 8);
  const auto example = ojson::parse(doc.substr(start + 8, end - start - 8));
  Project p;
  auto o = p.options();
  o.print = true;
  auto r = run_captured(o, p.env());
  ASSERT_EQ(r.code, exit_ok) << r.err;
  EXPECT_EQ(example, ojson::parse(r.out)) << "docs/mcp.md:\n" << example.dump(2) << "\nmcp-config writes:\n" << r.out;
}

TEST(McpConfigCommand, WithoutPathTheFileGoesToTheRepositoryRootFromAnySubfolder) {
  Project p;
  fs::create_directories(p.dir.file(".git"));
  fs::create_directories(p.dir.file("src/deep"));
  const auto cwd = fs::current_path();
  fs::current_path(p.dir.file("src/deep"));
  McpConfigOptions o;  // no --path
  auto r = run_captured(o, p.env());
  fs::current_path(cwd);
  ASSERT_EQ(r.code, exit_ok) << r.err;
  EXPECT_TRUE(fs::exists(p.mcp())) << "written at the repository root";
  EXPECT_FALSE(fs::exists(p.dir.file("src/deep/.mcp.json"))) << "no stray file in the subfolder";
  EXPECT_NE(r.out.find(p.mcp() + " (the repository root)"), std::string::npos) << r.out;
  EXPECT_TRUE(gitignore_lists(read_file(p.dir.file(".gitignore")), ".mcp.json"));
}

TEST(McpConfigCommand, OutsideARepositoryItSaysTheCurrentDirectoryIsUsed) {
  Project p;
  const auto cwd = fs::current_path();
  fs::current_path(p.dir.path());
  if (find_project_root(p.dir.path()).in_repository) {
    fs::current_path(cwd);
    GTEST_SKIP() << "the temp directory is inside a repository";
  }
  McpConfigOptions o;
  auto r = run_captured(o, p.env());
  fs::current_path(cwd);
  ASSERT_EQ(r.code, exit_ok) << r.err;
  EXPECT_TRUE(fs::exists(p.mcp()));
  EXPECT_NE(r.out.find("(the current directory: it is not inside a git repository)"), std::string::npos) << r.out;
}

TEST(McpEntry, CustomVariableNamesAreReferenced) {
  ojson e = build_entry({"http://127.0.0.1:9", "MY_ID", "MY_SECRET", true});
  EXPECT_EQ(e["env"]["INFISICAL_UNIVERSAL_AUTH_CLIENT_ID"], "${MY_ID}");
  EXPECT_EQ(e["env"]["INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET"], "${MY_SECRET}");
  EXPECT_EQ(e["env"]["VAULT_PROXY_MANAGED"], "entry+file");
}

TEST(McpEntry, CredentialValuesMustBeReferences) {
  ojson e = build_entry({"http://127.0.0.1:2019"});
  e["env"]["INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET"] = "3e72deadbeef";
  e["env"]["INFISICAL_UNIVERSAL_AUTH_CLIENT_ID"] = "${ID:-}";
  e["env"]["INFISICAL_TOKEN"] = "$TOKEN";  // bare $VAR is never expanded: a literal
  auto problems = literal_credential_values(e);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_NE(problems[0].find("INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET"), std::string::npos);
  EXPECT_EQ(problems[0].find("3e72deadbeef"), std::string::npos) << "never echo the value";
  EXPECT_NE(problems[1].find("INFISICAL_TOKEN"), std::string::npos);
}

TEST(McpEntry, ReferencedVarsSkipThoseWithDefaults) {
  ojson e = ojson::parse(R"({"command": "${CMD}", "args": ["--x=${A}", "${B:-b}"], "env": {"K": "${C}${A}"}})");
  EXPECT_EQ(referenced_vars(e), (std::vector<std::string>{"CMD", "A", "C"}));
}

TEST(McpEntry, VariableNamesAndUrls) {
  EXPECT_TRUE(valid_env_var_name("INFISICAL_MCP_CLIENT_SECRET"));
  EXPECT_TRUE(valid_env_var_name("_X1"));
  EXPECT_FALSE(valid_env_var_name(""));
  EXPECT_FALSE(valid_env_var_name("1X"));
  EXPECT_FALSE(valid_env_var_name("a1b2c3d4e5"));  // a pasted hex secret is not a name
  EXPECT_FALSE(valid_env_var_name("${X}"));
  EXPECT_EQ(url_problem("http://127.0.0.1:2019"), "");
  EXPECT_EQ(url_problem("http://localhost:2019/"), "");
  EXPECT_NE(url_problem("http://127.0.0.1:2019/api"), "");
  EXPECT_NE(url_problem("http://127.0.0.1:2019/api/"), "");
  EXPECT_NE(url_problem("ftp://127.0.0.1"), "");
  EXPECT_NE(url_problem("http://"), "");
  EXPECT_NE(url_problem("http://user:pw@127.0.0.1"), "");
}

// ---- merge / remove (pure) --------------------------------------------------------------------

TEST(McpMerge, OtherServersAndKeysAreUntouched) {
  const ojson before = ojson::parse(other_servers);
  auto r = merge_entry(before, "infisical", build_entry({"http://127.0.0.1:2019"}));
  EXPECT_FALSE(r.replaced);
  EXPECT_EQ(r.doc["mcpServers"]["zeta"], before["mcpServers"]["zeta"]);
  EXPECT_EQ(r.doc["mcpServers"]["github"], before["mcpServers"]["github"]);
  EXPECT_EQ(r.doc["mcpServers"]["github"].dump(), before["mcpServers"]["github"].dump()) << "key order kept";
  EXPECT_EQ(r.doc["extraTopLevel"].dump(), before["extraTopLevel"].dump());
  std::vector<std::string> order;
  for (auto it = r.doc["mcpServers"].begin(); it != r.doc["mcpServers"].end(); ++it) order.push_back(it.key());
  EXPECT_EQ(order, (std::vector<std::string>{"zeta", "github", "infisical"}));
}

TEST(McpMerge, ReplacingAnEntryItDidNotWriteIsReported) {
  ojson doc = ojson::parse(R"({"mcpServers": {"infisical": {"command": "node", "args": ["old.js"]}}})");
  auto r = merge_entry(doc, "infisical", build_entry({"http://127.0.0.1:2019"}));
  EXPECT_TRUE(r.replaced);
  EXPECT_TRUE(r.replaced_unmanaged);
  auto again = merge_entry(r.doc, "infisical", build_entry({"http://127.0.0.1:2020"}));
  EXPECT_TRUE(again.replaced);
  EXPECT_FALSE(again.replaced_unmanaged);
}

TEST(McpMerge, WrongShapesAreRefused) {
  for (const char* text : {R"([])", R"("x")", R"({"mcpServers": []})", R"({"mcpServers": "x"})"}) {
    try {
      merge_entry(ojson::parse(text), "infisical", build_entry({"http://127.0.0.1:2019"}));
      ADD_FAILURE() << "accepted " << text;
    } catch (const McpConfigError& e) {
      EXPECT_EQ(e.exit_code, exit_usage) << text;
      EXPECT_NE(std::string(e.what()).find("Nothing was written"), std::string::npos);
    }
  }
}

TEST(McpRemove, OnlyEntriesItWroteAreRemoved) {
  auto merged = merge_entry(ojson::parse(other_servers), "infisical", build_entry({"http://127.0.0.1:2019"})).doc;
  auto r = remove_entries(merged, std::string("infisical"), false);
  EXPECT_EQ(r.removed, std::vector<std::string>{"infisical"});
  EXPECT_EQ(r.doc, ojson::parse(other_servers));
  EXPECT_FALSE(r.delete_file);

  auto unmanaged = remove_entries(ojson::parse(other_servers), std::string("github"), false);
  EXPECT_TRUE(unmanaged.removed.empty());
  EXPECT_EQ(unmanaged.skipped_unmanaged, std::vector<std::string>{"github"});
  EXPECT_EQ(unmanaged.doc, ojson::parse(other_servers));

  auto forced = remove_entries(ojson::parse(other_servers), std::string("github"), true);
  EXPECT_EQ(forced.removed, std::vector<std::string>{"github"});
}

TEST(McpRemove, WithoutANameEveryManagedEntryGoes) {
  ojson doc = ojson::parse(other_servers);
  doc = merge_entry(doc, "a", build_entry({"http://127.0.0.1:1"})).doc;
  doc = merge_entry(doc, "b", build_entry({"http://127.0.0.1:2"})).doc;
  auto r = remove_entries(doc, std::nullopt, false);
  EXPECT_EQ(r.removed, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.doc, ojson::parse(other_servers));
}

TEST(McpRemove, FileItCreatedIsDeletedOnlyWhenNothingElseIsLeft) {
  auto created = merge_entry(ojson(nullptr), "infisical", build_entry({"http://127.0.0.1:2019", "A", "B", true})).doc;
  EXPECT_TRUE(remove_entries(created, std::string("infisical"), false).delete_file);

  ojson with_other = created;
  with_other["mcpServers"]["mine"] = {{"command", "x"}};
  EXPECT_FALSE(remove_entries(with_other, std::string("infisical"), false).delete_file);

  ojson with_key = created;
  with_key["note"] = "user added this";
  EXPECT_FALSE(remove_entries(with_key, std::string("infisical"), false).delete_file);

  auto existing = merge_entry(ojson::parse(R"({"mcpServers": {}})"), "infisical",
                              build_entry({"http://127.0.0.1:2019", "A", "B", false})).doc;
  EXPECT_FALSE(remove_entries(existing, std::string("infisical"), false).delete_file)
      << "an empty file that was there before stays";
}

// ---- secrets -------------------------------------------------------------------------------------

TEST(McpSecrets, LiteralValueAnywhereIsFoundAndNeverEchoed) {
  const std::string secret = test::random_token(20);
  ojson doc = ojson::parse(other_servers);
  doc["mcpServers"]["github"]["env"]["LEAK"] = "prefix-" + secret;
  doc["mcpServers"]["zeta"]["args"] = ojson::array({"a", secret});
  auto found = find_literal_secrets(doc, {{"INFISICAL_MCP_CLIENT_SECRET", secret}, {"SHORT", "abc"}});
  ASSERT_EQ(found.size(), 2u);
  EXPECT_NE(found[0].find("$INFISICAL_MCP_CLIENT_SECRET"), std::string::npos) << found[0];
  EXPECT_NE(found[0].find("mcpServers.zeta.args[1]"), std::string::npos) << found[0];
  EXPECT_NE(found[1].find("mcpServers.github.env.LEAK"), std::string::npos) << found[1];
  for (auto& f : found) EXPECT_NO_SECRET(f, secret);
}

TEST(McpSecrets, ShortValuesAreNotSearched) {
  ojson doc = ojson::parse(other_servers);
  EXPECT_TRUE(find_literal_secrets(doc, {{"X", "1"}, {"Y", "docker"}}).empty());
}

// ---- .gitignore ----------------------------------------------------------------------------------

TEST(McpGitignore, AddThenRemoveRestoresTheText) {
  for (std::string before : {std::string("node_modules/\n"), std::string("a\nb"), std::string("# c\n\nx\n")}) {
    std::string added = gitignore_add(before, ".mcp.json");
    EXPECT_TRUE(gitignore_lists(added, ".mcp.json"));
    EXPECT_NE(added.find("# added by vault-proxy mcp-config\n.mcp.json\n"), std::string::npos);
    auto removed = gitignore_remove(added, ".mcp.json");
    ASSERT_TRUE(removed);
    EXPECT_FALSE(removed->delete_file);
    EXPECT_EQ(removed->text, before.ends_with('\n') ? before : before + "\n");
  }
}

TEST(McpGitignore, ACreatedFileIsDeletedAgain) {
  std::string added = gitignore_add("", ".mcp.json");
  auto removed = gitignore_remove(added, ".mcp.json");
  ASSERT_TRUE(removed);
  EXPECT_TRUE(removed->delete_file);
}

TEST(McpGitignore, LinesItDidNotAddStay) {
  EXPECT_FALSE(gitignore_remove("node_modules/\n.mcp.json\n", ".mcp.json"));
  EXPECT_FALSE(gitignore_remove("# added by vault-proxy mcp-config\nother.json\n", ".mcp.json"));
  EXPECT_TRUE(gitignore_lists("/.mcp.json\n", ".mcp.json"));
  EXPECT_TRUE(gitignore_lists("x\r\n**/.mcp.json  \r\n", ".mcp.json"));
  EXPECT_FALSE(gitignore_lists("# .mcp.json\n.mcp.json.bak\n", ".mcp.json"));
}

// ---- the command, on disk ------------------------------------------------------------------------

TEST(McpConfigCommand, CreatesA0600FileWithReferencesAndNoSecret) {
  Project p;
  auto r = run_captured(p.options(), p.env());
  ASSERT_EQ(r.code, exit_ok) << r.err;
  const std::string text = read_file(p.mcp());
  EXPECT_EQ(mode_of(p.mcp()), 0600u);
  EXPECT_NO_SECRET(text, p.client_secret);
  EXPECT_NO_SECRET(text, p.client_id);
  auto doc = ojson::parse(text);
  EXPECT_EQ(doc["mcpServers"]["infisical"]["env"]["INFISICAL_HOST_URL"], "${VAULT_PROXY_URL:-http://127.0.0.1:2019}");
  EXPECT_EQ(doc["mcpServers"]["infisical"]["env"]["VAULT_PROXY_MANAGED"], "entry+file");
  EXPECT_NE(r.out.find("created " + p.mcp()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the default port"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("no vault-proxy is running at http://127.0.0.1:2019 yet"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(p.dir.file(".gitignore"))) << "not a git work tree and no .gitignore: none is made";
  EXPECT_NO_SECRET(r.out + r.err, p.client_secret);
}

TEST(McpConfigCommand, UrlComesFromFlagThenPortThenEnv) {
  Project p;
  auto o = p.options();
  o.print = true;
  o.url = "http://localhost:7777/";
  auto r = run_captured(o, p.env());
  ASSERT_EQ(r.code, exit_ok) << r.err;
  EXPECT_EQ(ojson::parse(r.out)["mcpServers"]["infisical"]["env"]["INFISICAL_HOST_URL"], "http://localhost:7777");
  EXPECT_FALSE(fs::exists(p.mcp())) << "--print writes nothing";

  o.url.reset();
  o.port = 2100;
  r = run_captured(o, p.env());
  EXPECT_EQ(ojson::parse(r.out)["mcpServers"]["infisical"]["env"]["INFISICAL_HOST_URL"],
            "${VAULT_PROXY_URL:-http://127.0.0.1:2100}");

  o.port.reset();
  p.vars["VAULT_PROXY_PORT"] = "2200";
  r = run_captured(o, p.env());
  EXPECT_EQ(ojson::parse(r.out)["mcpServers"]["infisical"]["env"]["INFISICAL_HOST_URL"],
            "${VAULT_PROXY_URL:-http://127.0.0.1:2200}");

  o.url = "http://127.0.0.1:2019/api";
  r = run_captured(o, p.env());
  EXPECT_EQ(r.code, exit_usage);
  EXPECT_NE(r.err.find("/api"), std::string::npos) << r.err;
}

TEST(McpConfigCommand, MergesIntoAnExistingFileWithoutTouchingOthers) {
  Project p;
  write_file(p.mcp(), other_servers, 0644);
  auto r = run_captured(p.options(), p.env());
  ASSERT_EQ(r.code, exit_ok) << r.err;
  auto doc = ojson::parse(read_file(p.mcp()));
  const auto before = ojson::parse(other_servers);
  EXPECT_EQ(doc["mcpServers"]["github"].dump(), before["mcpServers"]["github"].dump());
  EXPECT_EQ(doc["mcpServers"]["zeta"].dump(), before["mcpServers"]["zeta"].dump());
  EXPECT_EQ(doc["extraTopLevel"].dump(), before["extraTopLevel"].dump());
  EXPECT_EQ(doc["mcpServers"]["infisical"]["env"]["VAULT_PROXY_MANAGED"], "entry");
  EXPECT_EQ(mode_of(p.mcp()), 0600u);
  EXPECT_NE(r.out.find("updated"), std::string::npos) << r.out;

  // --remove gives back the same document (as JSON, key order included), and keeps the file.
  auto o = p.options();
  o.remove = true;
  r = run_captured(o, p.env());
  ASSERT_EQ(r.code, exit_ok) << r.err;
  EXPECT_EQ(ojson::parse(read_file(p.mcp())).dump(), before.dump());
  EXPECT_NE(r.out.find("removed the \"infisical\" entry"), std::string::npos) << r.out;
}

TEST(McpConfigCommand, RemoveDeletesTheFileItCreated) {
  Project p;
  ASSERT_EQ(run_captured(p.options(), p.env()).code, exit_ok);
  ASSERT_TRUE(fs::exists(p.mcp()));
  auto again = run_captured(p.options(), p.env());  // re-running keeps the "created" record
  ASSERT_EQ(again.code, exit_ok) << again.err;
  EXPECT_NE(again.out.find("unchanged"), std::string::npos) << again.out;
  auto o = p.options();
  o.remove = true;
  auto r = run_captured(o, p.env());
  ASSERT_EQ(r.code, exit_ok) << r.err;
  EXPECT_FALSE(fs::exists(p.mcp()));
  // A second --remove has nothing to do and says so.
  r = run_captured(o, p.env());
  EXPECT_EQ(r.code, exit_ok);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
}

TEST(McpConfigCommand, RemoveLeavesAnEntryItDidNotWrite) {
  Project p;
  const std::string text = R"({"mcpServers": {"infisical": {"command": "node", "args": ["mine.js"]}}})";
  write_file(p.mcp(), text);
  auto o = p.options();
  o.remove = true;
  auto r = run_captured(o, p.env());
  EXPECT_EQ(r.code, exit_failure);
  EXPECT_NE(r.err.find("did not write it"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(p.mcp()), text);
}

TEST(McpConfigCommand, RefusesToWriteWhenASecretValueWouldEndUpInTheFile) {
  Project p;
  // Someone pasted the client secret into another server's entry: writing the merged file would
  // carry it along, so nothing is written.
  ojson doc = ojson::parse(other_servers);
  doc["mcpServers"]["old-infisical"] = {{"command", "npx"},
                                        {"env", {{"INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET", p.client_secret}}}};
  const std::string before = doc.dump(2);
  write_file(p.mcp(), before);
  auto r = run_captured(p.options(), p.env());
  EXPECT_EQ(r.code, exit_usage);
  EXPECT_EQ(read_file(p.mcp()), before) << "nothing may be written";
  EXPECT_NE(r.err.find("refusing to write"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("$INFISICAL_MCP_CLIENT_SECRET"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("mcpServers.old-infisical.env.INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("${INFISICAL_MCP_CLIENT_SECRET}"), std::string::npos) << "the fix names the reference form";
  EXPECT_NO_SECRET(r.err + r.out, p.client_secret);
}

TEST(McpConfigCommand, RefusesWhenTheServiceTokenSecretWouldBeWritten) {
  Project p;
  const std::string cf_secret = test::random_token(32);
  p.vars["CF_ACCESS_CLIENT_SECRET"] = cf_secret;
  write_file(p.mcp(), R"({"mcpServers": {"x": {"command": "curl", "args": ["-H", "CF-Access-Client-Secret: )" +
                          cf_secret + R"("]}}})");
  auto r = run_captured(p.options(), p.env());
  EXPECT_EQ(r.code, exit_usage);
  EXPECT_NE(r.err.find("$CF_ACCESS_CLIENT_SECRET"), std::string::npos) << r.err;
  EXPECT_NO_SECRET(r.err + r.out, cf_secret);
}

TEST(McpConfigCommand, RefusesAValueWhereAVariableNameBelongs) {
  Project p;
  auto o = p.options();
  o.client_secret_var = p.client_secret;  // a pasted secret, not a NAME
  auto r = run_captured(o, p.env());
  EXPECT_EQ(r.code, exit_usage);
  EXPECT_FALSE(fs::exists(p.mcp()));
  EXPECT_NE(r.err.find("never the value"), std::string::npos) << r.err;
  EXPECT_NO_SECRET(r.err + r.out, p.client_secret);
}

TEST(McpConfigCommand, WarnsAboutUnsetVariables) {
  Project p;
  p.vars.erase("INFISICAL_MCP_CLIENT_SECRET");
  auto r = run_captured(p.options(), p.env());
  ASSERT_EQ(r.code, exit_ok) << r.err;
  EXPECT_NE(r.err.find("warning: INFISICAL_MCP_CLIENT_SECRET is not set"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("INFISICAL_MCP_CLIENT_ID is not set"), std::string::npos) << r.err;
}

TEST(McpConfigCommand, InvalidJsonIsNeverOverwritten) {
  Project p;
  const std::string broken = "{\"mcpServers\": {\"x\": {\"command\": \"a\",}}\n";
  write_file(p.mcp(), broken);
  auto r = run_captured(p.options(), p.env());
  EXPECT_EQ(r.code, exit_usage);
  EXPECT_EQ(read_file(p.mcp()), broken);
  EXPECT_NE(r.err.find("not valid JSON"), std::string::npos) << r.err;
  auto o = p.options();
  o.remove = true;
  r = run_captured(o, p.env());
  EXPECT_EQ(r.code, exit_usage);
  EXPECT_EQ(read_file(p.mcp()), broken);
}

TEST(McpConfigCommand, GitWorkTreeGetsAGitignoreLineThatRemoveTakesBack) {
  Project p;
  fs::create_directory(p.dir.file(".git"));
  auto r = run_captured(p.options(), p.env());
  ASSERT_EQ(r.code, exit_ok) << r.err;
  const std::string gi = read_file(p.dir.file(".gitignore"));
  EXPECT_NE(gi.find("# added by vault-proxy mcp-config"), std::string::npos) << gi;
  EXPECT_TRUE(gitignore_lists(gi, ".mcp.json"));
  EXPECT_NE(r.out.find("added \".mcp.json\""), std::string::npos) << r.out;

  // Running again does not add a second line.
  ASSERT_EQ(run_captured(p.options(), p.env()).code, exit_ok);
  EXPECT_EQ(read_file(p.dir.file(".gitignore")), gi);

  auto o = p.options();
  o.remove = true;
  r = run_captured(o, p.env());
  ASSERT_EQ(r.code, exit_ok) << r.err;
  EXPECT_FALSE(fs::exists(p.dir.file(".gitignore"))) << "it created the .gitignore, so it goes again";
  EXPECT_FALSE(fs::exists(p.mcp()));
}

TEST(McpConfigCommand, ExistingGitignoreIsExtendedAndRestored) {
  Project p;
  const std::string before = "node_modules/\n*.log\n";
  write_file(p.dir.file(".gitignore"), before, 0644);
  ASSERT_EQ(run_captured(p.options(), p.env()).code, exit_ok);
  EXPECT_EQ(read_file(p.dir.file(".gitignore")), before + "# added by vault-proxy mcp-config\n.mcp.json\n");
  EXPECT_EQ(mode_of(p.dir.file(".gitignore")), 0644u) << "the .gitignore keeps its mode";
  auto o = p.options();
  o.remove = true;
  ASSERT_EQ(run_captured(o, p.env()).code, exit_ok);
  EXPECT_EQ(read_file(p.dir.file(".gitignore")), before);
}

TEST(McpConfigCommand, AlreadyIgnoredMeansNoNewLineAndRemoveKeepsTheUsersLine) {
  Project p;
  const std::string before = "/.mcp.json\n";
  write_file(p.dir.file(".gitignore"), before, 0644);
  auto o = p.options();
  o.json = true;
  auto r = run_captured(o, p.env());
  ASSERT_EQ(r.code, exit_ok) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["gitignore"], "already-ignored") << r.out;
  EXPECT_EQ(read_file(p.dir.file(".gitignore")), before);
  o.remove = true;
  ASSERT_EQ(run_captured(o, p.env()).code, exit_ok);
  EXPECT_EQ(read_file(p.dir.file(".gitignore")), before);
}

TEST(McpConfigCommand, RevertWithoutANameRemovesEveryManagedEntry) {
  Project p;
  write_file(p.mcp(), other_servers);
  auto o = p.options();
  o.name = "vault";
  ASSERT_EQ(run_captured(o, p.env()).code, exit_ok);
  auto rep = revert_mcp_config(p.mcp(), std::nullopt, false, false);
  EXPECT_EQ(rep.removed, std::vector<std::string>{"vault"});
  EXPECT_EQ(rep.action, "removed-entry");
  EXPECT_EQ(ojson::parse(read_file(p.mcp())).dump(), ojson::parse(other_servers).dump());
}

// ---- symlinks (issue 11, item 7) ---------------------------------------------------------------

bool is_link(const std::string& path) { return fs::is_symlink(fs::symlink_status(path)); }

TEST(McpConfigSymlinks, AGitignoreLinkOutOfTheRepositoryIsRefusedBeforeAnythingIsWritten) {
  Project p;
  TempDir home{"vp-home-"};
  const std::string key = home.file("id_ed25519");
  const std::string key_text = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n";
  write_file(key, key_text, 0600);
  fs::create_directory(p.dir.file(".git"));
  ASSERT_EQ(::symlink(key.c_str(), p.dir.file(".gitignore").c_str()), 0);

  auto r = run_captured(p.options(), p.env());
  EXPECT_EQ(r.code, exit_failure);
  EXPECT_NE(r.err.find("refusing to write " + p.dir.file(".gitignore") + ": it is a symbolic link to " + key +
                       ", outside the repository " + fs::canonical(p.dir.path()).string()),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("Replace the link with a regular file"), std::string::npos) << r.err;
  EXPECT_EQ(test::read_file(key), key_text);
  EXPECT_EQ(mode_of(key), 0600u);
  EXPECT_TRUE(is_link(p.dir.file(".gitignore"))) << "the link was replaced by a file";
  EXPECT_FALSE(fs::exists(p.mcp())) << "both files are checked before either is written";
  EXPECT_EQ(r.err.find("BEGIN"), std::string::npos);

  write_file(p.mcp(), R"({"mcpServers": {"infisical": {"env": {"VAULT_PROXY_MANAGED": "entry"}}}})");
  auto o = p.options();
  o.remove = true;
  auto rm = run_captured(o, p.env());
  EXPECT_EQ(rm.code, exit_failure) << "--remove follows the same rule";
  EXPECT_NE(rm.err.find("it is a symbolic link to " + key), std::string::npos) << rm.err;
  EXPECT_EQ(test::read_file(key), key_text);
}

TEST(McpConfigSymlinks, AnMcpJsonLinkOutOfTheRepositoryIsRefused) {
  Project p;
  TempDir elsewhere{"vp-elsewhere-"};
  const std::string target = elsewhere.file("settings.json");
  write_file(target, other_servers, 0644);
  ASSERT_EQ(::symlink(target.c_str(), p.mcp().c_str()), 0);

  auto r = run_captured(p.options(), p.env());
  EXPECT_EQ(r.code, exit_failure);
  EXPECT_NE(r.err.find("refusing to write " + p.mcp() + ": it is a symbolic link to " + target +
                       ", and it is not in a git repository"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(test::read_file(target), other_servers);
  EXPECT_EQ(mode_of(target), 0644u) << "the target's mode was changed";
  EXPECT_TRUE(is_link(p.mcp()));

  fs::create_directory(p.dir.file(".git"));  // a repository, but the target is still outside it
  r = run_captured(p.options(), p.env());
  EXPECT_EQ(r.code, exit_failure);
  EXPECT_NE(r.err.find("outside the repository"), std::string::npos) << r.err;
  EXPECT_EQ(test::read_file(target), other_servers);
}

TEST(McpConfigSymlinks, LinksToFilesInsideTheSameRepositoryAreFollowedAndKept) {
  Project p;
  fs::create_directory(p.dir.file(".git"));
  fs::create_directory(p.dir.file("config"));
  write_file(p.dir.file("config/mcp.json"), other_servers, 0600);
  ASSERT_EQ(::symlink("config/mcp.json", p.mcp().c_str()), 0);
  write_file(p.dir.file("config/ignore"), "node_modules/\n", 0644);
  ASSERT_EQ(::symlink("ignore", p.dir.file("config/.gitignore").c_str()), 0);

  auto r = run_captured(p.options(), p.env());
  ASSERT_EQ(r.code, exit_ok) << r.err;
  EXPECT_TRUE(is_link(p.mcp()));
  EXPECT_TRUE(is_link(p.dir.file("config/.gitignore")));
  auto doc = ojson::parse(test::read_file(p.dir.file("config/mcp.json")));
  EXPECT_TRUE(doc["mcpServers"].contains("infisical"));
  EXPECT_TRUE(doc["mcpServers"].contains("github"));
  EXPECT_EQ(test::read_file(p.dir.file("config/ignore")), "node_modules/\n# added by vault-proxy mcp-config\nmcp.json\n");

  auto o = p.options();
  o.remove = true;
  ASSERT_EQ(run_captured(o, p.env()).code, exit_ok);
  EXPECT_EQ(ojson::parse(test::read_file(p.dir.file("config/mcp.json"))).dump(), ojson::parse(other_servers).dump());
  EXPECT_EQ(test::read_file(p.dir.file("config/ignore")), "node_modules/\n");
}

TEST(McpConfigSymlinks, ALinkIntoTheGitDirectoryIsRefused) {
  Project p;
  fs::create_directories(p.dir.file(".git/info"));
  write_file(p.dir.file(".git/info/exclude"), "# git ls-files --others --exclude-from=.git/info/exclude\n", 0644);
  ASSERT_EQ(::symlink(".git/info/exclude", p.dir.file(".gitignore").c_str()), 0);
  auto r = run_captured(p.options(), p.env());
  EXPECT_EQ(r.code, exit_failure);
  EXPECT_NE(r.err.find("refusing to write " + p.dir.file(".gitignore")), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(p.mcp()));
}

TEST(McpConfigFiles, AFileOthersCanWriteIsNotEdited) {
  Project p;
  write_file(p.mcp(), other_servers, 0666);
  auto r = run_captured(p.options(), p.env());
  EXPECT_EQ(r.code, exit_failure);
  EXPECT_NE(r.err.find(p.mcp() + " is writable by its group or by others (mode 0666); refusing to edit it"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(test::read_file(p.mcp()), other_servers);
}

}  // namespace
}  // namespace vp::cli
