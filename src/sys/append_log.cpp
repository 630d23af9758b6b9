#include "sys/append_log.hpp"

#include "sys/files.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

namespace vp::sys {

/// What one batch did, merged into Stats under the lock once the batch is done.
struct AppendLog::Outcome {
  std::uint64_t written = 0, failed = 0, rotations = 0;
  std::string problem;
};

namespace {

std::string rotated_name(const std::string& path, unsigned n) { return fmt::format("{}.{}", path, n); }

/// What forbids moving or removing a rotated file: "" when nothing is there, or it is our regular
/// file. A symlink or another user's file at a rotated name is never renamed over or removed.
std::string rotated_problem(const std::string& name) {
  struct stat st {};
  if (::lstat(name.c_str(), &st) != 0)
    return errno == ENOENT ? std::string() : fmt::format("{} cannot be inspected: {}", name, errno_text(errno));
  return stat_problem(st, name, Kind::regular_file, owned_by_caller(0), ::geteuid());
}

bool exists(const std::string& name) {
  struct stat st {};
  return ::lstat(name.c_str(), &st) == 0;
}

}  // namespace

AppendLog::AppendLog(Options options) : options_(std::move(options)) {
  if (!options_.open) options_.open = open_for_append;
  writer_ = std::thread([this] { run(); });
}

AppendLog::~AppendLog() {
  std::unique_lock lock(mu_);
  stopping_ = true;
  wake_.notify_all();
  // A writer stuck on a slow disk must not hold the proxy's exit for long.
  if (!idle_.wait_for(lock, std::chrono::seconds(2), [this] { return finished_; })) abandon_ = true;
  lock.unlock();
  writer_.join();
}

bool AppendLog::submit(std::string line) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= options_.queue_limit) {
      ++stats_.dropped;
      return false;
    }
    line += '\n';
    queue_.push_back(std::move(line));
  }
  wake_.notify_one();
  return true;
}

AppendLog::Stats AppendLog::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void AppendLog::flush() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return finished_ || (queue_.empty() && !busy_); });
}

void AppendLog::run() {
  Outcome first;
  ensure_open(first);  // so that a bad path shows in stats() before the first line
  std::vector<std::string> batch;
  std::unique_lock lock(mu_);
  if (!first.problem.empty()) stats_.last_problem = first.problem;
  for (;;) {
    busy_ = false;
    idle_.notify_all();
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty() || abandon_) break;
    batch.swap(queue_);
    busy_ = true;
    lock.unlock();
    write_batch(batch);
    batch.clear();
    lock.lock();
  }
  stats_.dropped += queue_.size();
  queue_.clear();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  finished_ = true;
  busy_ = false;
  idle_.notify_all();
}

void AppendLog::write_batch(const std::vector<std::string>& batch) {
  Outcome o;
  if (!ensure_open(o)) {
    o.failed = batch.size();
  } else {
    std::string chunk;
    std::uint64_t lines = 0;
    bool may_rotate = true;  // a refused rotation is retried with the next batch, not every line
    for (const auto& line : batch) {
      if (may_rotate && size_ + chunk.size() > 0 && size_ + chunk.size() + line.size() > options_.max_bytes) {
        append(chunk, lines, o);
        chunk.clear();
        lines = 0;
        may_rotate = rotate(o);
      }
      chunk += line;
      ++lines;
    }
    append(chunk, lines, o);
  }
  std::lock_guard lock(mu_);
  stats_.written += o.written;
  stats_.failed += o.failed;
  stats_.rotations += o.rotations;
  if (!o.problem.empty()) stats_.last_problem = std::move(o.problem);
}

bool AppendLog::ensure_open(Outcome& o) {
  if (fd_ >= 0) {
    // Another writer of the same file (a second proxy, logrotate) may have rotated it: follow the
    // path to the file that is there now rather than append to a rotated one.
    struct stat at_path {}, open_file {};
    if (::lstat(options_.path.c_str(), &at_path) != 0 || ::fstat(fd_, &open_file) != 0 ||
        at_path.st_ino != open_file.st_ino || at_path.st_dev != open_file.st_dev) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  if (fd_ >= 0) return true;
  try {
    fd_ = options_.open(options_.path, options_.mode);
  } catch (const std::exception& e) {
    o.problem = e.what();
    return false;
  }
  struct stat st {};
  size_ = ::fstat(fd_, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  return true;
}

bool AppendLog::append(const std::string& data, std::uint64_t lines, Outcome& o) {
  if (lines == 0) return true;
  std::size_t off = 0;
  while (fd_ >= 0 && off < data.size()) {
    ssize_t n = ::write(fd_, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // A partial line may be left behind; readers count it as a line they could not read.
      o.problem = fmt::format("cannot write {}: {}", options_.path, errno_text(n < 0 ? errno : EIO));
      ::close(fd_);
      fd_ = -1;
      break;
    }
    off += static_cast<std::size_t>(n);
    size_ += static_cast<std::uint64_t>(n);
  }
  if (fd_ < 0) {
    o.failed += lines;
    return false;
  }
  o.written += lines;
  return true;
}

bool AppendLog::rotate(Outcome& o) {
  if (fd_ < 0) return false;
  const std::string& path = options_.path;
  for (unsigned n = 1; n <= options_.keep; ++n) {
    if (auto problem = rotated_problem(rotated_name(path, n)); !problem.empty()) {
      o.problem = fmt::format("cannot rotate {}: {}; it keeps growing until that is removed", path, problem);
      return false;
    }
  }
  const std::string oldest = options_.keep > 0 ? rotated_name(path, options_.keep) : path;
  if (exists(oldest) && ::unlink(oldest.c_str()) != 0) {
    o.problem = fmt::format("cannot rotate {}: removing {}: {}", path, oldest, errno_text(errno));
    return false;
  }
  for (unsigned n = options_.keep; n >= 2; --n) {
    const auto from = rotated_name(path, n - 1);
    if (exists(from) && ::rename(from.c_str(), rotated_name(path, n).c_str()) != 0) {
      o.problem = fmt::format("cannot rotate {}: renaming {}: {}", path, from, errno_text(errno));
      return false;
    }
  }
  if (options_.keep > 0 && ::rename(path.c_str(), rotated_name(path, 1).c_str()) != 0) {
    o.problem = fmt::format("cannot rotate {}: {}", path, errno_text(errno));
    return false;
  }
  ::close(fd_);
  fd_ = -1;
  ++o.rotations;
  Created c = create_exclusive(path, options_.mode);
  if (c.fd >= 0) {
    // O_APPEND, so that another proxy appending to the same file never overwrites these lines.
    ::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) | O_APPEND);
    fd_ = c.fd;
    size_ = 0;
    return true;
  }
  // EEXIST: another writer created it first; it is opened (and checked) like any existing file.
  if (c.err != EEXIST) o.problem = c.problem;
  return ensure_open(o);
}

}  // namespace vp::sys
