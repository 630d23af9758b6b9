// sys/append_log: lines go to the file in order; a full queue drops (and counts) instead of
// blocking; rotation keeps path.1 … path.<keep> with mode 0600; and nothing on disk (a symlink at
// the path or at a rotated name, a directory that is not one, a full disk) stops the caller: the
// lines are counted as failed and last_problem names the file.

#include "sys/append_log.hpp"
#include "sys/files.hpp"
#include "support/temp_dir.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace vp::sys {
namespace {

namespace fs = std::filesystem;
using test::read_file;
using test::TempDir;
using test::write_file;

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

/// "line-000\n" … for `from` <= n < `to`: 9 bytes each.
std::string lines(int from, int to) {
  std::string out;
  for (int n = from; n < to; ++n) out += fmt::format("line-{:03}\n", n);
  return out;
}

void submit_lines(AppendLog& log, int from, int to) {
  for (int n = from; n < to; ++n) ASSERT_TRUE(log.submit(fmt::format("line-{:03}", n)));
}

TEST(AppendLog, AppendsLinesInOrderWithMode0600) {
  TempDir tmp;
  const auto path = tmp.file("audit.jsonl");
  {
    AppendLog log({.path = path});
    submit_lines(log, 0, 100);
    log.flush();
    auto s = log.stats();
    EXPECT_EQ(s.written, 100u);
    EXPECT_EQ(s.failed + s.dropped + s.rotations, 0u);
    EXPECT_EQ(s.last_problem, "");
  }
  EXPECT_EQ(read_file(path), lines(0, 100));
  EXPECT_EQ(mode_of(path), 0600u);
}

TEST(AppendLog, TheDestructorWritesWhatIsStillQueued) {
  TempDir tmp;
  const auto path = tmp.file("audit.jsonl");
  {
    AppendLog log({.path = path});
    submit_lines(log, 0, 500);
  }
  EXPECT_EQ(read_file(path), lines(0, 500));
}

TEST(AppendLog, AppendsToAnExistingFileOfTheCaller) {
  TempDir tmp;
  const auto path = tmp.file("audit.jsonl");
  write_file(path, lines(0, 2), 0600);
  {
    AppendLog log({.path = path});
    submit_lines(log, 2, 4);
  }
  EXPECT_EQ(read_file(path), lines(0, 4));
}

/// Holds the writer inside its first open(), so that nothing leaves the queue until released.
struct Gate {
  std::mutex mu;
  std::unique_lock<std::mutex> hold{mu};
  AppendLog::Options options(AppendLog::Options o) {
    o.open = [this](const std::string& p, mode_t m) {
      std::lock_guard wait(mu);
      return open_for_append(p, m);
    };
    return o;
  }
};

TEST(AppendLog, AFullQueueDropsAndCountsInsteadOfBlocking) {
  TempDir tmp;
  const auto path = tmp.file("audit.jsonl");
  Gate gate;
  AppendLog log(gate.options({.path = path, .queue_limit = 3}));
  int accepted = 0;
  for (int n = 0; n < 10; ++n) accepted += log.submit(fmt::format("line-{:03}", n)) ? 1 : 0;
  EXPECT_EQ(accepted, 3);
  EXPECT_EQ(log.stats().dropped, 7u);
  gate.hold.unlock();
  log.flush();
  EXPECT_EQ(log.stats().written, 3u);
  EXPECT_EQ(read_file(path), lines(0, 3));
}

TEST(AppendLog, RotatesBySizeKeepingTheNewestFilesInOrder) {
  TempDir tmp;
  const auto path = tmp.file("audit.jsonl");
  {
    // 9-byte lines, 30-byte files: three lines each; 14 lines make five files, of which the
    // oldest two are rotated away with keep = 3.
    AppendLog log({.path = path, .max_bytes = 30, .keep = 3});
    for (int n = 0; n < 14; ++n) {
      ASSERT_TRUE(log.submit(fmt::format("line-{:03}", n)));
      log.flush();  // one line per batch, so rotation happens between batches as well as within
    }
    EXPECT_EQ(log.stats().rotations, 4u);
    EXPECT_EQ(log.stats().written, 14u);
  }
  EXPECT_EQ(read_file(path + ".3"), lines(3, 6));
  EXPECT_EQ(read_file(path + ".2"), lines(6, 9));
  EXPECT_EQ(read_file(path + ".1"), lines(9, 12));
  EXPECT_EQ(read_file(path), lines(12, 14));
  EXPECT_FALSE(fs::exists(path + ".4"));
  for (auto suffix : {"", ".1", ".2", ".3"}) {
    EXPECT_EQ(mode_of(path + suffix), 0600u) << suffix;
    EXPECT_LE(fs::file_size(path + suffix), 30u) << suffix;
  }
}

TEST(AppendLog, RotatesWithinOneBatchToo) {
  TempDir tmp;
  const auto path = tmp.file("audit.jsonl");
  {
    Gate gate;
    AppendLog log(gate.options({.path = path, .max_bytes = 30, .keep = 2}));
    submit_lines(log, 0, 8);
    gate.hold.unlock();
    log.flush();
    EXPECT_EQ(log.stats().rotations, 2u);
  }
  EXPECT_EQ(read_file(path + ".2"), lines(0, 3));
  EXPECT_EQ(read_file(path + ".1"), lines(3, 6));
  EXPECT_EQ(read_file(path), lines(6, 8));
}

TEST(AppendLog, ASymlinkAtThePathIsRefusedCountedAndItsTargetUntouched) {
  TempDir tmp;
  const auto path = tmp.file("audit.jsonl");
  const auto target = tmp.file("precious");
  write_file(target, "keep me\n", 0600);
  fs::create_symlink(target, path);
  AppendLog log({.path = path});
  submit_lines(log, 0, 5);
  log.flush();
  auto s = log.stats();
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.failed, 5u);
  EXPECT_NE(s.last_problem.find(path + " is a symbolic link"), std::string::npos) << s.last_problem;
  EXPECT_EQ(s.last_problem.find("line-"), std::string::npos) << "a line's content never appears in a problem";
  EXPECT_EQ(read_file(target), "keep me\n");
  EXPECT_TRUE(fs::is_symlink(path));
}

TEST(AppendLog, ASymlinkAtARotatedNameIsNeitherFollowedNorReplaced) {
  TempDir tmp;
  const auto path = tmp.file("audit.jsonl");
  const auto target = tmp.file("precious");
  write_file(target, "keep me\n", 0600);
  fs::create_symlink(target, path + ".2");
  {
    AppendLog log({.path = path, .max_bytes = 30, .keep = 3});
    submit_lines(log, 0, 7);
    log.flush();
    auto s = log.stats();
    EXPECT_EQ(s.written, 7u) << "lines are kept in the growing file rather than lost";
    EXPECT_EQ(s.rotations, 0u);
    EXPECT_NE(s.last_problem.find("cannot rotate " + path + ": " + path + ".2 is a symbolic link"), std::string::npos)
        << s.last_problem;
  }
  EXPECT_EQ(read_file(path), lines(0, 7));
  EXPECT_EQ(read_file(target), "keep me\n");
  EXPECT_TRUE(fs::is_symlink(path + ".2"));
}

TEST(AppendLog, AnUnwritableDirectoryCountsFailuresAndALaterBatchTriesAgain) {
  // A path below a regular file fails with ENOTDIR for root too (chmod 0500 does not stop root).
  TempDir tmp;
  const auto blocker = tmp.file("not-a-dir");
  write_file(blocker, "", 0600);
  const auto path = blocker + "/audit.jsonl";
  AppendLog log({.path = path});
  submit_lines(log, 0, 3);
  log.flush();
  auto s = log.stats();
  EXPECT_EQ(s.failed, 3u);
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.last_problem, path + " cannot be opened: Not a directory");

  fs::remove(blocker);
  fs::create_directory(blocker);
  submit_lines(log, 3, 5);
  log.flush();
  EXPECT_EQ(log.stats().written, 2u) << log.stats().last_problem;
  EXPECT_EQ(read_file(path), lines(3, 5));
}

TEST(AppendLog, AReadOnlyDirectoryCountsFailures) {
  TempDir tmp;
  const auto dir = tmp.file("ro");
  fs::create_directory(dir);
  ASSERT_EQ(::chmod(dir.c_str(), 0500), 0);
  if (::access(dir.c_str(), W_OK) == 0) {
    ::chmod(dir.c_str(), 0700);
    GTEST_SKIP() << "running with CAP_DAC_OVERRIDE (root): mode 0500 does not stop writes; "
                    "AnUnwritableDirectoryCountsFailuresAndALaterBatchTriesAgain covers this case";
  }
  AppendLog log({.path = dir + "/audit.jsonl"});
  submit_lines(log, 0, 2);
  log.flush();
  EXPECT_EQ(log.stats().failed, 2u);
  EXPECT_EQ(log.stats().last_problem, dir + "/audit.jsonl cannot be opened: Permission denied");
  ::chmod(dir.c_str(), 0700);
}

TEST(AppendLog, AFullDiskCountsFailuresNamesTheFileAndKeepsGoing) {
  // /dev/full answers every write with ENOSPC; the hook stands in for a file on a full disk.
  TempDir tmp;
  const auto path = tmp.file("audit.jsonl");
  AppendLog::Options o{.path = path};
  o.open = [](const std::string&, mode_t) {
    int fd = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
    if (fd < 0) throw FileError("cannot open /dev/full");
    return fd;
  };
  AppendLog log(o);
  submit_lines(log, 0, 4);
  log.flush();
  submit_lines(log, 4, 6);
  log.flush();
  auto s = log.stats();
  EXPECT_EQ(s.failed, 6u);
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.last_problem, "cannot write " + path + ": No space left on device");
}

TEST(AppendLog, AnotherUsersFileAtThePathIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a file to another uid";
  TempDir tmp;
  const auto path = tmp.file("audit.jsonl");
  write_file(path, "theirs\n", 0600);
  ASSERT_EQ(::chown(path.c_str(), 4242, 4242), 0);
  AppendLog log({.path = path});
  submit_lines(log, 0, 2);
  log.flush();
  EXPECT_EQ(log.stats().failed, 2u);
  EXPECT_NE(log.stats().last_problem.find(path + " belongs to uid 4242"), std::string::npos) << log.stats().last_problem;
  EXPECT_EQ(read_file(path), "theirs\n");
}

TEST(AppendLog, FollowsAFileRotatedByAnotherWriter) {
  TempDir tmp;
  const auto path = tmp.file("audit.jsonl");
  AppendLog log({.path = path});
  submit_lines(log, 0, 2);
  log.flush();
  fs::rename(path, path + ".1");  // as a second proxy sharing the file would
  submit_lines(log, 2, 4);
  log.flush();
  EXPECT_EQ(read_file(path + ".1"), lines(0, 2));
  EXPECT_EQ(read_file(path), lines(2, 4));
}

}  // namespace
}  // namespace vp::sys
