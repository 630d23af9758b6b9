#pragma once
// Files in places another local user can reach (the state directory, /tmp, a repository): opened
// without following a symlink, created so that they cannot exist already, and checked for owner
// and mode through the descriptor (fstat), never through a second look-up of the path.

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace vp::sys {

/// What a file or directory must look like before it is trusted.
struct Expect {
  /// Who must own it.
  enum class Owner {
    caller,  ///< the effective uid of this process
    caller_or_root,  ///< this process's effective uid, or root (a file an administrator installed)
    anyone,  ///< not checked (e.g. /proc files)
  };
  Owner owner = Owner::caller;
  /// Permission bits that must be clear: 022 = not writable by group or others, 077 = no access
  /// for group or others.
  mode_t forbidden_bits = S_IWGRP | S_IWOTH;
  /// Reads stop with an error beyond this size.
  std::size_t max_bytes = 1024 * 1024;
};

/// Owned by the caller, with none of `forbidden_bits` set.
Expect owned_by_caller(mode_t forbidden_bits);
/// No owner or mode check (still no symlink, still a regular file).
Expect any_owner();

/// The kind of object a check expects.
enum class Kind { regular_file, directory };

/// Pure: what is wrong with an object whose lstat/fstat result is `st`, as a clause that starts
/// with `path` ("/tmp/x belongs to uid 1001, not to you (uid 1000)"); "" when nothing is.
/// `caller` is the uid it must belong to under Expect::Owner::caller.
std::string stat_problem(const struct stat& st, const std::string& path, Kind kind, const Expect& expect,
                         uid_t caller);

/// The outcome of read_file().
struct ReadResult {
  std::optional<std::string> content;  ///< set on success
  bool missing = false;                ///< the file does not exist (problem is set too)
  bool refused = false;  ///< it exists but is not what `Expect` asks for (type, owner, mode, size)
  std::string problem;                 ///< names the file and says what is wrong with it
};

/// Reads a whole regular file: open(O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK), then fstat checks the
/// type, owner and mode of what was actually opened. A symlink, a FIFO or a directory is refused.
ReadResult read_file(const std::string& path, const Expect& expect);

/// The outcome of check_dir().
struct DirCheck {
  bool missing = false;  ///< nothing exists at the path (problem stays empty)
  std::string problem;   ///< names the directory and says what is wrong; "" when it is fine
};

/// lstat(2) checks of a directory: not a symlink, a directory, owner and forbidden mode bits.
DirCheck check_dir(const std::string& path, const Expect& expect);

/// A file operation that failed; what() names the file and says what is wrong.
struct FileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The outcome of create_exclusive().
struct Created {
  int fd = -1;          ///< open for writing on success; the caller closes it
  int err = 0;          ///< errno of the failure (EEXIST: something is at the path already)
  std::string problem;  ///< names the file and says what is wrong; "" on success
};

/// Creates `path` with open(O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC), so that neither
/// a file nor a symlink planted there in advance is used, sets `mode` with fchmod (the umask does
/// not apply) and verifies owner and mode with fstat.
Created create_exclusive(const std::string& path, mode_t mode);

/// Replaces `path` with a file holding `content`: a new file is created exclusively in the same
/// directory (create_exclusive, mode `mode`), written, fsync'd and renamed over `path`, so a
/// reader never sees half a file and no earlier inode (which someone may hold open) receives the
/// content. An existing `path` must be a regular file owned by the caller: a symlink or another
/// user's file is refused, never followed or replaced. Throws FileError.
void write_file_atomic(const std::string& path, std::string_view content, mode_t mode);

/// Opens `path` for appending, as a log: open(O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW |
/// O_CLOEXEC), created with `mode` when missing (fchmod, so the umask does not apply). What was
/// opened must be a regular file of the caller that group and others cannot write: a symlink or
/// another user's file is refused. Returns the descriptor; throws FileError naming the file.
int open_for_append(const std::string& path, mode_t mode);

/// strerror(3) as a string.
std::string errno_text(int err);

}  // namespace vp::sys
