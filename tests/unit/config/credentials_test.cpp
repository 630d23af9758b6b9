// Service-token loading: the three sources, their order, and values that must never reach a header
// or an error message.

#include "config/credentials.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace vp::config {
namespace {

using test::TempDir;
using test::write_file;

// Distinctive bytes, so a leak anywhere in issue text is found by a plain substring search.
const std::string id_value = "idQ4w-5c1d.access";
const std::string secret_value = "secK9z-0bf3e7a1c2d4e6f8";

std::string text_of(const CredentialLoad& r) { return format_issues(r.issues); }

void expect_no_leak(const CredentialLoad& r, const std::vector<std::string>& secrets) {
  std::string text = text_of(r);
  for (const auto& s : secrets) {
    EXPECT_EQ(text.find(s), std::string::npos) << text;
    // A prefix catches a value cut short or partly escaped.
    EXPECT_EQ(text.find(s.substr(0, 6)), std::string::npos) << text;
  }
}

TEST(CredentialSources, NothingConfiguredIsNotAnError) {
  auto r = load_credentials(map_env({{"VAULT_PROXY_PORT", "1"}}));
  EXPECT_TRUE(r.none_configured);
  EXPECT_FALSE(r.token);
  EXPECT_TRUE(r.issues.empty());
}

TEST(CredentialSources, FromEnvironment) {
  auto r = load_credentials(
      map_env({{"CF_ACCESS_CLIENT_ID", id_value}, {"CF_ACCESS_CLIENT_SECRET", secret_value}}));
  ASSERT_TRUE(r.token) << text_of(r);
  EXPECT_FALSE(r.none_configured);
  EXPECT_EQ(r.token->client_id.reveal(), id_value);
  EXPECT_EQ(r.token->client_secret.reveal(), secret_value);
  EXPECT_EQ(r.token->source, "env (CF_ACCESS_CLIENT_ID, CF_ACCESS_CLIENT_SECRET)");
}

TEST(CredentialSources, FromFiles) {
  TempDir dir;
  write_file(dir.file("id"), id_value + "\n");
  write_file(dir.file("secret"), secret_value + "\n");
  auto r = load_credentials(map_env(
      {{"CF_ACCESS_CLIENT_ID_FILE", dir.file("id")}, {"CF_ACCESS_CLIENT_SECRET_FILE", dir.file("secret")}}));
  ASSERT_TRUE(r.token) << text_of(r);
  EXPECT_EQ(r.token->client_id.reveal(), id_value);
  EXPECT_EQ(r.token->client_secret.reveal(), secret_value);
  EXPECT_EQ(r.token->source, "file (CF_ACCESS_CLIENT_ID_FILE, CF_ACCESS_CLIENT_SECRET_FILE)");
}

TEST(CredentialSources, FromCredentialsDirectory) {
  TempDir dir;
  write_file(dir.file("cf-access-client-id"), id_value);
  write_file(dir.file("cf-access-client-secret"), secret_value + "\r\n");
  auto r = load_credentials(map_env({{"CREDENTIALS_DIRECTORY", dir.path()}}));
  ASSERT_TRUE(r.token) << text_of(r);
  EXPECT_EQ(r.token->client_id.reveal(), id_value);
  EXPECT_EQ(r.token->client_secret.reveal(), secret_value);
  EXPECT_EQ(r.token->source,
            "credentials-directory ($CREDENTIALS_DIRECTORY/cf-access-client-id, "
            "$CREDENTIALS_DIRECTORY/cf-access-client-secret)");
}

TEST(CredentialSources, EnvBeatsFileBeatsCredentialsDirectoryPerValue) {
  TempDir dir;
  write_file(dir.file("id-file"), "id-from-file\n");
  write_file(dir.file("secret-file"), "secret-from-file\n");
  write_file(dir.file("cf-access-client-id"), "id-from-dir\n");
  write_file(dir.file("cf-access-client-secret"), "secret-from-dir\n");
  struct Row {
    bool env, file;
    std::string id, secret, source_prefix;
  };
  for (const auto& row : {Row{true, true, "id-from-env", "secret-from-env", "env ("},
                          Row{false, true, "id-from-file", "secret-from-file", "file ("},
                          Row{true, false, "id-from-env", "secret-from-env", "env ("},
                          Row{false, false, "id-from-dir", "secret-from-dir", "credentials-directory ("}}) {
    SCOPED_TRACE(row.source_prefix);
    std::map<std::string, std::string> env{{"CREDENTIALS_DIRECTORY", dir.path()}};
    if (row.env) {
      env["CF_ACCESS_CLIENT_ID"] = "id-from-env";
      env["CF_ACCESS_CLIENT_SECRET"] = "secret-from-env";
    }
    if (row.file) {
      env["CF_ACCESS_CLIENT_ID_FILE"] = dir.file("id-file");
      env["CF_ACCESS_CLIENT_SECRET_FILE"] = dir.file("secret-file");
    }
    auto r = load_credentials(map_env(env));
    ASSERT_TRUE(r.token) << text_of(r);
    EXPECT_EQ(r.token->client_id.reveal(), row.id);
    EXPECT_EQ(r.token->client_secret.reveal(), row.secret);
    EXPECT_EQ(r.token->source.rfind(row.source_prefix, 0), 0u) << r.token->source;
  }
}

TEST(CredentialSources, EachValueMayComeFromADifferentSource) {
  TempDir dir;
  write_file(dir.file("cf-access-client-secret"), secret_value + "\n");
  auto r = load_credentials(
      map_env({{"CF_ACCESS_CLIENT_ID", id_value}, {"CREDENTIALS_DIRECTORY", dir.path()}}));
  ASSERT_TRUE(r.token) << text_of(r);
  EXPECT_EQ(r.token->client_id.reveal(), id_value);
  EXPECT_EQ(r.token->client_secret.reveal(), secret_value);
  EXPECT_EQ(r.token->source,
            "env (CF_ACCESS_CLIENT_ID), credentials-directory ($CREDENTIALS_DIRECTORY/cf-access-client-secret)");
}

TEST(CredentialSources, SourceNeverContainsTheValues) {
  TempDir dir;
  write_file(dir.file("s"), secret_value);
  auto r = load_credentials(
      map_env({{"CF_ACCESS_CLIENT_ID", id_value}, {"CF_ACCESS_CLIENT_SECRET_FILE", dir.file("s")}}));
  ASSERT_TRUE(r.token) << text_of(r);
  EXPECT_EQ(r.token->source.find(id_value), std::string::npos);
  EXPECT_EQ(r.token->source.find(secret_value), std::string::npos);
}

TEST(CredentialSources, OnlyOneHalfIsAnIssueNamingTheMissingVariable) {
  TempDir dir;
  write_file(dir.file("id"), id_value + "\n");
  write_file(dir.file("secret"), secret_value + "\n");
  TempDir creds;
  write_file(creds.file("cf-access-client-id"), id_value + "\n");
  struct Row {
    std::map<std::string, std::string> env;
    std::string missing;
  };
  std::vector<Row> rows{
      {{{"CF_ACCESS_CLIENT_ID", id_value}}, "CF_ACCESS_CLIENT_SECRET"},
      {{{"CF_ACCESS_CLIENT_SECRET", secret_value}}, "CF_ACCESS_CLIENT_ID"},
      {{{"CF_ACCESS_CLIENT_ID_FILE", dir.file("id")}}, "CF_ACCESS_CLIENT_SECRET"},
      {{{"CF_ACCESS_CLIENT_SECRET_FILE", dir.file("secret")}}, "CF_ACCESS_CLIENT_ID"},
      {{{"CREDENTIALS_DIRECTORY", creds.path()}}, "CF_ACCESS_CLIENT_SECRET"},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.missing);
    auto r = load_credentials(map_env(row.env));
    EXPECT_FALSE(r.token);
    EXPECT_FALSE(r.none_configured);
    ASSERT_EQ(r.issues.size(), 1u) << text_of(r);
    EXPECT_EQ(r.issues[0].field, row.missing);
    EXPECT_NE(r.issues[0].fix.find(row.missing + "_FILE"), std::string::npos) << r.issues[0].fix;
    EXPECT_NE(r.issues[0].fix.find("$CREDENTIALS_DIRECTORY/"), std::string::npos) << r.issues[0].fix;
    expect_no_leak(r, {id_value, secret_value});
  }
}

// ---------------------------------------------------------------------------------------------------
// Files that cannot be read

TEST(CredentialFiles, UnreadableFileNamesTheVariableAndPath) {
  TempDir dir;
  write_file(dir.file("id"), id_value + "\n");
  std::string fifo = dir.file("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string big = dir.file("big");
  write_file(big, std::string(70 * 1024, 'a'));
  struct Row {
    std::string path, problem_has;
  };
  for (const auto& row : {Row{dir.file("missing"), "No such file or directory"}, Row{dir.path(), "is a directory"},
                          Row{fifo, "not a regular file"}, Row{"/dev/null", "not a regular file"},
                          Row{big, "larger than 64 KiB"}}) {
    SCOPED_TRACE(row.path);
    auto r = load_credentials(
        map_env({{"CF_ACCESS_CLIENT_ID_FILE", dir.file("id")}, {"CF_ACCESS_CLIENT_SECRET_FILE", row.path}}));
    EXPECT_FALSE(r.token);
    EXPECT_FALSE(r.none_configured);
    ASSERT_EQ(r.issues.size(), 1u) << text_of(r);
    EXPECT_EQ(r.issues[0].field, "CF_ACCESS_CLIENT_SECRET_FILE");
    EXPECT_NE(r.issues[0].problem.find("'" + row.path + "'"), std::string::npos) << r.issues[0].problem;
    EXPECT_NE(r.issues[0].problem.find(row.problem_has), std::string::npos) << r.issues[0].problem;
    expect_no_leak(r, {id_value});
  }
}

TEST(CredentialFiles, PermissionDeniedIsAnIssue) {
  TempDir dir;
  write_file(dir.file("secret"), secret_value, 0000);
  if (::access(dir.file("secret").c_str(), R_OK) == 0) GTEST_SKIP() << "running with CAP_DAC_OVERRIDE (root)";
  auto r = load_credentials(
      map_env({{"CF_ACCESS_CLIENT_ID", id_value}, {"CF_ACCESS_CLIENT_SECRET_FILE", dir.file("secret")}}));
  ASSERT_EQ(r.issues.size(), 1u) << text_of(r);
  EXPECT_EQ(r.issues[0].field, "CF_ACCESS_CLIENT_SECRET_FILE");
  EXPECT_NE(r.issues[0].problem.find("Permission denied"), std::string::npos);
}

TEST(CredentialFiles, EmptyFileVariableIsAnIssue) {
  auto r = load_credentials(map_env({{"CF_ACCESS_CLIENT_ID", id_value}, {"CF_ACCESS_CLIENT_SECRET_FILE", ""}}));
  EXPECT_FALSE(r.token);
  ASSERT_EQ(r.issues.size(), 1u) << text_of(r);
  EXPECT_EQ(r.issues[0].field, "CF_ACCESS_CLIENT_SECRET_FILE");
  EXPECT_NE(r.issues[0].problem.find("empty"), std::string::npos);
}

TEST(CredentialFiles, MissingFilesInCredentialsDirectoryMeanNotConfigured) {
  TempDir dir;
  for (const std::string& d : {dir.path(), dir.file("does-not-exist")}) {
    auto r = load_credentials(map_env({{"CREDENTIALS_DIRECTORY", d}}));
    EXPECT_TRUE(r.none_configured);
    EXPECT_TRUE(r.issues.empty()) << text_of(r);
  }
}

TEST(CredentialFiles, UnreadableCredentialInDirectoryIsAnIssue) {
  TempDir dir;
  write_file(dir.file("cf-access-client-id"), id_value);
  ASSERT_EQ(::mkdir(dir.file("cf-access-client-secret").c_str(), 0700), 0);
  auto r = load_credentials(map_env({{"CREDENTIALS_DIRECTORY", dir.path()}}));
  EXPECT_FALSE(r.token);
  ASSERT_EQ(r.issues.size(), 1u) << text_of(r);
  EXPECT_EQ(r.issues[0].field, "$CREDENTIALS_DIRECTORY/cf-access-client-secret");
  EXPECT_NE(r.issues[0].problem.find("is a directory"), std::string::npos);
}

TEST(CredentialFiles, BothHalvesBrokenGiveTwoIssues) {
  auto r = load_credentials(map_env({{"CF_ACCESS_CLIENT_ID_FILE", "/nonexistent/id"},
                                     {"CF_ACCESS_CLIENT_SECRET_FILE", "/nonexistent/secret"}}));
  ASSERT_EQ(r.issues.size(), 2u) << text_of(r);
  EXPECT_EQ(r.issues[0].field, "CF_ACCESS_CLIENT_ID_FILE");
  EXPECT_EQ(r.issues[1].field, "CF_ACCESS_CLIENT_SECRET_FILE");
}

// ---------------------------------------------------------------------------------------------------
// Values

TEST(CredentialValues, FileTrailingNewlineIsStrippedOnce) {
  struct Row {
    std::string content;
    std::optional<std::string> want;  // nullopt = refused
    std::string problem_has;
  };
  const std::string s = secret_value;
  std::vector<Row> rows{
      {s, s, ""},
      {s + "\n", s, ""},
      {s + "\r\n", s, ""},
      {s + "\n\n", std::nullopt, "contains a line break or NUL byte"},
      {s + "\r\n\r\n", std::nullopt, "contains a line break or NUL byte"},
      {s + "\r", std::nullopt, "contains a line break or NUL byte"},
      {s + "\n\r", std::nullopt, "contains a line break or NUL byte"},
      {"\n" + s, std::nullopt, "contains a line break or NUL byte"},
      {s.substr(0, 8) + "\n" + s.substr(8) + "\n", std::nullopt, "contains a line break or NUL byte"},
      {s.substr(0, 8) + "\r" + s.substr(8), std::nullopt, "contains a line break or NUL byte"},
      {s.substr(0, 8) + std::string(1, '\0') + s.substr(8), std::nullopt, "contains a line break or NUL byte"},
      {s + std::string(1, '\0'), std::nullopt, "contains a line break or NUL byte"},
      {s.substr(0, 8) + "\x1b" + s.substr(8), std::nullopt, "control character"},
      {s + " \n", std::nullopt, "whitespace"},
      {"\t" + s, std::nullopt, "whitespace"},
      {"", std::nullopt, "is empty"},
      {"\n", std::nullopt, "is empty"},
      {"\r\n", std::nullopt, "is empty"},
  };
  TempDir dir;
  write_file(dir.file("id"), id_value + "\n");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    SCOPED_TRACE("row " + std::to_string(i));
    std::string path = dir.file("secret" + std::to_string(i));
    write_file(path, row.content);
    auto r = load_credentials(
        map_env({{"CF_ACCESS_CLIENT_ID_FILE", dir.file("id")}, {"CF_ACCESS_CLIENT_SECRET_FILE", path}}));
    if (row.want) {
      ASSERT_TRUE(r.token) << text_of(r);
      EXPECT_EQ(r.token->client_secret.reveal(), *row.want);
      continue;
    }
    EXPECT_FALSE(r.token);
    EXPECT_FALSE(r.none_configured);
    ASSERT_EQ(r.issues.size(), 1u) << text_of(r);
    EXPECT_EQ(r.issues[0].field, "CF_ACCESS_CLIENT_SECRET_FILE");
    EXPECT_NE(r.issues[0].problem.find(row.problem_has), std::string::npos) << r.issues[0].problem;
    EXPECT_NE(r.issues[0].problem.find(path), std::string::npos) << r.issues[0].problem;
    expect_no_leak(r, {s.substr(0, 8), s.substr(8)});
  }
}

TEST(CredentialValues, EnvironmentValuesAreNotStripped) {
  struct Row {
    std::string id, secret, field, problem_has;
  };
  for (const auto& row :
       {Row{id_value, secret_value + "\n", "CF_ACCESS_CLIENT_SECRET", "contains a line break or NUL byte"},
        Row{id_value + "\r\nX-Injected: 1", secret_value, "CF_ACCESS_CLIENT_ID", "contains a line break"},
        Row{id_value, "", "CF_ACCESS_CLIENT_SECRET", "is empty"},
        Row{"", secret_value, "CF_ACCESS_CLIENT_ID", "is empty"},
        Row{id_value, " " + secret_value, "CF_ACCESS_CLIENT_SECRET", "whitespace"}}) {
    SCOPED_TRACE(row.field + " " + row.problem_has);
    auto r = load_credentials(map_env({{"CF_ACCESS_CLIENT_ID", row.id}, {"CF_ACCESS_CLIENT_SECRET", row.secret}}));
    EXPECT_FALSE(r.token);
    ASSERT_EQ(r.issues.size(), 1u) << text_of(r);
    EXPECT_EQ(r.issues[0].field, row.field);
    EXPECT_NE(r.issues[0].problem.find(row.problem_has), std::string::npos) << r.issues[0].problem;
    expect_no_leak(r, {id_value, secret_value});
  }
}

TEST(CredentialValues, BadValueDoesNotFallThroughToALowerSource) {
  // A broken higher source must be reported, not silently replaced by an older credential.
  TempDir dir;
  write_file(dir.file("cf-access-client-id"), "id-from-dir\n");
  write_file(dir.file("cf-access-client-secret"), "secret-from-dir\n");
  auto r = load_credentials(map_env({{"CF_ACCESS_CLIENT_ID", id_value},
                                     {"CF_ACCESS_CLIENT_SECRET", "bad\nvalue"},
                                     {"CREDENTIALS_DIRECTORY", dir.path()}}));
  EXPECT_FALSE(r.token);
  ASSERT_EQ(r.issues.size(), 1u) << text_of(r);
  EXPECT_EQ(r.issues[0].field, "CF_ACCESS_CLIENT_SECRET");
}

TEST(CredentialValues, LengthIsShownButNeverTheValue) {
  auto r = load_credentials(
      map_env({{"CF_ACCESS_CLIENT_ID", id_value}, {"CF_ACCESS_CLIENT_SECRET", secret_value + "\r\n"}}));
  ASSERT_EQ(r.issues.size(), 1u);
  EXPECT_NE(r.issues[0].problem.find("len=" + std::to_string(secret_value.size() + 2)), std::string::npos)
      << r.issues[0].problem;
  expect_no_leak(r, {id_value, secret_value});
}

TEST(CredentialNames, ListsTheVariablesThatHoldOrPointAtSecrets) {
  const auto& names = credential_env_names();
  std::vector<std::string> want{"CF_ACCESS_CLIENT_ID",          "CF_ACCESS_CLIENT_ID_FILE",
                                "CF_ACCESS_CLIENT_SECRET",      "CF_ACCESS_CLIENT_SECRET_FILE",
                                "INFISICAL_MCP_CLIENT_ID",      "INFISICAL_MCP_CLIENT_ID_FILE",
                                "INFISICAL_MCP_CLIENT_SECRET",  "INFISICAL_MCP_CLIENT_SECRET_FILE"};
  EXPECT_EQ(names, want);
  EXPECT_EQ(std::find(names.begin(), names.end(), "CREDENTIALS_DIRECTORY"), names.end());
}

TEST(IdentityCredentials, TheSameRulesUnderTheIdentitysNames) {
  TempDir dir;
  write_file(dir.file("infisical-mcp-client-id"), "identity-id-0001\n");
  write_file(dir.file("infisical-mcp-client-secret"), "identity-secret-0001\n");
  auto r = load_credentials(map_env({{"CREDENTIALS_DIRECTORY", dir.path()}}), identity_names());
  ASSERT_TRUE(r.token) << format_issues(r.issues);
  EXPECT_EQ(r.token->client_id.reveal(), "identity-id-0001");
  EXPECT_EQ(r.token->client_secret.reveal(), "identity-secret-0001");
  // The service token's names are not the identity's, and the reverse.
  EXPECT_TRUE(load_credentials(map_env({{"CREDENTIALS_DIRECTORY", dir.path()}})).none_configured);
  auto half = load_credentials(map_env({{"INFISICAL_MCP_CLIENT_ID", "x-id-0001"}}), identity_names());
  ASSERT_EQ(half.issues.size(), 1u);
  EXPECT_EQ(half.issues[0].field, "INFISICAL_MCP_CLIENT_SECRET");
  EXPECT_NE(half.issues[0].problem.find("identity's client id is set"), std::string::npos) << half.issues[0].problem;
}

}  // namespace
}  // namespace vp::config
