#pragma once
// Scratch directories and small file helpers for tests. Every test gets its own mkdtemp directory so
// parallel ctest runs never share files.

#include <string>
#include <string_view>

namespace vp::test {

/// A fresh directory from mkdtemp(3) under $TMPDIR (or /tmp), removed with its contents on destruction
/// unless VP_TEST_KEEP_TMP is set in the environment (for post-mortem debugging).
class TempDir {
 public:
  /// Creates `<tmp>/<prefix>XXXXXX` with mode 0700. Throws std::runtime_error on failure.
  explicit TempDir(std::string_view prefix = "vp-test-");
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  ~TempDir();

  /// Absolute path of the directory.
  const std::string& path() const noexcept { return path_; }
  /// `path() + "/" + name`.
  std::string file(std::string_view name) const;

 private:
  std::string path_;
};

/// Writes `content` to `path` (truncating) with the given mode. Throws on failure.
void write_file(const std::string& path, std::string_view content, unsigned mode = 0600);
/// Reads a whole file; empty string if it cannot be opened.
std::string read_file(const std::string& path);

}  // namespace vp::test
