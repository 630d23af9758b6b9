#include "config/credentials.hpp"

#include "config/text.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

namespace vp::config {

namespace {

// A Cloudflare Access client id or secret is well under 100 bytes; the cap stops a mistaken path
// (a log, /dev/zero behind a symlink is refused earlier) from being read into memory.
constexpr std::size_t max_secret_bytes = 64 * 1024;

constexpr std::string_view credentials_directory = "CREDENTIALS_DIRECTORY";

using Half = CredentialHalf;

constexpr CredentialNames service_token{
    {"client id", "CF_ACCESS_CLIENT_ID", "CF_ACCESS_CLIENT_ID_FILE", "cf-access-client-id"},
    {"client secret", "CF_ACCESS_CLIENT_SECRET", "CF_ACCESS_CLIENT_SECRET_FILE", "cf-access-client-secret"}};
constexpr CredentialNames identity{
    {"identity's client id", "INFISICAL_MCP_CLIENT_ID", "INFISICAL_MCP_CLIENT_ID_FILE", "infisical-mcp-client-id"},
    {"identity's client secret", "INFISICAL_MCP_CLIENT_SECRET", "INFISICAL_MCP_CLIENT_SECRET_FILE",
     "infisical-mcp-client-secret"}};

constexpr CredentialNames admin{
    {"admin's client id", "INFISICAL_CLIENT_ID", "INFISICAL_CLIENT_ID_FILE", "infisical-client-id"},
    {"admin's client secret", "INFISICAL_CLIENT_SECRET", "INFISICAL_CLIENT_SECRET_FILE", "infisical-client-secret"}};

enum class Outcome { absent, found, failed };

/// What a lookup produced. `value` holds the secret bytes until they move into a Secret.
struct Lookup {
  Outcome outcome = Outcome::absent;
  std::string value;
  std::string kind;   // "env", "file", "credentials-directory"
  std::string where;  // the variable (or credential) name, never the value
  ~Lookup() { core::wipe(value); }
};

std::string quote_path(std::string_view p) { return "'" + escape(p, p.size()) + "'"; }

std::string sources_of(const Half& h) {
  return std::string(h.env) + ", " + std::string(h.file_env) + " or $" + std::string(credentials_directory) +
         "/" + std::string(h.cred_name);
}

/// Reads a secret file straight into `out` with read(2), so no stdio buffer keeps a copy.
/// O_NONBLOCK keeps a FIFO from blocking start-up; fstat then refuses it.
bool read_secret_file(const std::string& path, std::string& out, std::string& problem, int& err) {
  err = 0;
  if (path.find('\0') != std::string::npos) {
    problem = "the path contains a NUL byte";
    return false;
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    err = errno;
    problem = quote_path(path) + " cannot be opened: " + std::strerror(err);
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    problem = quote_path(path) + (S_ISDIR(st.st_mode) ? " is a directory" : " is not a regular file");
    ::close(fd);
    return false;
  }
  core::wipe(out);
  out.resize(max_secret_bytes + 1);
  std::size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = errno;
      problem = quote_path(path) + " cannot be read: " + std::strerror(err);
      ::close(fd);
      core::wipe(out);
      return false;
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (got > max_secret_bytes) {
    problem = quote_path(path) + " is larger than 64 KiB; it does not hold just one value";
    core::wipe(out);
    return false;
  }
  // Shrinking keeps the capacity, which Secret wipes along with the value.
  out.resize(got);
  return true;
}

/// Editors and `echo` end a file with a newline; exactly one is removed. Anything else that would
/// break the header line stays and is refused below.
void strip_one_newline(std::string& v) {
  if (v.size() >= 2 && v[v.size() - 2] == '\r' && v.back() == '\n')
    v.resize(v.size() - 2);
  else if (!v.empty() && v.back() == '\n')
    v.pop_back();
}

/// Returns the problem with a value, or empty. The text never contains the value, only its length.
std::string value_problem(std::string_view v) {
  std::string len = " (value not shown, len=" + std::to_string(v.size()) + ")";
  if (v.empty()) return "is empty";
  // CR/LF would split the injected header (request smuggling); NUL truncates it in C APIs.
  if (v.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
    return "contains a line break or NUL byte" + len;
  // RFC 9110 §5.5: field values carry no other control characters.
  if (std::any_of(v.begin(), v.end(), [](char ch) {
        auto c = static_cast<unsigned char>(ch);
        return (c < 0x20 && c != '\t') || c == 0x7f;
      }))
    return "contains a control character" + len;
  // Parsers trim surrounding whitespace from field values (RFC 9110 §5.5), so the upstream would
  // compare a different value than the one configured.
  auto ws = [](char c) { return c == ' ' || c == '\t'; };
  if (ws(v.front()) || ws(v.back())) return "starts or ends with whitespace" + len;
  return {};
}

void check_value(const Half& h, Lookup& l, std::string_view field, std::string_view from,
                 std::vector<Issue>& issues) {
  std::string problem = value_problem(l.value);
  if (problem.empty()) {
    l.outcome = Outcome::found;
    return;
  }
  l.outcome = Outcome::failed;
  core::wipe(l.value);
  issues.push_back({std::string(field), "the " + std::string(h.what) + std::string(from) + " " + problem,
                    "store the " + std::string(h.what) +
                        " as a single line with nothing else (one trailing newline is fine), e.g. "
                        "printf '%s' \"$VALUE\" > FILE"});
}

Lookup find(const Half& h, const Env& env, std::vector<Issue>& issues, std::vector<std::string>& missing) {
  Lookup l;
  if (auto v = env(h.env)) {
    l.value = std::move(*v);
    core::wipe(*v);
    l.kind = "env";
    l.where = h.env;
    check_value(h, l, h.env, "", issues);
    return l;
  }
  if (auto path = env(h.file_env)) {
    l.kind = "file";
    l.where = h.file_env;
    if (path->empty()) {
      l.outcome = Outcome::failed;
      issues.push_back({std::string(h.file_env), "is set but empty",
                        "set it to the path of the file holding the " + std::string(h.what) +
                            ", or unset it"});
      return l;
    }
    std::string problem;
    int err = 0;
    if (!read_secret_file(*path, l.value, problem, err)) {
      l.outcome = Outcome::failed;
      if (err == ENOENT) missing.push_back(*path);
      issues.push_back({std::string(h.file_env), problem,
                        "point " + std::string(h.file_env) + " at a readable file holding only the " +
                            std::string(h.what) + "; a configured file is never skipped"});
      return l;
    }
    strip_one_newline(l.value);
    check_value(h, l, h.file_env, " in " + quote_path(*path), issues);
    return l;
  }
  if (auto dir = env(credentials_directory); dir && !dir->empty()) {
    std::string path = *dir + "/" + std::string(h.cred_name);
    std::string name = "$" + std::string(credentials_directory) + "/" + std::string(h.cred_name);
    l.kind = "credentials-directory";
    l.where = name;
    std::string problem;
    int err = 0;
    if (!read_secret_file(path, l.value, problem, err)) {
      // systemd only creates the files it was asked to load; one that is not there is not configured.
      if (err == ENOENT || err == ENOTDIR) return Lookup{};
      l.outcome = Outcome::failed;
      issues.push_back({name, problem,
                        "make the credential readable by the service (LoadCredential=" +
                            std::string(h.cred_name) + ":/path) or remove it"});
      return l;
    }
    strip_one_newline(l.value);
    check_value(h, l, name, " in " + quote_path(path), issues);
    return l;
  }
  return l;
}

}  // namespace

const CredentialNames& service_token_names() { return service_token; }
const CredentialNames& identity_names() { return identity; }
const CredentialNames& admin_names() { return admin; }

CredentialLoad load_credentials(const Env& env, const CredentialNames& names) {
  const Half& id_half = names.id;
  const Half& secret_half = names.secret;
  CredentialLoad out;
  Lookup id = find(id_half, env, out.issues, out.missing_files);
  Lookup secret = find(secret_half, env, out.issues, out.missing_files);

  bool id_named = id.outcome != Outcome::absent;
  bool secret_named = secret.outcome != Outcome::absent;
  if (id_named != secret_named) {
    const Half& missing = id_named ? secret_half : id_half;
    const Lookup& present = id_named ? id : secret;
    const Half& other = id_named ? id_half : secret_half;
    out.issues.push_back({std::string(missing.env),
                          "the " + std::string(other.what) + " is set (" + present.where + ") but the " +
                              std::string(missing.what) + " is not",
                          "set " + sources_of(missing) + " as well, or remove the " + std::string(other.what) +
                              " to run without credentials"});
  }
  if (!id_named && !secret_named) {
    out.none_configured = true;
    return out;
  }
  if (!out.issues.empty()) return out;

  core::ServiceToken token;
  token.client_id = core::Secret(std::move(id.value));
  token.client_secret = core::Secret(std::move(secret.value));
  if (id.kind == secret.kind)
    token.source = id.kind + " (" + id.where + ", " + secret.where + ")";
  else
    token.source = id.kind + " (" + id.where + "), " + secret.kind + " (" + secret.where + ")";
  out.token = std::move(token);
  return out;
}

const std::vector<std::string>& credential_env_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto* pair : {&service_token, &identity})
      for (const Half* h : {&pair->id, &pair->secret}) {
        out.emplace_back(h->env);
        out.emplace_back(h->file_env);
      }
    return out;
  }();
  return names;
}

Env credential_file_env(const Env& env) {
  std::map<std::string, std::string> copy;
  for (std::string_view name : {service_token.id.file_env, service_token.secret.file_env, identity.id.file_env,
                                identity.secret.file_env, credentials_directory})
    if (auto v = env(name)) copy.emplace(std::string(name), std::move(*v));
  return map_env(std::move(copy));
}

std::vector<std::string> credential_watch_dirs(const Env& env, const CredentialNames& names) {
  const Half& id_half = names.id;
  const Half& secret_half = names.secret;
  std::vector<std::string> dirs;
  auto add = [&](std::string dir) {
    if (dir.empty()) dir = ".";
    if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(std::move(dir));
  };
  for (const Half* h : {&id_half, &secret_half}) {
    if (env(h->env)) continue;  // a value in the environment cannot change while the process runs
    if (auto path = env(h->file_env); path && !path->empty()) {
      auto slash = path->rfind('/');
      add(slash == std::string::npos ? std::string(".") : slash == 0 ? std::string("/") : path->substr(0, slash));
    } else if (auto dir = env(credentials_directory); dir && !dir->empty()) {
      add(*dir);
    }
  }
  return dirs;
}

}  // namespace vp::config
