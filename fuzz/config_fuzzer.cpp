// Config text → vp::config::load. The input is a TOML file, optionally followed by a line `#ENV`
// and `NAME=value` lines that become the environment. load() must never crash, must give either a
// config or issues (never both, never neither), its rendered issues must contain no terminal
// control bytes, and a value under a secret-looking key must never be echoed back.

#include "config/config.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <toml++/toml.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace {

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "\nINVARIANT VIOLATED: %s\n", what);
  std::string shown;
  for (unsigned char c : detail.substr(0, 4000)) {
    if ((c >= 0x20 && c < 0x7f) || c == '\n') {
      shown += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      shown += buf;
    }
  }
  std::fprintf(stderr, "%s\n", shown.c_str());
  std::abort();
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Mirrors config.cpp's notion of a credential-looking key (its own list is private).
bool looks_secret(std::string_view key) {
  auto k = lower(key);
  for (std::string_view m : {"secret", "password", "passwd", "token", "client_id", "private_key"})
    if (k.find(m) != std::string::npos) return true;
  return false;
}

// A value shaped like a credential: long, alphanumeric, letters and at least three digits. Values
// of that shape cannot be substrings of the loader's fixed messages by accident.
bool token_shaped(std::string_view v) {
  if (v.size() < 12) return false;
  int digits = 0, letters = 0;
  for (char c : v) {
    if (c >= '0' && c <= '9')
      ++digits;
    else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
      ++letters;
    else
      return false;
  }
  return digits >= 3 && letters >= 3;
}

struct Strings {
  std::vector<std::string> secret;  // string values at or under a secret-looking key
  std::vector<std::string> other;   // every other key and string value
};

void collect(const toml::node& node, bool under_secret, Strings& out) {
  if (auto* t = node.as_table()) {
    for (auto&& [k, v] : *t) {
      bool s = under_secret || looks_secret(k.str());
      if (!s) out.other.emplace_back(k.str());
      collect(v, s, out);
    }
  } else if (auto* a = node.as_array()) {
    for (auto const& v : *a) collect(v, under_secret, out);
  } else if (auto* str = node.as_string()) {
    (under_secret ? out.secret : out.other).push_back(str->get());
  }
}

// The file is given to load() by path, as in production; a memfd keeps it off the disk.
struct MemFile {
  int fd = -1;
  std::string path;
  explicit MemFile(std::string_view text) {
    fd = ::memfd_create("vp-fuzz-config", MFD_CLOEXEC);
    if (fd < 0) std::abort();
    std::size_t off = 0;
    while (off < text.size()) {
      auto n = ::write(fd, text.data() + off, text.size() - off);
      if (n <= 0) std::abort();
      off += static_cast<std::size_t>(n);
    }
    path = "/proc/self/fd/" + std::to_string(fd);
  }
  ~MemFile() { ::close(fd); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view toml_text = input;
  std::map<std::string, std::string> env;
  if (auto marker = input.find("\n#ENV\n"); marker != std::string_view::npos) {
    toml_text = input.substr(0, marker);
    std::string_view rest = input.substr(marker + 6);
    while (!rest.empty()) {
      auto nl = rest.find('\n');
      auto line = rest.substr(0, nl);
      if (auto eq = line.find('='); eq != std::string_view::npos && eq > 0)
        env[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
      if (nl == std::string_view::npos) break;
      rest.remove_prefix(nl + 1);
    }
  }

  MemFile file(toml_text);
  vp::config::Flags flags;
  flags.config_file = file.path;
  auto result = vp::config::load(flags, vp::config::map_env(env));

  if (result.config.has_value() == !result.issues.empty())
    fail("load() must give either a config or issues", vp::config::format_issues(result.issues));

  const std::string text = vp::config::format_issues(result.issues);
  for (unsigned char c : text)
    if ((c < 0x20 && c != '\n') || c == 0x7f) fail("an issue contains a terminal control byte", text);

  // Secrets in the file are refused without their value being shown.
  try {
    auto root = toml::parse(toml_text);
    Strings s;
    collect(root, false, s);
    for (auto const& secret : s.secret) {
      if (!token_shaped(secret)) continue;
      bool elsewhere = false;
      for (auto const& o : s.other) elsewhere = elsewhere || o.find(secret) != std::string::npos;
      for (auto const& [k, v] : env)
        elsewhere = elsewhere || k.find(secret) != std::string::npos || v.find(secret) != std::string::npos;
      if (!elsewhere && text.find(secret) != std::string::npos)
        fail("a value under a secret-looking key was echoed in an issue", text);
    }
  } catch (const toml::parse_error&) {
  }
  return 0;
}
