#include "cli/runtime_state.hpp"

#include "core/authority.hpp"
#include "net/asio.hpp"
#include "sys/files.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <vault_proxy/version.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace vp::cli {

namespace fs = std::filesystem;

namespace {

using sys::errno_text;

/// State files: this user's, not writable by group or others (serve writes them 0600).
const sys::Expect state_file_rules = sys::owned_by_caller(S_IWGRP | S_IWOTH);

/// "PATH is …" → "is …", to follow "the state file PATH: it".
std::string clause(const std::string& problem, const std::string& path) {
  return problem.starts_with(path + " ") ? problem.substr(path.size() + 1) : problem;
}

std::string utc_now() {
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", fmt::gmtime(std::time(nullptr)));
}

/// `serve-<digits>.json` → the port.
std::optional<std::uint16_t> port_of_state_name(std::string_view name) {
  constexpr std::string_view prefix = "serve-", suffix = ".json";
  if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) || !name.ends_with(suffix))
    return std::nullopt;
  return parse_port(name.substr(prefix.size(), name.size() - prefix.size() - suffix.size()));
}

}  // namespace

nlohmann::json to_json(const RuntimeState& s) {
  return {{"pid", s.pid},           {"port", s.port},       {"listen", s.listen},
          {"upstream", s.upstream}, {"started_at", s.started_at}, {"version", s.version},
          {"proc_start_ticks", s.proc_start_ticks},
          {"capability_file", s.capability_file.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.capability_file)}};
}

std::optional<RuntimeState> state_from_json(const nlohmann::json& j, std::string& problem) {
  if (!j.is_object()) {
    problem = "not a JSON object";
    return std::nullopt;
  }
  RuntimeState s;
  auto pid = j.find("pid");
  if (pid == j.end() || !pid->is_number_integer() || pid->get<long long>() <= 1 ||
      pid->get<long long>() > 0x3fffffff) {
    problem = "field 'pid' is missing or not a process id";
    return std::nullopt;
  }
  s.pid = pid->get<int>();
  auto port = j.find("port");
  if (port == j.end() || !port->is_number_unsigned() || port->get<unsigned long long>() == 0 ||
      port->get<unsigned long long>() > 65535) {
    problem = "field 'port' is missing or not a port number";
    return std::nullopt;
  }
  s.port = static_cast<std::uint16_t>(port->get<unsigned>());
  auto ticks = j.find("proc_start_ticks");
  if (ticks == j.end() || !ticks->is_number_unsigned()) {
    problem = "field 'proc_start_ticks' is missing, so the pid cannot be verified";
    return std::nullopt;
  }
  s.proc_start_ticks = ticks->get<std::uint64_t>();
  auto str = [&](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  s.listen = str("listen");
  s.upstream = str("upstream");
  s.started_at = str("started_at");
  s.version = str("version");
  s.capability_file = str("capability_file");
  if (s.listen.empty()) s.listen = "127.0.0.1";
  return s;
}

std::string state_dir(const config::Env& env) {
  if (auto v = env("VAULT_PROXY_STATE_DIR"); v && !v->empty()) return *v;
  if (auto v = env("XDG_RUNTIME_DIR"); v && !v->empty()) return (fs::path(*v) / "vault-proxy").string();
  return fmt::format("/tmp/vault-proxy-{}", ::geteuid());
}

void ensure_state_dir(const std::string& dir) {
  auto check = sys::check_dir(dir, sys::owned_by_caller(0));
  if (check.missing) {
    std::error_code ec;
    auto parent = fs::path(dir).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      throw std::runtime_error(fmt::format(
          "cannot create the state directory {}: {}; set VAULT_PROXY_STATE_DIR to a writable directory",
          dir, errno_text(errno)));
    check = sys::check_dir(dir, sys::owned_by_caller(0));
  }
  if (!check.problem.empty())
    throw std::runtime_error(fmt::format(
        "the state directory {} {}: another user could read or forge the proxy's state there. Remove it (or set "
        "VAULT_PROXY_STATE_DIR to a directory you own)",
        dir, clause(check.problem, dir)));
  struct stat st {};
  if (::lstat(dir.c_str(), &st) == 0 && (st.st_mode & 0777) != 0700 && ::chmod(dir.c_str(), 0700) != 0)
    throw std::runtime_error(fmt::format("cannot set mode 0700 on the state directory {}: {}", dir,
                                         errno_text(errno)));
}

std::string state_dir_problem(const std::string& dir) {
  auto check = sys::check_dir(dir, sys::owned_by_caller(S_IWGRP | S_IWOTH));
  if (check.missing || check.problem.empty()) return {};
  return fmt::format("refusing to read the state directory {}: it {}, so another user could have planted the "
                     "proxy state in it. Nothing in it was read. Remove it (as its owner or root), or set "
                     "VAULT_PROXY_STATE_DIR to a directory you own",
                     dir, clause(check.problem, dir));
}

std::string state_file_path(const std::string& dir, std::uint16_t port) {
  return (fs::path(dir) / fmt::format("serve-{}.json", port)).string();
}

std::string write_state(const std::string& dir, const RuntimeState& state) {
  ensure_state_dir(dir);
  const std::string path = state_file_path(dir, state.port);
  sys::write_file_atomic(path, to_json(state).dump(2) + "\n", 0600);
  return path;
}

std::optional<StateFile> read_state_file(const std::string& path) {
  auto read = sys::read_file(path, state_file_rules);
  if (read.missing) return std::nullopt;
  if (!read.content) return StateFile{path, std::nullopt, clause(read.problem, path)};
  StateFile f{path, std::nullopt, {}};
  auto j = nlohmann::json::parse(*read.content, nullptr, false);
  if (j.is_discarded()) {
    f.problem = "is not valid JSON";
    return f;
  }
  f.state = state_from_json(j, f.problem);
  return f;
}

std::vector<StateFile> list_state_files(const std::string& dir, std::optional<std::uint16_t> port,
                                        std::string& dir_problem) {
  dir_problem = state_dir_problem(dir);
  if (!dir_problem.empty()) return {};
  std::vector<std::pair<std::uint16_t, std::string>> found;
  std::error_code ec;
  if (port) {
    std::string p = state_file_path(dir, *port);
    if (fs::exists(fs::symlink_status(p, ec))) found.emplace_back(*port, p);
  } else {
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (auto p = port_of_state_name(it->path().filename().string()))
        found.emplace_back(*p, it->path().string());
    }
  }
  std::sort(found.begin(), found.end());
  std::vector<StateFile> out;
  for (auto& [p, path] : found)
    if (auto f = read_state_file(path)) out.push_back(std::move(*f));
  return out;
}

bool remove_state_file(const std::string& path, int pid) {
  auto f = read_state_file(path);
  if (!f) return true;
  if (!f->state || f->state->pid != pid) return false;
  std::error_code ec;
  fs::remove(path, ec);
  return !fs::exists(path);
}

std::optional<ProcInfo> parse_proc_stat(std::string_view text) {
  // "pid (comm) S ppid …": comm may contain ')' and spaces, so split after the last ')'.
  auto close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::istringstream rest{std::string(text.substr(close + 1))};
  std::vector<std::string> fields;
  for (std::string f; rest >> f;) fields.push_back(std::move(f));
  // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
  if (fields.size() < 20 || fields[0].empty()) return std::nullopt;
  ProcInfo info;
  info.state = fields[0][0];
  auto& st = fields[19];
  if (std::from_chars(st.data(), st.data() + st.size(), info.start_ticks).ec != std::errc{}) return std::nullopt;
  return info;
}

bool parse_proc_status_uids(std::string_view text, ProcInfo& info) {
  // "Uid:\t<real>\t<effective>\t<saved>\t<filesystem>" (proc(5)).
  std::size_t pos = text.starts_with("Uid:") ? 0 : text.find("\nUid:");
  if (pos == std::string_view::npos) return false;
  std::istringstream line{std::string(text.substr(pos + (pos == 0 ? 4 : 5), 64))};
  unsigned long real = 0, effective = 0;
  if (!(line >> real >> effective)) return false;
  info.uid = static_cast<uid_t>(real);
  info.euid = static_cast<uid_t>(effective);
  return true;
}

std::optional<ProcInfo> read_proc(int pid) {
  if (pid <= 0) return std::nullopt;
  const std::string base = fmt::format("/proc/{}", pid);
  auto stat = sys::read_file(base + "/stat", sys::any_owner());
  if (!stat.content) return std::nullopt;
  auto info = parse_proc_stat(*stat.content);
  if (!info) return std::nullopt;
  if (auto status = sys::read_file(base + "/status", sys::any_owner()); status.content)
    parse_proc_status_uids(*status.content, *info);
  std::error_code ec;
  auto exe = fs::read_symlink(base + "/exe", ec);
  if (!ec) info->exe = exe.string();
  auto cmdline = sys::read_file(base + "/cmdline", sys::any_owner());
  if (cmdline.content && !cmdline.content->empty()) info->argv0 = std::string(cmdline.content->c_str());
  return info;
}

bool is_vault_proxy_path(std::string_view path) {
  constexpr std::string_view deleted = " (deleted)";
  if (path.ends_with(deleted)) path.remove_suffix(deleted.size());
  auto slash = path.rfind('/');
  auto name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  constexpr std::string_view base = "vault-proxy";
  if (name == base) return true;
  return name.size() > base.size() && name.starts_with(base) &&
         (name[base.size()] == '-' || name[base.size()] == '.');
}

LivenessCheck classify(const RuntimeState& rec, const std::optional<ProcInfo>& proc, uid_t caller) {
  if (!proc) return {Liveness::gone, fmt::format("no process has pid {} any more", rec.pid)};
  if (proc->state == 'Z' || proc->state == 'X')
    return {Liveness::gone, fmt::format("pid {} has exited", rec.pid)};
  if (proc->start_ticks != rec.proc_start_ticks)
    return {Liveness::pid_reused,
            fmt::format("pid {} now belongs to a process that started at another time (start tick {}, the "
                        "proxy recorded {}): the proxy has exited and its pid was reused",
                        rec.pid, proc->start_ticks, rec.proc_start_ticks)};
  if (!proc->uid || !proc->euid)
    return {Liveness::other_user,
            fmt::format("cannot read /proc/{0}/status to confirm that pid {0} belongs to you", rec.pid)};
  if (*proc->uid != caller || *proc->euid != caller)
    return {Liveness::other_user,
            fmt::format("pid {} belongs to uid {}, not to you (uid {}), so it is not your proxy", rec.pid,
                        *proc->uid != caller ? *proc->uid : *proc->euid, caller)};
  if (proc->exe) {
    if (!is_vault_proxy_path(*proc->exe))
      return {Liveness::not_vault_proxy, fmt::format("pid {} is {}, not a vault-proxy binary", rec.pid, *proc->exe)};
    return {Liveness::running, fmt::format("pid {} is {}", rec.pid, *proc->exe)};
  }
  // /proc/<pid>/exe is unreadable for a non-dumpable process of another user (serve clears its
  // dumpable flag); the command line stays readable.
  if (proc->argv0) {
    if (!is_vault_proxy_path(*proc->argv0))
      return {Liveness::not_vault_proxy,
              fmt::format("pid {} runs '{}', not a vault-proxy binary", rec.pid, *proc->argv0)};
    return {Liveness::running, fmt::format("pid {} runs {}", rec.pid, *proc->argv0)};
  }
  return {Liveness::not_vault_proxy,
          fmt::format("cannot read /proc/{0}/exe or /proc/{0}/cmdline to confirm that pid {0} is vault-proxy",
                      rec.pid)};
}

LivenessCheck check_liveness(const RuntimeState& recorded) { return classify(recorded, read_proc(recorded.pid)); }

Survey survey_proxies(const config::Env& env, std::optional<std::uint16_t> port) {
  Survey out;
  out.dir = state_dir(env);
  for (auto& file : list_state_files(out.dir, port, out.refused)) {
    if (!file.state) {
      out.notes.push_back(fmt::format("ignored the state file {}: it {}; delete it if no proxy uses that port",
                                      file.path, file.problem));
      continue;
    }
    FoundProxy found{file.path, *file.state, check_liveness(*file.state)};
    switch (found.check.liveness) {
      case Liveness::running:
        out.running.push_back(std::move(found));
        break;
      case Liveness::gone:
      case Liveness::pid_reused:
        if (remove_state_file(found.path, found.state.pid))
          out.notes.push_back(fmt::format("removed the stale state file {} ({})", found.path, found.check.detail));
        else
          out.notes.push_back(fmt::format("the state file {} is stale ({}) but could not be removed; delete it",
                                          found.path, found.check.detail));
        break;
      case Liveness::not_vault_proxy:
      case Liveness::other_user:
        out.notes.push_back(fmt::format(
            "the state file {} names pid {}, but {}; that process was left alone. If you did not expect "
            "this file, delete it",
            found.path, found.state.pid, found.check.detail));
        out.impostors.push_back(std::move(found));
        break;
    }
  }
  return out;
}

RuntimeState current_process_state(std::uint16_t port, std::string listen, std::string upstream) {
  RuntimeState s;
  s.pid = static_cast<int>(::getpid());
  s.port = port;
  s.listen = std::move(listen);
  s.upstream = std::move(upstream);
  s.started_at = utc_now();
  s.version = vp::version;
  if (auto self = read_proc(s.pid)) s.proc_start_ticks = self->start_ticks;
  return s;
}

RuntimeStateGuard::RuntimeStateGuard(const config::Env& env, std::uint16_t port, std::string listen,
                                     std::string upstream, std::string capability_file) {
  const std::string dir = state_dir(env);
  try {
    RuntimeState state = current_process_state(port, std::move(listen), std::move(upstream));
    state.capability_file = std::move(capability_file);
    path_ = write_state(dir, state);
    spdlog::debug("runtime state written to {}", path_);
  } catch (const std::exception& e) {
    spdlog::warn("{}; 'vault-proxy stop' and 'vault-proxy status' will not find this proxy (set "
                 "VAULT_PROXY_STATE_DIR to a directory you own)",
                 e.what());
  }
}

RuntimeStateGuard::~RuntimeStateGuard() {
  if (!path_.empty()) remove_state_file(path_, static_cast<int>(::getpid()));
}

std::optional<std::string> capability_prefix(const RuntimeState& state, std::string& error) {
  if (state.capability_file.empty()) return std::string();
  // serve writes the file owner-only; anything else was not written by the proxy, and its first
  // line must not go into a request.
  auto read = sys::read_file(state.capability_file, sys::owned_by_caller(S_IRWXG | S_IRWXO));
  if (read.refused) {
    error = fmt::format("refusing to use the capability file named by the proxy's state file: {}. The proxy "
                        "writes that file itself, owner-only (0600); if you did not change it, stop the proxy and "
                        "start it again",
                        read.problem);
    return std::nullopt;
  }
  std::string token = read.content.value_or("");
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  if (!read.content || token.empty() || token.find_first_of("/?# \t") != std::string::npos) {
    error = fmt::format("the proxy requires a capability prefix, but its file {} {}", state.capability_file,
                        read.content ? "does not hold one" : "cannot be read (run this as the proxy's user)");
    return std::nullopt;
  }
  return "/" + token;
}

std::string connect_address(const std::string& listen) {
  if (listen.empty() || listen == "0.0.0.0") return "127.0.0.1";
  if (listen == "::" || listen == "[::]") return "::1";
  if (listen.size() > 2 && listen.front() == '[' && listen.back() == ']') return listen.substr(1, listen.size() - 2);
  return listen;
}

std::optional<std::string> loopback_connect_address(const std::string& listen, std::string& problem) {
  const std::string host = connect_address(listen);
  if (host == "localhost") return std::string("127.0.0.1");
  error_code ec;
  auto address = net::ip::make_address(host, ec);
  if (!ec && address.is_loopback()) return host;
  problem = fmt::format("records the listen address '{}', which is not a loopback address", listen);
  return std::nullopt;
}

std::string proxy_url(const std::string& listen, std::uint16_t port) {
  return "http://" + core::host_port(connect_address(listen), port);
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  if (text.empty() || text.size() > 5) return std::nullopt;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size() || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

std::string format_duration(std::int64_t s) {
  if (s < 0) s = 0;
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m {:02}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h {:02}m {:02}s", s / 3600, (s % 3600) / 60, s % 60);
  return fmt::format("{}d {:02}h {:02}m", s / 86400, (s % 86400) / 3600, (s % 3600) / 60);
}

std::optional<std::int64_t> seconds_since(const std::string& started_at) {
  std::tm tm{};
  int y, mo, d, h, mi, sec;
  char z = 0;
  if (std::sscanf(started_at.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &sec, &z) != 7 || z != 'Z')
    return std::nullopt;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  std::time_t t = ::timegm(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return static_cast<std::int64_t>(std::time(nullptr) - t);
}

}  // namespace vp::cli
