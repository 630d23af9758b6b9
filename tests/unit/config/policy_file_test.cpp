// config/policy_file: the policy setting resolved to a preset, a file, or off; every problem in a
// file named with its field and fix.

#include "config/policy_file.hpp"

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace {

using namespace vp;
using namespace vp::config;

std::string fields(const std::vector<Issue>& issues) {
  std::string out;
  for (const auto& i : issues) out += i.field + " | " + i.problem + " | " + i.fix + "\n";
  return out;
}

TEST(PolicyFile, AFullFileWithDenyAllowAndThePreset) {
  auto load = parse_policy(R"(
name = "app-dev"
extends = "read-only"
hint = "ask #platform"
[[deny]]
name = "never prod"
environment = "prod*"
[[allow]]
name = "write app/tmp in dev"
methods = ["post", "PATCH"]
operations = ["create-secret", "update-secret"]
environment = "dev"
secret_path = "/app/tmp/**"
)", "p.toml");
  ASSERT_TRUE(load.policy) << fields(load.issues);
  const auto& p = *load.policy;
  EXPECT_EQ(p.name, "app-dev");
  EXPECT_EQ(p.hint, "ask #platform");
  ASSERT_EQ(p.deny.size(), 1u);
  EXPECT_EQ(p.deny[0].environment, "prod*");
  ASSERT_EQ(p.allow.size(), core::read_only_policy().allow.size() + 1);
  const auto& last = p.allow.back();
  EXPECT_EQ(last.methods, (std::vector<std::string>{"POST", "PATCH"}));
  EXPECT_EQ(last.operations, (std::vector<core::ApiOp>{core::ApiOp::create_secret, core::ApiOp::update_secret}));
  EXPECT_EQ(last.secret_path, "/app/tmp/**");

  auto call = core::classify_api(http::verb::post, "/api/v3/secrets/raw/X");
  core::add_body_facts(call, R"({"environment":"dev","secretPath":"/app/tmp"})");
  EXPECT_EQ(core::decide("POST", call, p).rule, "write app/tmp in dev");
  auto read = core::classify_api(http::verb::get, "/api/v3/secrets/raw/X?environment=dev");
  EXPECT_EQ(core::decide("GET", read, p).rule, "read secrets");  // from the preset
}

TEST(PolicyFile, EveryProblemIsNamedWithItsFix) {
  auto load = parse_policy(R"(
nmae = "typo"
extends = "read-write"
[[allow]]
methods = ["GET", "G3T", 7]
operations = ["read-secrets"]
secret_path = "app/**"
environment = ""
colour = "red"
[[allow]]
name = "everything"
[[deny]]
name = "deep"
path = "/**/**/**/**/**"
)", "p.toml");
  EXPECT_FALSE(load.policy);
  EXPECT_EQ(fields(load.issues),
            "policy file p.toml: nmae | is not a policy field | use name, extends, hint, allow, deny\n"
            "policy file p.toml: extends | \"read-write\" is not a preset | use extends = \"read-only\", or remove it\n"
            "policy file p.toml: deny[1].path | has 5 '**' | use at most 4\n"
            "policy file p.toml: allow[1].colour | is not a policy field | use name, methods, operations, path, "
            "environment, secret_path\n"
            "policy file p.toml: allow[1].name | is missing | give every rule a name; refusals and the audit trail "
            "show it\n"
            "policy file p.toml: allow[1].methods | holds something that is not a string | write every item in double "
            "quotes\n"
            "policy file p.toml: allow[1].methods | \"G3T\" is not a method name | use names such as GET, POST, PATCH\n"
            "policy file p.toml: allow[1].operations | \"read-secrets\" is not an operation | use one of status, login, "
            "renew-token, revoke-token, read-secret, list-secrets, create-secret, update-secret, delete-secret, "
            "list-folders, create-folder, update-folder, delete-folder, read-identity, write-identity, read-project, "
            "write-project, other-read, other-write\n"
            "policy file p.toml: allow[1].environment | is not a non-empty string | give a pattern such as "
            "\"/app/**\"\n"
            "policy file p.toml: allow[1].secret_path | \"app/**\" does not start with '/' | write an absolute "
            "pattern, e.g. \"/app/**\"\n"
            "policy file p.toml: allow[2] | has no condition, so it allows every request | add methods, operations, "
            "path, environment or secret_path; to allow everything, set the policy to off\n");
}

TEST(PolicyFile, SyntaxErrorsAndEmptyPolicies) {
  auto bad = parse_policy("[[allow]\nname = 1", "p.toml");
  ASSERT_EQ(bad.issues.size(), 1u);
  EXPECT_EQ(bad.issues[0].field, "policy file p.toml: line 1");
  EXPECT_EQ(bad.issues[0].fix, "fix the TOML syntax");
  auto empty = parse_policy("name = \"nothing\"\n", "p.toml");
  ASSERT_EQ(empty.issues.size(), 1u);
  EXPECT_EQ(empty.issues[0].problem, "is missing: the policy would refuse every request");
}

TEST(LoadPolicy, OffThePresetAndFiles) {
  EXPECT_FALSE(load_policy("off", "policy").policy);
  EXPECT_TRUE(load_policy("off", "policy").issues.empty());
  EXPECT_EQ(load_policy("read-only", "policy").policy->name, "read-only");

  test::TempDir dir;
  const auto path = dir.file("p.toml");
  test::write_file(path, "[[allow]]\nname = \"status\"\noperations = [\"status\"]\n");
  ::chmod(path.c_str(), 0644);
  auto ok = load_policy(path, "policy");
  ASSERT_TRUE(ok.policy) << fields(ok.issues);
  EXPECT_EQ(ok.policy->name, path);

  ::chmod(path.c_str(), 0666);
  auto writable = load_policy(path, "policy (--policy)");
  ASSERT_EQ(writable.issues.size(), 1u);
  EXPECT_EQ(writable.issues[0].field, "policy (--policy)");
  EXPECT_EQ(writable.issues[0].problem, path + " is writable by its group or by others (mode 0666)");

  const auto link = dir.file("link.toml");
  ASSERT_EQ(::symlink(path.c_str(), link.c_str()), 0);
  auto linked = load_policy(link, "policy");
  ASSERT_EQ(linked.issues.size(), 1u);
  EXPECT_EQ(linked.issues[0].problem, link + " is a symbolic link");

  auto missing = load_policy(dir.file("none.toml"), "policy");
  ASSERT_EQ(missing.issues.size(), 1u);
  EXPECT_EQ(missing.issues[0].fix, "create the policy file, or use read-only or off");
}

TEST(LoadPolicy, TheUnixSocketListenerFallsBackToThePolicy) {
  Config cfg;
  cfg.policy = "read-only";
  auto same = load_listener_policies(cfg);
  EXPECT_EQ(same.tcp, same.unix_socket);
  ASSERT_TRUE(same.tcp);
  cfg.unix_socket_policy = "off";
  auto split = load_listener_policies(cfg);
  EXPECT_TRUE(split.tcp);
  EXPECT_FALSE(split.unix_socket);
  EXPECT_TRUE(split.issues.empty());
}

}  // namespace
