#include "sys/files.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

namespace vp::sys {

namespace {

/// Closes a descriptor at scope exit.
struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
};

std::string mode_problem(const std::string& path, mode_t bad, mode_t mode) {
  const char* what = (bad & (S_IWGRP | S_IWOTH)) != 0   ? "writable by its group or by others"
                     : (bad & (S_IRGRP | S_IROTH)) != 0 ? "readable by its group or by others"
                                                        : "open to its group or to others";
  return fmt::format("{} is {} (mode {:04o})", path, what, mode & 07777);
}

bool write_all(int fd, std::string_view text) {
  std::size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

/// `.<name>.<8 hex digits>` next to `path`.
std::string temp_name(const std::filesystem::path& path) {
  static thread_local std::mt19937 gen{std::random_device{}()};
  return (path.parent_path() / fmt::format(".{}.{:08x}", path.filename().string(), gen())).string();
}

/// Refuses an existing `path` that is not a regular file of the caller (write_file_atomic's rule).
void check_replaceable(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    throw FileError(fmt::format("cannot inspect {}: {}", path, errno_text(errno)));
  }
  auto problem = stat_problem(st, path, Kind::regular_file, owned_by_caller(0), ::geteuid());
  if (!problem.empty())
    throw FileError(fmt::format("{}; vault-proxy neither writes through nor replaces what it did not create: "
                                "remove it, or choose another path",
                                problem));
}

}  // namespace

Expect owned_by_caller(mode_t forbidden_bits) {
  Expect e;
  e.forbidden_bits = forbidden_bits;
  return e;
}

Expect any_owner() {
  Expect e;
  e.owner = Expect::Owner::anyone;
  e.forbidden_bits = 0;
  return e;
}

std::string errno_text(int err) { return std::strerror(err); }

std::string stat_problem(const struct stat& st, const std::string& path, Kind kind, const Expect& expect,
                         uid_t caller) {
  if (S_ISLNK(st.st_mode)) return path + " is a symbolic link";
  if (kind == Kind::directory && !S_ISDIR(st.st_mode)) return path + " is not a directory";
  if (kind == Kind::regular_file && !S_ISREG(st.st_mode))
    return path + (S_ISDIR(st.st_mode) ? " is a directory" : " is not a regular file");
  if (expect.owner == Expect::Owner::caller && st.st_uid != caller)
    return fmt::format("{} belongs to uid {}, not to you (uid {})", path, st.st_uid, caller);
  if (expect.owner == Expect::Owner::caller_or_root && st.st_uid != caller && st.st_uid != 0)
    return fmt::format("{} belongs to uid {}, neither to you (uid {}) nor to root", path, st.st_uid, caller);
  if (mode_t bad = st.st_mode & expect.forbidden_bits & 07777; bad != 0) return mode_problem(path, bad, st.st_mode);
  return {};
}

ReadResult read_file(const std::string& path, const Expect& expect) {
  ReadResult r;
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    struct stat st {};
    r.missing = err == ENOENT;
    r.refused = err == ELOOP && ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
    if (r.refused)
      r.problem = path + " is a symbolic link";
    else
      r.problem = fmt::format("{} cannot be opened: {}", path, errno_text(err));
    return r;
  }
  FdGuard guard{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    r.problem = fmt::format("{} cannot be inspected: {}", path, errno_text(errno));
    return r;
  }
  r.problem = stat_problem(st, path, Kind::regular_file, expect, ::geteuid());
  r.refused = !r.problem.empty();
  if (r.refused) return r;
  std::string text;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      r.problem = fmt::format("{} cannot be read: {}", path, errno_text(errno));
      return r;
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > expect.max_bytes) {
      r.refused = true;
      r.problem = fmt::format("{} is larger than {} bytes", path, expect.max_bytes);
      return r;
    }
  }
  r.content = std::move(text);
  return r;
}

DirCheck check_dir(const std::string& path, const Expect& expect) {
  DirCheck c;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    c.missing = errno == ENOENT;
    if (!c.missing) c.problem = fmt::format("{} cannot be inspected: {}", path, errno_text(errno));
    return c;
  }
  c.problem = stat_problem(st, path, Kind::directory, expect, ::geteuid());
  return c;
}

Created create_exclusive(const std::string& path, mode_t mode) {
  Created c;
  // Created no wider than 0600 and widened by fchmod, so it is never more open than asked.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0600);
  if (fd < 0) {
    c.err = errno;
    c.problem = c.err == EEXIST ? fmt::format("{} exists already", path)
                                : fmt::format("cannot create {}: {}", path, errno_text(c.err));
    return c;
  }
  struct stat st {};
  if (::fchmod(fd, mode) != 0 || ::fstat(fd, &st) != 0) {
    c.err = errno;
    c.problem = fmt::format("cannot set mode {:04o} on {}: {}", mode, path, errno_text(c.err));
  } else if (st.st_uid != ::geteuid() || (st.st_mode & 07777) != mode) {
    c.err = EPERM;
    c.problem = fmt::format("{} was created with owner uid {} and mode {:04o}, not uid {} and mode {:04o}", path,
                            st.st_uid, st.st_mode & 07777, ::geteuid(), mode);
  }
  if (!c.problem.empty()) {
    ::close(fd);
    ::unlink(path.c_str());
    return c;
  }
  c.fd = fd;
  return c;
}

void write_file_atomic(const std::string& path, std::string_view content, mode_t mode) {
  check_replaceable(path);
  Created tmp;
  std::string tmp_path;
  // A name taken by someone else (EEXIST) is skipped, never opened.
  for (int attempt = 0; attempt < 64 && tmp.fd < 0; ++attempt) {
    tmp_path = temp_name(std::filesystem::path(path));
    tmp = create_exclusive(tmp_path, mode);
    if (tmp.fd < 0 && tmp.err != EEXIST) throw FileError(fmt::format("cannot write {}: {}", path, tmp.problem));
  }
  if (tmp.fd < 0) throw FileError(fmt::format("cannot write {}: no free temporary name next to it", path));
  bool ok = write_all(tmp.fd, content) && ::fsync(tmp.fd) == 0;
  int err = errno;
  if (::close(tmp.fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (ok && ::rename(tmp_path.c_str(), path.c_str()) != 0) {
    err = errno;
    ::unlink(tmp_path.c_str());
    throw FileError(fmt::format(
        "cannot replace {}: {}{}", path, errno_text(err),
        err == EPERM || err == EACCES
            ? " (in a directory with the sticky bit, such as /tmp, only its owner can replace a file)"
            : ""));
  }
  if (!ok) {
    ::unlink(tmp_path.c_str());
    throw FileError(fmt::format("cannot write {}: {}", path, errno_text(err)));
  }
}

int open_for_append(const std::string& path, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);
  if (fd < 0) {
    struct stat st {};
    const int err = errno;
    if (err == ELOOP && ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
      throw FileError(path + " is a symbolic link; vault-proxy does not write through it: remove it, or choose another path");
    throw FileError(fmt::format("{} cannot be opened: {}", path, errno_text(err)));
  }
  struct stat st {};
  std::string problem = ::fstat(fd, &st) != 0 ? path + " cannot be inspected: " + errno_text(errno)
                                               : stat_problem(st, path, Kind::regular_file,
                                                              owned_by_caller(S_IWGRP | S_IWOTH), ::geteuid());
  if (problem.empty() && st.st_size == 0 && (st.st_mode & 07777) != mode && ::fchmod(fd, mode) != 0)
    problem = fmt::format("{}: cannot set mode {:o}: {}", path, mode, errno_text(errno));
  if (!problem.empty()) {
    ::close(fd);
    throw FileError(problem + "; vault-proxy does not append to a file it cannot trust: remove it, or choose another path");
  }
  return fd;
}

}  // namespace vp::sys
