// The pure parts of the `secret` and `identity` commands: path normalisation, --set bindings, key
// prefixes and name checks.

#include "cli/identity_checks.hpp"
#include "cli/secret_cmd.hpp"
#include "cli/vault_admin.hpp"
#include "infisical/admin.hpp"

#include <gtest/gtest.h>

namespace {

using namespace vp;

TEST(SecretCli, PathsAreNormalisedTheWayTheApiComparesThem) {
  EXPECT_EQ(infisical::normal_path(""), "/");
  EXPECT_EQ(infisical::normal_path("/"), "/");
  EXPECT_EQ(infisical::normal_path("a/b/"), "/a/b");
  EXPECT_EQ(infisical::normal_path("//a//b"), "/a/b");
}

TEST(SecretCli, BindingsAreVarEqualsNameAtPath) {
  std::string problem;
  auto b = cli::parse_binding("INFISICAL_MCP_CLIENT_ID=MCP_RO_CLIENT_ID@/MooseQuest/identities/x", problem);
  ASSERT_TRUE(b) << problem;
  EXPECT_EQ(b->var, "INFISICAL_MCP_CLIENT_ID");
  EXPECT_EQ(b->key, "MCP_RO_CLIENT_ID");
  EXPECT_EQ(b->path, "/MooseQuest/identities/x");
  for (const char* bad : {"A", "A=B", "=B@/p", "1A=B@/p", "A-B=C@/p", "A=@/p", "A=B@p", "A=B@/p q", "A=B;C@/p"}) {
    problem.clear();
    EXPECT_FALSE(cli::parse_binding(bad, problem)) << bad;
    EXPECT_FALSE(problem.empty()) << bad;
  }
}

TEST(SecretCli, KeyPrefixIsUpperCaseWithEveryOtherCharacterAnUnderscore) {
  EXPECT_EQ(cli::key_prefix_of("mcp-main_loop.x"), "MCP_MAIN_LOOP_X");
  EXPECT_EQ(cli::key_prefix_of("Agent7"), "AGENT7");
}

TEST(SecretCli, NamesAndPathsAreChecked) {
  EXPECT_EQ(cli::key_problem("MCP_RO_CLIENT_SECRET"), "");
  EXPECT_NE(cli::key_problem(""), "");
  EXPECT_NE(cli::key_problem("A B"), "");
  EXPECT_EQ(cli::path_problem("/MooseQuest/identities/a-b_c"), "");
  EXPECT_NE(cli::path_problem("MooseQuest"), "");
  EXPECT_NE(cli::path_problem("/a/*"), "");
}

TEST(IdentityCli, BroadGlobsAreRefusedUnlessAllowed) {
  for (const char* ok : {"/MooseQuest/**", "/MooseQuest/agent/**", "/MooseQuest/a/*/b"})
    EXPECT_EQ(cli::glob_problem(ok, false), "") << ok;
  for (const char* broad : {"/**", "/*", "/**/x", "/*/a/**", "/", "/?x/**", "/{a,b}/**"}) {
    EXPECT_NE(cli::glob_problem(broad, false), "") << broad;
    EXPECT_EQ(cli::glob_problem(broad, true), "") << broad;
  }
  for (const char* bad : {"", "MooseQuest/**", "/a\"\n"}) EXPECT_NE(cli::glob_problem(bad, true), "") << bad;
}

TEST(IdentityCli, NamesSlugsAndAges) {
  EXPECT_EQ(cli::identity_name_problem("infisical-identity-mcp_main"), "");
  EXPECT_NE(cli::identity_name_problem("a.b"), "");
  EXPECT_NE(cli::identity_name_problem(""), "");
  EXPECT_EQ(cli::privilege_slug("MCP_Main-loop"), "mcp-main-loop-read");
  EXPECT_EQ(cli::credentials_path("x"), "/MooseQuest/identities/x");
  EXPECT_EQ(cli::parse_age("30d"), 30 * 86400);
  EXPECT_EQ(cli::parse_age("12h"), 12 * 3600);
  EXPECT_EQ(cli::parse_age("90m"), 90 * 60);
  EXPECT_EQ(cli::parse_age("3600"), 3600);
  for (const char* bad : {"", "d", "soon", "-1d", "1.5d", "9999999999d"}) EXPECT_FALSE(cli::parse_age(bad)) << bad;
}

}  // namespace
