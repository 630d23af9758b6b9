// Hot reload of the service token: what a fresh read leads to, decided without I/O, and which
// folders are watched.
#include "config/credentials.hpp"
#include "proxy/reload.hpp"

#include <gtest/gtest.h>

#include <map>

namespace vp::proxy {
namespace {

core::ServiceToken token(std::string id, std::string secret, std::string source = "file (a, b)") {
  core::ServiceToken t;
  t.client_id = core::Secret(std::move(id));
  t.client_secret = core::Secret(std::move(secret));
  t.source = std::move(source);
  t.version = 3;
  return t;
}

config::CredentialLoad loaded(core::ServiceToken t) {
  config::CredentialLoad l;
  l.token = std::move(t);
  return l;
}

config::CredentialLoad with_issue(std::string field, std::string problem) {
  config::CredentialLoad l;
  l.issues.push_back({std::move(field), std::move(problem), "fix"});
  return l;
}

TEST(DecideReload, Table) {
  const auto current = token("id-one-0123456789", "secret-one-0123456789");
  struct Case {
    const char* name;
    config::CredentialLoad load;
    const core::ServiceToken* current;
    ReloadAction action;
    std::string_view says;
  };
  config::CredentialLoad none;
  none.none_configured = true;
  std::vector<Case> cases;
  cases.push_back({"new value", loaded(token("id-two-0123456789", "secret-two-0123456789")), &current,
                   ReloadAction::install, "new service token from file (a, b)"});
  cases.push_back({"first value", loaded(token("id-two-0123456789", "secret-two-0123456789")), nullptr,
                   ReloadAction::install, "fingerprint"});
  cases.push_back({"same value", loaded(token("id-one-0123456789", "secret-one-0123456789")), &current,
                   ReloadAction::unchanged, "unchanged (version 3"});
  cases.push_back({"same value, other source",
                   loaded(token("id-one-0123456789", "secret-one-0123456789", "credentials-directory (x, y)")),
                   &current, ReloadAction::install, "credentials-directory"});
  cases.push_back({"bad new value", with_issue("CF_ACCESS_CLIENT_SECRET_FILE", "contains a line break"), &current,
                   ReloadAction::refused, "the service token in use (version 3, fingerprint"});
  cases.push_back({"file gone", with_issue("CF_ACCESS_CLIENT_ID_FILE", "'/run/x' cannot be opened"), &current,
                   ReloadAction::refused, "CF_ACCESS_CLIENT_ID_FILE: '/run/x' cannot be opened"});
  cases.push_back({"still missing", with_issue("CF_ACCESS_CLIENT_ID_FILE", "missing"), nullptr,
                   ReloadAction::refused, "503 credentials_missing"});
  cases.push_back({"environment only", none, &current, ReloadAction::nothing_configured, "cannot change"});
  for (const auto& c : cases) {
    auto d = decide_reload(c.load, c.current);
    EXPECT_EQ(d.action, c.action) << c.name;
    EXPECT_NE(d.message.find(c.says), std::string::npos) << c.name << ": " << d.message;
    EXPECT_EQ(d.message.find("secret-"), std::string::npos) << c.name << ": a value in " << d.message;
  }
}

TEST(ReloadSources, TheFilesAndFoldersAreTakenFromTheEnvironmentAtStart) {
  auto env = config::map_env({{"CF_ACCESS_CLIENT_ID_FILE", "/run/secrets/cf/id"},
                              {"CF_ACCESS_CLIENT_SECRET_FILE", "/run/secrets/cf/secret"},
                              {"CF_ACCESS_CLIENT_SECRET", "must-not-be-copied"},
                              {"CREDENTIALS_DIRECTORY", "/run/credentials/vp"},
                              {"HOME", "/root"}});
  auto files = config::credential_file_env(env);
  EXPECT_EQ(files("CF_ACCESS_CLIENT_ID_FILE"), "/run/secrets/cf/id");
  EXPECT_EQ(files("CREDENTIALS_DIRECTORY"), "/run/credentials/vp");
  EXPECT_FALSE(files("CF_ACCESS_CLIENT_SECRET")) << "a value is never copied";
  EXPECT_FALSE(files("HOME"));

  // The secret is a value here (it wins over its file and cannot change); only the id's folder is watched.
  EXPECT_EQ(config::credential_watch_dirs(env), std::vector<std::string>{"/run/secrets/cf"});
}

TEST(ReloadSources, WatchedFolders) {
  struct Case {
    std::map<std::string, std::string> env;
    std::vector<std::string> dirs;
  };
  const std::vector<Case> cases{
      {{{"CF_ACCESS_CLIENT_ID_FILE", "/a/id"}, {"CF_ACCESS_CLIENT_SECRET_FILE", "/a/secret"}}, {"/a"}},
      {{{"CF_ACCESS_CLIENT_ID_FILE", "/a/id"}, {"CF_ACCESS_CLIENT_SECRET_FILE", "/b/secret"}}, {"/a", "/b"}},
      {{{"CF_ACCESS_CLIENT_ID_FILE", "id"}, {"CF_ACCESS_CLIENT_SECRET_FILE", "/secret"}}, {".", "/"}},
      {{{"CREDENTIALS_DIRECTORY", "/run/credentials/x"}}, {"/run/credentials/x"}},
      {{{"CF_ACCESS_CLIENT_ID", "v"}, {"CF_ACCESS_CLIENT_SECRET", "v"}}, {}},
      {{}, {}},
  };
  for (const auto& c : cases) EXPECT_EQ(config::credential_watch_dirs(config::map_env(c.env)), c.dirs);
}

TEST(ReloadSources, OnlyMissingFilesLetTheProxyStartAndWait) {
  config::CredentialLoad l;
  EXPECT_FALSE(l.only_missing_files()) << "no issue at all";
  l.issues.push_back({"CF_ACCESS_CLIENT_ID_FILE", "missing", "fix"});
  l.missing_files.push_back("/run/x/id");
  EXPECT_TRUE(l.only_missing_files());
  l.issues.push_back({"CF_ACCESS_CLIENT_SECRET_FILE", "contains a line break", "fix"});
  EXPECT_FALSE(l.only_missing_files()) << "a bad value is a configuration error at start";
}

}  // namespace
}  // namespace vp::proxy
