// Where .mcp.json lives: the repository root found from any subfolder (runbook Session start step 4).
#include "cli/project_root.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

namespace {

namespace fs = std::filesystem;
using vp::cli::find_project_root;

TEST(ProjectRoot, FoundFromTheRootAndFromAnyDepthBelowIt) {
  vp::test::TempDir repo("vp-root-");
  fs::create_directories(repo.file(".git"));
  fs::create_directories(repo.file("a/b/c"));
  for (auto start : {repo.path(), repo.file("a"), repo.file("a/b/c"), repo.file("a/b/c/"), repo.file("a/../a/b")}) {
    auto r = find_project_root(start);
    EXPECT_TRUE(r.in_repository) << start;
    EXPECT_EQ(r.dir, repo.path()) << start;
  }
}

TEST(ProjectRoot, AWorktreeOrSubmoduleGitFileCounts) {
  vp::test::TempDir repo("vp-root-");
  vp::test::write_file(repo.file(".git"), "gitdir: /elsewhere/.git/worktrees/x\n");
  fs::create_directories(repo.file("src"));
  EXPECT_EQ(find_project_root(repo.file("src")).dir, repo.path());
}

TEST(ProjectRoot, TheNearestRepositoryWins) {
  vp::test::TempDir outer("vp-root-");
  fs::create_directories(outer.file(".git"));
  fs::create_directories(outer.file("vendor/inner/.git"));
  fs::create_directories(outer.file("vendor/inner/x"));
  EXPECT_EQ(find_project_root(outer.file("vendor/inner/x")).dir, outer.file("vendor/inner"));
  EXPECT_EQ(find_project_root(outer.file("vendor")).dir, outer.path());
}

TEST(ProjectRoot, OutsideARepositoryItIsTheStartFolder) {
  vp::test::TempDir plain("vp-root-");
  fs::create_directories(plain.file("sub"));
  // /tmp itself is in no repository on a sane machine; the walk goes up to /.
  if (find_project_root("/").in_repository) GTEST_SKIP() << "/ holds a .git";
  auto r = find_project_root(plain.file("sub"));
  EXPECT_FALSE(r.in_repository);
  EXPECT_EQ(r.dir, plain.file("sub"));
}

TEST(ProjectRoot, ASymlinkNamedGitIsNotARepository) {
  // Another user may plant `.git -> /` in a shared folder above the user's work.
  vp::test::TempDir plain("vp-root-");
  fs::create_directories(plain.file("sub"));
  ASSERT_EQ(::symlink("/", plain.file(".git").c_str()), 0);
  auto r = find_project_root(plain.file("sub"));
  EXPECT_NE(r.dir, plain.path());
}

TEST(ProjectRoot, TheMcpJsonPathAndHowItIsShown) {
  vp::cli::ProjectRoot in{"/repo", true}, out{"/work/x", false};
  EXPECT_EQ(vp::cli::default_mcp_json("", in), "/repo/.mcp.json");
  EXPECT_EQ(vp::cli::default_mcp_json("custom.json", in), "custom.json");
  EXPECT_EQ(vp::cli::describe_mcp_json("/repo/.mcp.json", in, false), "/repo/.mcp.json (the repository root)");
  EXPECT_EQ(vp::cli::describe_mcp_json("/work/x/.mcp.json", out, false),
            "/work/x/.mcp.json (the current directory: it is not inside a git repository)");
  EXPECT_EQ(vp::cli::describe_mcp_json("custom.json", in, true), "custom.json");
}

}  // namespace
