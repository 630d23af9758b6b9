// core/api_op: what an Infisical API request does, from its method, target and body.

#include "core/api_op.hpp"

#include <gtest/gtest.h>

namespace {

using namespace vp;
using namespace vp::core;
using http::verb;

struct Row {
  verb method;
  const char* target;
  ApiOp op;
  const char* project;
  const char* environment;
  const char* secret_path;
  std::vector<std::string> keys;
};

TEST(ClassifyApi, TheMcpServersCallsAndTheRestOfTheApi) {
  const Row rows[] = {
      // The real client's calls (docs: infisical-api.md, "What the MCP server sends").
      {verb::get,
       "/api/v3/secrets/raw/DB_URL?secretName=DB_URL&workspaceId=p1&environment=dev&expandSecretReferences=true"
       "&includeImports=true&secretPath=%2Fapp%2F&viewSecretValue=true",
       ApiOp::read_secret, "p1", "dev", "/app", {"DB_URL"}},
      {verb::get, "/api/v3/secrets/raw?workspaceId=p1&environment=prod&recursive=false&secretPath=%2F",
       ApiOp::list_secrets, "p1", "prod", "/", {}},
      {verb::post, "/api/v3/secrets/raw/NEW", ApiOp::create_secret, "", "", "/", {"NEW"}},
      {verb::patch, "/api/v3/secrets/raw/OLD", ApiOp::update_secret, "", "", "/", {"OLD"}},
      {verb::delete_, "/api/v3/secrets/raw/OLD", ApiOp::delete_secret, "", "", "/", {"OLD"}},
      {verb::get, "/api/v1/folders?workspaceId=p1&environment=dev&path=/a/b/", ApiOp::list_folders, "p1", "dev",
       "/a/b", {}},
      {verb::post, "/api/v1/folders", ApiOp::create_folder, "", "", "/", {}},
      {verb::delete_, "/api/v1/folders/f1", ApiOp::delete_folder, "", "", "/", {}},
      {verb::post, "/api/v1/auth/universal-auth/login", ApiOp::login, "", "", "", {}},
      {verb::post, "/api/v1/auth/kubernetes-auth/login", ApiOp::login, "", "", "", {}},
      {verb::post, "/api/v1/auth/token/renew", ApiOp::renew_token, "", "", "", {}},
      {verb::post, "/api/v1/auth/token/revoke", ApiOp::revoke_token, "", "", "", {}},
      {verb::get, "/api/status", ApiOp::status, "", "", "", {}},
      {verb::post, "/api/status", ApiOp::other_write, "", "", "", {}},
      // v4 and batches.
      {verb::get, "/api/v4/secrets?projectId=p2&environment=stg&secretPath=/x", ApiOp::list_secrets, "p2", "stg",
       "/x", {}},
      {verb::get, "/api/v4/secrets/K%20Y?projectId=p2&environment=stg", ApiOp::read_secret, "p2", "stg", "/",
       {"K Y"}},
      {verb::post, "/api/v3/secrets/batch/raw", ApiOp::create_secret, "", "", "/", {}},
      {verb::patch, "/api/v4/secrets/batch", ApiOp::update_secret, "", "", "/", {}},
      {verb::get, "/api/v3/secrets/raw/A/extra", ApiOp::other_read, "", "", "", {}},
      // Identities, projects, the rest.
      {verb::post, "/api/v1/identities", ApiOp::write_identity, "", "", "", {}},
      {verb::get, "/api/v1/identities/i1", ApiOp::read_identity, "", "", "", {}},
      {verb::post, "/api/v1/auth/universal-auth/identities/i1/client-secrets", ApiOp::write_identity, "", "", "",
       {}},
      {verb::post, "/api/v2/workspace/p1/identity-memberships/i1", ApiOp::write_identity, "", "", "", {}},
      {verb::post, "/api/v2/identity-project-additional-privilege", ApiOp::write_identity, "", "", "", {}},
      {verb::get, "/api/v1/workspace", ApiOp::read_project, "", "", "", {}},
      {verb::post, "/api/v2/workspace", ApiOp::write_project, "", "", "", {}},
      {verb::get, "/api/v1/organization/x", ApiOp::other_read, "", "", "", {}},
      {verb::put, "/api/v1/organization/x", ApiOp::other_write, "", "", "", {}},
      {verb::get, "/", ApiOp::none, "", "", "", {}},
      {verb::get, "/apix/v1/folders", ApiOp::none, "", "", "", {}},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.target);
    auto call = classify_api(r.method, r.target);
    EXPECT_EQ(call.problem, "");
    EXPECT_EQ(op_name(call.op), op_name(r.op));
    EXPECT_EQ(call.project, r.project);
    EXPECT_EQ(call.environment, r.environment);
    EXPECT_EQ(call.secret_path, r.secret_path);
    EXPECT_EQ(call.keys, r.keys);
  }
}

TEST(ClassifyApi, RecursiveListsAndTheDecodedPath) {
  auto call = classify_api(verb::get, "/api/v3/secrets/raw?environment=dev&secretPath=%2F&recursive=true");
  EXPECT_TRUE(call.recursive);
  EXPECT_EQ(call.path, "/api/v3/secrets/raw");
  EXPECT_FALSE(classify_api(verb::get, "/api/v3/secrets/raw?recursive=false").recursive);
  EXPECT_EQ(classify_api(verb::get, "/api/v1/fold%65rs").op, ApiOp::list_folders);
  EXPECT_EQ(classify_api(verb::get, "/api/v1/folders/").op, ApiOp::list_folders);
}

TEST(ClassifyApi, ATargetThatCouldBeReadTwoWaysIsAProblem) {
  const char* ambiguous[] = {
      "/api/v3/secrets/raw/..%2F..%2Fv1%2Fidentities",
      "/api/v3/secrets%2Fraw",
      "/api/v3/secrets/raw/%2e%2e/x",
      "/api/v1/auth/universal-auth/login/../../../v3/secrets/raw/X",
      "/api/v3/secrets/./raw",
      "/api//v3/secrets/raw",
      "/api/v3/secrets/raw/a%5cb",
      "/api/v3/secrets/raw/a%00",
      "/api/v3/secrets/raw/a\\b",
      "*",
      "http://example/api/status",
      "/api/v3/secrets/raw/%zz",
  };
  for (const char* t : ambiguous) {
    SCOPED_TRACE(t);
    auto call = classify_api(verb::get, t);
    EXPECT_NE(call.problem, "");
    EXPECT_EQ(call.op, ApiOp::none);
  }
}

TEST(AddBodyFacts, WritesNameTheirEnvironmentAndPathInTheBody) {
  auto call = classify_api(verb::post, "/api/v3/secrets/raw/NEW?environment=dev");
  EXPECT_FALSE(call.body_read);
  add_body_facts(call, R"({"workspaceId":"p1","environment":"prod","secretValue":"s3cret","secretPath":"/app/"})");
  EXPECT_TRUE(call.body_read);
  EXPECT_EQ(call.project, "p1");
  EXPECT_EQ(call.environment, "prod");  // the body is what the vault acts on
  EXPECT_EQ(call.secret_path, "/app");
  EXPECT_EQ(call.keys, std::vector<std::string>{"NEW"});

  auto batch = classify_api(verb::post, "/api/v3/secrets/batch/raw");
  add_body_facts(batch, R"({"environment":"dev","secrets":[{"secretKey":"A","secretValue":"x"},{"secretKey":"B"},
                              {"secretKey":"A"},{"secretKey":7},"junk"]})");
  EXPECT_EQ(batch.keys, (std::vector<std::string>{"A", "B"}));

  auto folder = classify_api(verb::post, "/api/v1/folders");
  add_body_facts(folder, R"({"workspaceId":"p1","environment":"dev","name":"x","path":"/a"})");
  EXPECT_EQ(folder.secret_path, "/a");

  auto junk = classify_api(verb::delete_, "/api/v3/secrets/raw/K");
  add_body_facts(junk, "not json");
  EXPECT_TRUE(junk.body_read);
  EXPECT_EQ(junk.environment, "");
  add_body_facts(junk, R"(["environment","prod"])");
  EXPECT_EQ(junk.environment, "");
}

TEST(OpNames, RoundTripAndWhatIsAudited) {
  for (auto op : all_api_ops) {
    bool found = false;
    EXPECT_EQ(op_from_name(op_name(op), found), op);
    EXPECT_TRUE(found);
  }
  bool found = true;
  op_from_name("read-secrets", found);
  EXPECT_FALSE(found);
  EXPECT_TRUE(op_audited(ApiOp::read_secret));
  EXPECT_TRUE(op_audited(ApiOp::write_identity));
  EXPECT_TRUE(op_audited(ApiOp::login));
  EXPECT_FALSE(op_audited(ApiOp::status));
  EXPECT_FALSE(op_audited(ApiOp::read_project));
  EXPECT_FALSE(op_audited(ApiOp::none));
  EXPECT_TRUE(op_has_body_facts(ApiOp::delete_secret));
  EXPECT_FALSE(op_has_body_facts(ApiOp::read_secret));
}

TEST(MayBeAudited, PlainPathsOutsideTheApiAndTheHealthEndpointAreSkipped) {
  for (const char* t : {"/api/status", "/api/status?x=1", "/", "/blob/1m", "/echo?a=b", "/assets/app.js"})
    EXPECT_FALSE(may_be_audited(t)) << t;
  for (const char* t : {"/api/v3/secrets/raw/X", "/api/statusx", "/api/st%61tus", "/%61pi/v3/secrets/raw/X",
                        "//api/v3/secrets/raw/X", "/x/../api/v3/secrets/raw/X", "/x\\..\\api", "/api/status/../v3/x"})
    EXPECT_TRUE(may_be_audited(t)) << t;
}

TEST(NormalSecretPath, TheVaultsOwnNormalisation) {
  EXPECT_EQ(normal_secret_path(""), "/");
  EXPECT_EQ(normal_secret_path("/"), "/");
  EXPECT_EQ(normal_secret_path("//"), "/");
  EXPECT_EQ(normal_secret_path("/a/b/"), "/a/b");
  EXPECT_EQ(normal_secret_path("a"), "/a");
}

}  // namespace
