// sys/files: reading, creating and replacing files in places another local user can reach. Every
// refusal names the file and what is wrong with it; nothing is followed through a symlink.

#include "sys/files.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace vp::sys {
namespace {

namespace fs = std::filesystem;
using test::TempDir;
using test::write_file;

constexpr uid_t other_uid = 4242;

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

struct stat fake_stat(mode_t type_and_mode, uid_t uid) {
  struct stat st {};
  st.st_mode = type_and_mode;
  st.st_uid = uid;
  return st;
}

/// Sets the umask for one scope.
struct Umask {
  mode_t old;
  explicit Umask(mode_t m) : old(::umask(m)) {}
  ~Umask() { ::umask(old); }
};

TEST(SysStat, EachProblemNamesThePathAndWhatIsWrong) {
  struct Row {
    const char* label;
    struct stat st;
    Kind kind;
    Expect expect;
    std::string want;  ///< "" = accepted
  };
  const uid_t me = 1000;
  const std::vector<Row> rows = {
      {"own 0600 file", fake_stat(S_IFREG | 0600, me), Kind::regular_file, owned_by_caller(077), ""},
      {"own 0644 file, write bits forbidden", fake_stat(S_IFREG | 0644, me), Kind::regular_file,
       owned_by_caller(022), ""},
      {"symlink", fake_stat(S_IFLNK | 0777, me), Kind::regular_file, owned_by_caller(022), "/p is a symbolic link"},
      {"directory for a file", fake_stat(S_IFDIR | 0700, me), Kind::regular_file, owned_by_caller(022),
       "/p is a directory"},
      {"fifo", fake_stat(S_IFIFO | 0600, me), Kind::regular_file, owned_by_caller(022), "/p is not a regular file"},
      {"file for a directory", fake_stat(S_IFREG | 0700, me), Kind::directory, owned_by_caller(022),
       "/p is not a directory"},
      {"another owner", fake_stat(S_IFREG | 0600, 1001), Kind::regular_file, owned_by_caller(022),
       "/p belongs to uid 1001, not to you (uid 1000)"},
      {"root's file, caller or root", fake_stat(S_IFREG | 0644, 0), Kind::regular_file,
       Expect{.owner = Expect::Owner::caller_or_root}, ""},
      {"another user's file, caller or root", fake_stat(S_IFREG | 0644, 1001), Kind::regular_file,
       Expect{.owner = Expect::Owner::caller_or_root}, "/p belongs to uid 1001, neither to you (uid 1000) nor to root"},
      {"another owner, not checked", fake_stat(S_IFREG | 0644, 1001), Kind::regular_file, any_owner(), ""},
      {"world-writable", fake_stat(S_IFREG | 0666, me), Kind::regular_file, owned_by_caller(022),
       "/p is writable by its group or by others (mode 0666)"},
      {"group-readable secret", fake_stat(S_IFREG | 0640, me), Kind::regular_file, owned_by_caller(077),
       "/p is readable by its group or by others (mode 0640)"},
      {"other-executable secret", fake_stat(S_IFREG | 0601, me), Kind::regular_file, owned_by_caller(077),
       "/p is open to its group or to others (mode 0601)"},
      {"sticky world-writable dir", fake_stat(S_IFDIR | 01777, me), Kind::directory, owned_by_caller(022),
       "/p is writable by its group or by others (mode 1777)"},
  };
  for (const auto& r : rows) EXPECT_EQ(stat_problem(r.st, "/p", r.kind, r.expect, me), r.want) << r.label;
}

TEST(SysRead, ReadsARegularFileOfTheCaller) {
  TempDir tmp;
  write_file(tmp.file("f"), "line one\nline two\n", 0600);
  auto r = read_file(tmp.file("f"), owned_by_caller(077));
  ASSERT_TRUE(r.content) << r.problem;
  EXPECT_EQ(*r.content, "line one\nline two\n");
  EXPECT_TRUE(r.problem.empty());
  EXPECT_FALSE(r.refused);
}

TEST(SysRead, ASymlinkIsRefusedAndNotFollowed) {
  TempDir tmp;
  write_file(tmp.file("target"), "private\n", 0600);
  ASSERT_EQ(::symlink(tmp.file("target").c_str(), tmp.file("link").c_str()), 0);
  auto r = read_file(tmp.file("link"), any_owner());
  EXPECT_FALSE(r.content);
  EXPECT_FALSE(r.missing);
  EXPECT_TRUE(r.refused);
  EXPECT_EQ(r.problem, tmp.file("link") + " is a symbolic link");
}

TEST(SysRead, MissingFifoDirectoryAndOversizedFilesAreRefused) {
  TempDir tmp;
  auto missing = read_file(tmp.file("none"), any_owner());
  EXPECT_TRUE(missing.missing);
  EXPECT_FALSE(missing.refused) << "missing is not the same as refused";
  EXPECT_NE(missing.problem.find(tmp.file("none")), std::string::npos) << missing.problem;

  ASSERT_EQ(::mkfifo(tmp.file("fifo").c_str(), 0600), 0);
  auto fifo = read_file(tmp.file("fifo"), any_owner());  // must not block on a FIFO without writer
  EXPECT_EQ(fifo.problem, tmp.file("fifo") + " is not a regular file");

  EXPECT_EQ(read_file(tmp.path(), any_owner()).problem, tmp.path() + " is a directory");

  write_file(tmp.file("big"), std::string(100, 'x'), 0600);
  Expect small = owned_by_caller(022);
  small.max_bytes = 99;
  auto big = read_file(tmp.file("big"), small);
  EXPECT_FALSE(big.content);
  EXPECT_TRUE(big.refused);
  EXPECT_EQ(big.problem, tmp.file("big") + " is larger than 99 bytes");
}

TEST(SysRead, ModeAndOwnerAreCheckedOnWhatWasOpened) {
  TempDir tmp;
  write_file(tmp.file("shared"), "x\n", 0644);
  EXPECT_EQ(read_file(tmp.file("shared"), owned_by_caller(077)).problem,
            tmp.file("shared") + " is readable by its group or by others (mode 0644)");
  EXPECT_TRUE(read_file(tmp.file("shared"), owned_by_caller(022)).content);
  if (::geteuid() != 0) GTEST_SKIP() << "chown to another uid needs root";
  ASSERT_EQ(::chown(tmp.file("shared").c_str(), other_uid, other_uid), 0);
  EXPECT_EQ(read_file(tmp.file("shared"), owned_by_caller(022)).problem,
            tmp.file("shared") + " belongs to uid 4242, not to you (uid 0)");
  EXPECT_TRUE(read_file(tmp.file("shared"), any_owner()).content);
}

TEST(SysDir, TypeOwnerAndModeAreChecked) {
  TempDir tmp;
  EXPECT_TRUE(check_dir(tmp.path(), owned_by_caller(022)).problem.empty());
  EXPECT_TRUE(check_dir(tmp.file("none"), owned_by_caller(022)).missing);
  fs::create_directory_symlink(tmp.path(), tmp.file("link"));
  EXPECT_EQ(check_dir(tmp.file("link"), owned_by_caller(022)).problem, tmp.file("link") + " is a symbolic link");
  write_file(tmp.file("file"), "", 0600);
  EXPECT_EQ(check_dir(tmp.file("file"), owned_by_caller(022)).problem, tmp.file("file") + " is not a directory");
  fs::create_directory(tmp.file("open"));
  ASSERT_EQ(::chmod(tmp.file("open").c_str(), 0777), 0);
  EXPECT_EQ(check_dir(tmp.file("open"), owned_by_caller(022)).problem,
            tmp.file("open") + " is writable by its group or by others (mode 0777)");
  if (::geteuid() != 0) GTEST_SKIP() << "chown to another uid needs root";
  ASSERT_EQ(::chown(tmp.file("open").c_str(), other_uid, other_uid), 0);
  EXPECT_EQ(check_dir(tmp.file("open"), owned_by_caller(0)).problem,
            tmp.file("open") + " belongs to uid 4242, not to you (uid 0)");
}

TEST(SysCreate, ExclusiveCreationNeverOpensWhatIsThere) {
  TempDir tmp;
  write_file(tmp.file("victim"), "keep\n", 0644);
  ASSERT_EQ(::symlink(tmp.file("victim").c_str(), tmp.file("link").c_str()), 0);
  for (const char* name : {"victim", "link"}) {
    auto c = create_exclusive(tmp.file(name), 0600);
    EXPECT_LT(c.fd, 0) << name;
    EXPECT_EQ(c.err, EEXIST) << name;
    EXPECT_EQ(c.problem, tmp.file(name) + " exists already");
  }
  EXPECT_EQ(read_file(tmp.file("victim"), any_owner()).content, "keep\n");
  EXPECT_EQ(mode_of(tmp.file("victim")), 0644u);

  Umask wide(0);  // the umask neither widens nor narrows the mode asked for
  auto c = create_exclusive(tmp.file("new"), 0640);
  ASSERT_GE(c.fd, 0) << c.problem;
  ::close(c.fd);
  EXPECT_EQ(mode_of(tmp.file("new")), 0640u);
  Umask narrow(077);
  auto d = create_exclusive(tmp.file("new2"), 0644);
  ASSERT_GE(d.fd, 0) << d.problem;
  ::close(d.fd);
  EXPECT_EQ(mode_of(tmp.file("new2")), 0644u);
}

TEST(SysAtomic, ReplacesTheCallersFileWithANewInodeAndLeavesNoTemporary) {
  TempDir tmp;
  const std::string path = tmp.file("cap");
  write_file(path, "stale\n", 0644);
  // Someone who opened the stale file earlier keeps that inode; it must never receive the content.
  int held = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(held, 0);
  write_file_atomic(path, "s3cret-token\n", 0600);
  EXPECT_EQ(test::read_file(path), "s3cret-token\n");
  EXPECT_EQ(mode_of(path), 0600u);
  char buf[64] = {};
  ssize_t n = ::pread(held, buf, sizeof buf, 0);
  ::close(held);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0), "stale\n");
  std::size_t entries = 0;
  for (auto& e : fs::directory_iterator(tmp.path())) {
    ++entries;
    EXPECT_EQ(e.path().filename(), "cap");
  }
  EXPECT_EQ(entries, 1u);
}

TEST(SysAtomic, ASymlinkOrAnotherUsersFileIsNeitherFollowedNorReplaced) {
  TempDir tmp;
  write_file(tmp.file("victim"), "keep\n", 0644);
  ASSERT_EQ(::symlink(tmp.file("victim").c_str(), tmp.file("link").c_str()), 0);
  try {
    write_file_atomic(tmp.file("link"), "token\n", 0600);
    ADD_FAILURE() << "wrote through a symlink";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find(tmp.file("link") + " is a symbolic link"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("choose another path"), std::string::npos) << e.what();
  }
  EXPECT_EQ(test::read_file(tmp.file("victim")), "keep\n");
  EXPECT_TRUE(fs::is_symlink(tmp.file("link")));
  if (::geteuid() != 0) GTEST_SKIP() << "chown to another uid needs root";
  ASSERT_EQ(::chown(tmp.file("victim").c_str(), other_uid, other_uid), 0);
  try {
    write_file_atomic(tmp.file("victim"), "token\n", 0600);
    ADD_FAILURE() << "replaced another user's file";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("belongs to uid 4242"), std::string::npos) << e.what();
  }
  EXPECT_EQ(test::read_file(tmp.file("victim")), "keep\n");
}

TEST(SysAppend, CreatesWithItsModeAppendsToTheCallersFileAndRefusesLinksAndOthersFiles) {
  TempDir tmp;
  {
    Umask open_umask(0);
    int fd = open_for_append(tmp.file("log"), 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "one\n", 4), 4);
    ::close(fd);
  }
  EXPECT_EQ(mode_of(tmp.file("log")), 0600u);
  int fd = open_for_append(tmp.file("log"), 0600);
  ASSERT_EQ(::write(fd, "two\n", 4), 4);
  ::close(fd);
  EXPECT_EQ(test::read_file(tmp.file("log")), "one\ntwo\n");

  write_file(tmp.file("victim"), "keep\n", 0644);
  ASSERT_EQ(::symlink(tmp.file("victim").c_str(), tmp.file("link").c_str()), 0);
  EXPECT_THROW(open_for_append(tmp.file("link"), 0600), FileError);
  write_file(tmp.file("open"), "", 0666);
  ASSERT_EQ(::chmod(tmp.file("open").c_str(), 0666), 0);
  try {
    open_for_append(tmp.file("open"), 0600);
    ADD_FAILURE() << "appended to a file others can write";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find(tmp.file("open")), std::string::npos) << e.what();
  }
  EXPECT_EQ(test::read_file(tmp.file("victim")), "keep\n");
  if (::geteuid() != 0) GTEST_SKIP() << "chown to another uid needs root";
  ASSERT_EQ(::chown(tmp.file("victim").c_str(), other_uid, other_uid), 0);
  EXPECT_THROW(open_for_append(tmp.file("victim"), 0600), FileError);
  EXPECT_EQ(test::read_file(tmp.file("victim")), "keep\n");
}

TEST(SysAtomic, AFailureNamesTheFileAndLeavesNothingBehind) {
  TempDir tmp;
  try {
    write_file_atomic(tmp.file("missing-dir/file"), "x", 0600);
    ADD_FAILURE() << "wrote into a directory that does not exist";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find(tmp.file("missing-dir/file")), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(tmp.path()));
}

}  // namespace
}  // namespace vp::sys
