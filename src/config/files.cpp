#include "config/files.hpp"

#include "config/text.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace vp::config {

namespace {

// A config file is a few hundred bytes; anything far larger is a wrong path (a log, an image) and
// reading it whole would only delay the error.
constexpr std::size_t max_config_bytes = 1 << 20;

std::string errno_text(int e) { return std::strerror(e); }

/// Opens a regular file for reading. Directories, FIFOs and devices are refused: they would fail
/// with a confusing parser message or block start-up forever. Returns -1 and sets `problem`.
int open_regular(const std::string& path, std::string& problem) {
  if (path.find('\0') != std::string::npos) {
    problem = "path contains a NUL byte";
    return -1;
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    problem = quote(path) + " cannot be opened: " + errno_text(errno);
    return -1;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    problem = quote(path) + " cannot be read: " + errno_text(errno);
    ::close(fd);
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    problem = quote(path) + (S_ISDIR(st.st_mode) ? " is a directory" : " is not a regular file");
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

std::optional<std::string> read_text_file(const std::string& path, std::string& problem) {
  int fd = open_regular(path, problem);
  if (fd < 0) return std::nullopt;
  // Sized from fstat (plus one byte, to notice a file that grows), not to the limit: zero-filling
  // a MiB per read made the config fuzzer crawl.
  struct stat st{};
  std::size_t want = ::fstat(fd, &st) == 0 && st.st_size > 0 ? static_cast<std::size_t>(st.st_size) : 4096;
  std::string text(std::min(want, max_config_bytes) + 1, '\0');
  std::size_t got = 0;
  while (got <= max_config_bytes) {
    if (got == text.size()) text.resize(std::min(text.size() * 2, max_config_bytes + 1));
    ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      problem = quote(path) + " cannot be read: " + errno_text(errno);
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (got > max_config_bytes) {
    problem = quote(path) + " is larger than 1 MiB; it is probably not the config file";
    return std::nullopt;
  }
  text.resize(got);
  return text;
}

/// Opens and reads one byte, so an unreadable file (EACCES, EISDIR, EIO) fails here, at start, and
/// not at the first TLS handshake. The PEM contents are checked where the TLS context loads them.
bool readable_file(const std::string& path, std::string& problem) {
  int fd = open_regular(path, problem);
  if (fd < 0) return false;
  char byte = 0;
  ssize_t n = 0;
  do n = ::read(fd, &byte, 1);
  while (n < 0 && errno == EINTR);
  int e = errno;
  ::close(fd);
  if (n < 0) {
    problem = quote(path) + " cannot be read: " + errno_text(e);
    return false;
  }
  if (n == 0) {
    problem = quote(path) + " is empty";
    return false;
  }
  return true;
}

}  // namespace vp::config
