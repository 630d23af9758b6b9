#pragma once
// A line log written from the request path without ever blocking it on I/O: submit() queues a line
// under a short mutex hold, and one writer thread appends the queue in batches, rotating by size.
// Nothing it meets on disk (a full disk, a read-only or missing directory, a symlink or another
// user's file at the path) stops the caller: the lines are counted as failed and the next batch
// tries again. Used for the audit trail (docs/guardrails.md).

#include <sys/types.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vp::sys {

class AppendLog {
 public:
  struct Options {
    std::string path;
    mode_t mode = 0600;
    /// Rotate before a line would take the file past this size (a first line is always written).
    std::uint64_t max_bytes = 10u << 20;
    /// Rotated files kept: path.1 (newest) … path.<keep>; 0 = the file is truncated by rotation.
    unsigned keep = 3;
    /// Lines queued at most; submit() drops beyond it.
    std::size_t queue_limit = 4096;
    /// How the file is opened for appending (default sys::open_for_append): tests hand in
    /// /dev/full to see a full disk. Returns a descriptor or throws sys::FileError.
    std::function<int(const std::string& path, mode_t mode)> open;
  };
  /// What happened to the submitted lines so far.
  struct Stats {
    std::uint64_t written = 0;   ///< lines appended
    std::uint64_t dropped = 0;   ///< lines refused by submit() (queue full, or closing)
    std::uint64_t failed = 0;    ///< lines that could not be written
    std::uint64_t rotations = 0;
    std::string last_problem;    ///< names the file and what is wrong; never a line's content
  };

  /// Starts the writer thread; never throws for an unwritable path.
  explicit AppendLog(Options options);
  /// Writes what is queued (waiting at most 2 s; lines still queued then count as dropped) and
  /// joins the writer.
  ~AppendLog();
  AppendLog(const AppendLog&) = delete;
  AppendLog& operator=(const AppendLog&) = delete;

  /// Queues `line` plus '\n'; false (and dropped + 1) when the queue is full.
  bool submit(std::string line);
  Stats stats() const;
  /// Blocks until every line submitted so far is written or failed (tests, shutdown).
  void flush();

 private:
  struct Outcome;
  void run();
  void write_batch(const std::vector<std::string>& batch);
  bool ensure_open(Outcome& o);
  bool append(const std::string& data, std::uint64_t lines, Outcome& o);
  bool rotate(Outcome& o);

  Options options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;      ///< the writer: lines queued, or stopping
  std::condition_variable idle_;      ///< flush(): a batch is done
  std::vector<std::string> queue_;
  bool stopping_ = false;
  bool abandon_ = false;              ///< the destructor's wait ran out
  bool busy_ = false;                 ///< the writer holds a batch
  bool finished_ = false;             ///< the writer has left its loop
  Stats stats_;
  // Only the writer thread touches these two.
  int fd_ = -1;
  std::uint64_t size_ = 0;            ///< of the open file
  std::thread writer_;
};

}  // namespace vp::sys
