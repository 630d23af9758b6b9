// The runtime state file and the liveness check behind stop/status: where the file lives, how it is
// written, and when a recorded pid may (and may not) be treated as the proxy.

#include "cli/run.hpp"
#include "cli/runtime_state.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>

extern char** environ;

namespace vp::cli {
namespace {

namespace fs = std::filesystem;
using test::read_file;
using test::TempDir;
using test::write_file;

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

RuntimeState sample(int pid = 4242, std::uint16_t port = 2019) {
  RuntimeState s;
  s.pid = pid;
  s.port = port;
  s.listen = "127.0.0.1";
  s.upstream = "https://vault.raxx.app";
  s.started_at = "2026-06-20T15:31:00Z";
  s.version = "0.1.0";
  s.proc_start_ticks = 123456;
  return s;
}

/// A pid that belonged to a process which has exited and been reaped.
int dead_pid() {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

TEST(StateDir, ResolutionOrder) {
  EXPECT_EQ(state_dir(config::map_env({{"VAULT_PROXY_STATE_DIR", "/x/y"}, {"XDG_RUNTIME_DIR", "/run/user/1"}})), "/x/y");
  EXPECT_EQ(state_dir(config::map_env({{"XDG_RUNTIME_DIR", "/run/user/1"}})), "/run/user/1/vault-proxy");
  EXPECT_EQ(state_dir(config::map_env({{"XDG_RUNTIME_DIR", ""}})), "/tmp/vault-proxy-" + std::to_string(::geteuid()));
  EXPECT_EQ(state_dir(config::map_env({})), "/tmp/vault-proxy-" + std::to_string(::geteuid()));
}

TEST(StateDir, CreatedPrivateAndTightenedWhenLoose) {
  TempDir tmp;
  const std::string dir = tmp.file("a/b/state");
  ensure_state_dir(dir);
  EXPECT_EQ(mode_of(dir), 0700u);
  ::chmod(dir.c_str(), 0755);
  ensure_state_dir(dir);
  EXPECT_EQ(mode_of(dir), 0700u);
}

TEST(StateDir, SymlinkOrFileIsRefusedWithAFix) {
  TempDir tmp;
  fs::create_directory(tmp.file("real"));
  fs::create_directory_symlink(tmp.file("real"), tmp.file("link"));
  try {
    ensure_state_dir(tmp.file("link"));
    ADD_FAILURE() << "a symlinked state directory was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("symbolic link"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("VAULT_PROXY_STATE_DIR"), std::string::npos) << e.what();
  }
  write_file(tmp.file("plain"), "x");
  EXPECT_THROW(ensure_state_dir(tmp.file("plain")), std::runtime_error);
}

constexpr uid_t other_uid = 4242;

TEST(StateDir, TheReadSideRefusesAForeignOrOpenDirectoryAndRepairsNothing) {
  TempDir tmp;
  const std::string dir = tmp.file("state");
  write_state(dir, sample());
  EXPECT_EQ(state_dir_problem(dir), "");
  EXPECT_EQ(state_dir_problem(tmp.file("missing")), "") << "no directory, no proxy: nothing to refuse";
  ::chmod(dir.c_str(), 0755);
  EXPECT_EQ(state_dir_problem(dir), "") << "readable by others is no reason to distrust it";

  ::chmod(dir.c_str(), 0777);
  const std::string open = state_dir_problem(dir);
  EXPECT_NE(open.find("refusing to read the state directory " + dir + ": it is writable by its group or by "
                      "others (mode 0777)"),
            std::string::npos)
      << open;
  EXPECT_NE(open.find("VAULT_PROXY_STATE_DIR"), std::string::npos) << open;
  EXPECT_EQ(mode_of(dir), 0777u) << "reading must not repair";
  std::string problem;
  EXPECT_TRUE(list_state_files(dir, std::nullopt, problem).empty()) << "nothing in a refused directory is read";
  EXPECT_EQ(problem, open);
  Survey s = survey_proxies(config::map_env({{"VAULT_PROXY_STATE_DIR", dir}}), std::nullopt);
  EXPECT_EQ(s.refused, open);
  EXPECT_TRUE(fs::exists(dir + "/serve-2019.json")) << "a refused directory is left as it is";

  ::chmod(dir.c_str(), 0700);
  fs::create_directory_symlink(dir, tmp.file("link"));
  EXPECT_NE(state_dir_problem(tmp.file("link")).find("it is a symbolic link"), std::string::npos);
  if (::geteuid() != 0) GTEST_SKIP() << "chown to another uid needs root";
  ASSERT_EQ(::chown(dir.c_str(), other_uid, other_uid), 0);
  EXPECT_NE(state_dir_problem(dir).find("it belongs to uid 4242, not to you (uid 0)"), std::string::npos)
      << state_dir_problem(dir);
}

TEST(StateFile, EachFileIsOpenedWithoutFollowingALinkAndCheckedForOwnerAndMode) {
  TempDir tmp;
  const std::string dir = tmp.file("state");
  auto good = write_state(dir, sample(4242, 2001));
  // Links and loose files that hold valid state: none of them may be trusted.
  write_file(tmp.file("elsewhere.json"), to_json(sample(4242, 2002)).dump(), 0600);
  ASSERT_EQ(::symlink(tmp.file("elsewhere.json").c_str(), (dir + "/serve-2002.json").c_str()), 0);
  write_file(dir + "/serve-2003.json", to_json(sample(4242, 2003)).dump(), 0666);
  std::string problem;
  auto files = list_state_files(dir, std::nullopt, problem);
  ASSERT_EQ(files.size(), 3u);
  EXPECT_TRUE(files[0].state);
  EXPECT_FALSE(files[1].state);
  EXPECT_EQ(files[1].problem, "is a symbolic link");
  EXPECT_FALSE(files[2].state);
  EXPECT_EQ(files[2].problem, "is writable by its group or by others (mode 0666)");
  fs::remove(tmp.file("elsewhere.json"));
  auto only = list_state_files(dir, 2002, problem);
  ASSERT_EQ(only.size(), 1u) << "a link is listed (and refused) even when its target is missing";
  EXPECT_FALSE(remove_state_file(dir + "/serve-2002.json", 4242)) << "a refused file is left for a human";
  EXPECT_TRUE(fs::is_symlink(dir + "/serve-2002.json"));

  Survey s = survey_proxies(config::map_env({{"VAULT_PROXY_STATE_DIR", dir}}), 2003);
  ASSERT_EQ(s.notes.size(), 1u);
  EXPECT_EQ(s.notes[0], "ignored the state file " + dir +
                            "/serve-2003.json: it is writable by its group or by others (mode 0666); delete it if no "
                            "proxy uses that port");
  if (::geteuid() != 0) GTEST_SKIP() << "chown to another uid needs root";
  ASSERT_EQ(::chown(good.c_str(), other_uid, other_uid), 0);
  auto foreign = read_state_file(good);
  ASSERT_TRUE(foreign);
  EXPECT_FALSE(foreign->state);
  EXPECT_EQ(foreign->problem, "belongs to uid 4242, not to you (uid 0)");
}

TEST(StateFile, WrittenAtomicallyWithMode0600AndReadBack) {
  TempDir tmp;
  const std::string dir = tmp.file("state");
  auto path = write_state(dir, sample());
  EXPECT_EQ(path, dir + "/serve-2019.json");
  EXPECT_EQ(mode_of(path), 0600u);
  EXPECT_EQ(mode_of(dir), 0700u);
  auto f = read_state_file(path);
  ASSERT_TRUE(f && f->state) << (f ? f->problem : "missing");
  EXPECT_EQ(f->state->pid, 4242);
  EXPECT_EQ(f->state->port, 2019);
  EXPECT_EQ(f->state->upstream, "https://vault.raxx.app");
  EXPECT_EQ(f->state->proc_start_ticks, 123456u);
  auto j = nlohmann::json::parse(read_file(path));
  for (const char* key : {"pid", "port", "listen", "upstream", "started_at", "version", "proc_start_ticks"})
    EXPECT_TRUE(j.contains(key)) << key;
  // Overwriting leaves no temporary files behind.
  write_state(dir, sample(4343));
  std::size_t files = 0;
  for (auto& e : fs::directory_iterator(dir)) {
    ++files;
    EXPECT_EQ(e.path().filename(), "serve-2019.json");
  }
  EXPECT_EQ(files, 1u);
  EXPECT_EQ(read_state_file(path)->state->pid, 4343);
}

TEST(StateFile, CapabilityFileIsRecordedAndItsPrefixRead) {
  TempDir tmp;
  RuntimeState s = sample();
  EXPECT_TRUE(to_json(s)["capability_file"].is_null());
  std::string error;
  EXPECT_EQ(capability_prefix(s, error), std::string()) << "no capability: no prefix";

  s.capability_file = tmp.file("capability-2019");
  auto path = write_state(tmp.file("state"), s);
  auto back = read_state_file(path);
  ASSERT_TRUE(back && back->state);
  EXPECT_EQ(back->state->capability_file, s.capability_file);
  EXPECT_EQ(read_file(path).find("tok3n"), std::string::npos);

  EXPECT_FALSE(capability_prefix(s, error)) << "missing file";
  EXPECT_NE(error.find(s.capability_file), std::string::npos) << error;
  write_file(s.capability_file, "tok3nABC\n");
  EXPECT_EQ(capability_prefix(s, error), std::string("/tok3nABC"));
  write_file(s.capability_file, "a/b\n");
  EXPECT_FALSE(capability_prefix(s, error)) << "a prefix with a slash is not one the proxy wrote";
}

TEST(StateFile, ACapabilityFileTheProxyDidNotWriteIsRefused) {
  TempDir tmp;
  RuntimeState s = sample();
  // Any file the caller can read, e.g. a private key: its first line must never go into a request.
  write_file(tmp.file("id_ed25519"), "-----BEGIN OPENSSH PRIVATE KEY-----\n", 0600);
  ASSERT_EQ(::symlink(tmp.file("id_ed25519").c_str(), tmp.file("link").c_str()), 0);
  write_file(tmp.file("shared"), "tok3nABC\n", 0640);
  struct Case {
    std::string file;
    std::string want;
  };
  std::vector<Case> cases = {{tmp.file("link"), tmp.file("link") + " is a symbolic link"},
                             {tmp.file("shared"), tmp.file("shared") + " is readable by its group or by others (mode 0640)"}};
  if (::geteuid() == 0) {
    write_file(tmp.file("foreign"), "tok3nABC\n", 0600);
    EXPECT_EQ(::chown(tmp.file("foreign").c_str(), other_uid, other_uid), 0);
    cases.push_back({tmp.file("foreign"), tmp.file("foreign") + " belongs to uid 4242, not to you (uid 0)"});
  }
  for (const auto& c : cases) {
    s.capability_file = c.file;
    std::string error;
    EXPECT_FALSE(capability_prefix(s, error)) << c.file;
    EXPECT_NE(error.find("refusing to use the capability file"), std::string::npos) << error;
    EXPECT_NE(error.find(c.want), std::string::npos) << error;
    EXPECT_EQ(error.find("BEGIN"), std::string::npos) << "the file's content is never quoted";
  }
}

TEST(StateFile, ListingIgnoresOtherNamesAndReportsBrokenFiles) {
  TempDir tmp;
  const std::string dir = tmp.file("state");
  write_state(dir, sample(10, 3000));
  write_state(dir, sample(11, 2500));
  write_file(dir + "/serve-2600.json", "{not json");
  write_file(dir + "/serve-2700.json", R"({"pid": 5, "port": 2700})");
  write_file(dir + "/run-1.log", "log");
  write_file(dir + "/serve-abc.json", "{}");
  std::string dir_problem;
  auto all = list_state_files(dir, std::nullopt, dir_problem);
  EXPECT_EQ(dir_problem, "");
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].state->port, 2500);
  EXPECT_FALSE(all[1].state);
  EXPECT_EQ(all[1].problem, "is not valid JSON");
  EXPECT_FALSE(all[2].state);
  EXPECT_NE(all[2].problem.find("proc_start_ticks"), std::string::npos) << "no start time, no trust";
  EXPECT_EQ(all[3].state->port, 3000);
  auto one = list_state_files(dir, 3000, dir_problem);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].state->pid, 10);
  EXPECT_TRUE(list_state_files(tmp.file("missing"), std::nullopt, dir_problem).empty());
  EXPECT_EQ(dir_problem, "") << "a missing directory is no refusal: nothing runs";
}

TEST(StateFile, RemovalKeepsAFileANewerProxyWrote) {
  TempDir tmp;
  auto path = write_state(tmp.path(), sample(100));
  EXPECT_FALSE(remove_state_file(path, 99));
  EXPECT_TRUE(fs::exists(path));
  EXPECT_TRUE(remove_state_file(path, 100));
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(remove_state_file(path, 100)) << "already gone counts as removed";
}

TEST(ProcStat, CommandNamesWithSpacesAndParensParse) {
  // Field 22 (starttime) is 20 fields after the last ')'.
  const std::string stat =
      "1234 (weird ) (name) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 "
      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0\n";
  auto info = parse_proc_stat(stat);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->state, 'S');
  EXPECT_EQ(info->start_ticks, 987654u);
  EXPECT_FALSE(parse_proc_stat("garbage"));
  EXPECT_FALSE(parse_proc_stat("1 (x) S 1 2"));
}

TEST(ProcStatus, TheUidLineGivesRealAndEffectiveUid) {
  ProcInfo info;
  EXPECT_TRUE(parse_proc_status_uids("Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t1000\t1001\t1002\t1003\n"
                                     "Gid:\t100\t100\t100\t100\n",
                                     info));
  EXPECT_EQ(info.uid, uid_t{1000});
  EXPECT_EQ(info.euid, uid_t{1001});
  ProcInfo none;
  EXPECT_FALSE(parse_proc_status_uids("Name:\tx\nGid:\t1\t1\t1\t1\n", none));
  EXPECT_FALSE(none.uid);
  EXPECT_FALSE(parse_proc_status_uids("Uid:\tnot numbers\n", none));
}

TEST(ProcStat, ThisProcessIsReadable) {
  auto self = read_proc(static_cast<int>(::getpid()));
  ASSERT_TRUE(self);
  EXPECT_NE(self->start_ticks, 0u);
  EXPECT_EQ(self->uid, ::getuid());
  EXPECT_EQ(self->euid, ::geteuid());
  ASSERT_TRUE(self->exe);
  EXPECT_NE(self->exe->find("vp_unit_cli_tests"), std::string::npos) << *self->exe;
  EXPECT_FALSE(read_proc(dead_pid()));
}

TEST(Liveness, VaultProxyBinaryNames) {
  EXPECT_TRUE(is_vault_proxy_path("/usr/local/bin/vault-proxy"));
  EXPECT_TRUE(is_vault_proxy_path("/work/main/build/dev/vault-proxy (deleted)"));
  EXPECT_TRUE(is_vault_proxy_path("vault-proxy"));
  EXPECT_TRUE(is_vault_proxy_path("/opt/vault-proxy-0.1.0"));
  EXPECT_FALSE(is_vault_proxy_path("/usr/bin/sleep"));
  EXPECT_FALSE(is_vault_proxy_path("/usr/bin/python3"));
  EXPECT_FALSE(is_vault_proxy_path("/tmp/vault-proxyX"));
  EXPECT_FALSE(is_vault_proxy_path("/tools/vault-proxy/proxy.py"));
}

TEST(Liveness, ClassifiesEveryCase) {
  const RuntimeState rec = sample();
  auto proc = [](char state, std::uint64_t ticks, std::optional<std::string> exe, std::optional<std::string> argv0) {
    ProcInfo p;
    p.state = state;
    p.start_ticks = ticks;
    p.exe = std::move(exe);
    p.argv0 = std::move(argv0);
    p.uid = p.euid = ::geteuid();
    return std::optional<ProcInfo>(p);
  };
  EXPECT_EQ(classify(rec, std::nullopt).liveness, Liveness::gone);
  EXPECT_EQ(classify(rec, proc('Z', 123456, std::nullopt, std::nullopt)).liveness, Liveness::gone);
  EXPECT_EQ(classify(rec, proc('S', 999, "/usr/bin/vault-proxy", std::nullopt)).liveness, Liveness::pid_reused)
      << "a vault-proxy started at another time is not the recorded one";
  auto sleep = classify(rec, proc('S', 123456, "/usr/bin/sleep", "sleep"));
  EXPECT_EQ(sleep.liveness, Liveness::not_vault_proxy);
  EXPECT_NE(sleep.detail.find("/usr/bin/sleep"), std::string::npos) << sleep.detail;
  EXPECT_EQ(classify(rec, proc('S', 123456, std::nullopt, "/bin/sleep")).liveness, Liveness::not_vault_proxy);
  EXPECT_EQ(classify(rec, proc('S', 123456, std::nullopt, std::nullopt)).liveness, Liveness::not_vault_proxy)
      << "unverifiable is never 'running'";
  EXPECT_EQ(classify(rec, proc('S', 123456, "/b/vault-proxy", std::nullopt)).liveness, Liveness::running);
  EXPECT_EQ(classify(rec, proc('R', 123456, std::nullopt, "./vault-proxy")).liveness, Liveness::running)
      << "the exe link of a non-dumpable proxy of another user is unreadable; argv[0] decides";
  EXPECT_EQ(classify(rec, proc('S', 123456, "/usr/bin/sleep", "vault-proxy")).liveness, Liveness::not_vault_proxy)
      << "a readable exe wins over a forgeable argv[0]";
}

TEST(Liveness, AnotherUsersProcessIsNeverTheProxy) {
  const RuntimeState rec = sample();
  ProcInfo p;
  p.state = 'S';
  p.start_ticks = 123456;
  p.exe = "/usr/local/bin/vault-proxy";
  p.uid = p.euid = 1000;
  EXPECT_EQ(classify(rec, p, 1000).liveness, Liveness::running);
  p.uid = p.euid = other_uid;
  auto other = classify(rec, p, 1000);
  EXPECT_EQ(other.liveness, Liveness::other_user);
  EXPECT_EQ(other.detail, "pid 4242 belongs to uid 4242, not to you (uid 1000), so it is not your proxy");
  p.uid = 1000;  // a set-uid process: real uid ours, effective uid not
  EXPECT_EQ(classify(rec, p, 1000).liveness, Liveness::other_user);
  p.uid.reset();
  p.euid.reset();
  EXPECT_EQ(classify(rec, p, 1000).liveness, Liveness::other_user) << "an unknown owner is never 'running'";
  p.start_ticks = 7;
  p.uid = p.euid = other_uid;
  EXPECT_EQ(classify(rec, p, 1000).liveness, Liveness::pid_reused) << "a recycled pid is stale, whoever has it";
}

TEST(Liveness, LiveProcessesOnThisHost) {
  auto self = read_proc(static_cast<int>(::getpid()));
  ASSERT_TRUE(self);
  RuntimeState rec = sample(static_cast<int>(::getpid()));
  rec.proc_start_ticks = self->start_ticks;
  EXPECT_EQ(check_liveness(rec).liveness, Liveness::not_vault_proxy) << "the test binary is not vault-proxy";
  rec.proc_start_ticks += 1;
  EXPECT_EQ(check_liveness(rec).liveness, Liveness::pid_reused);
  EXPECT_EQ(check_liveness(sample(dead_pid())).liveness, Liveness::gone);
}

TEST(Survey, StaleFilesAreRemovedImpostorsKept) {
  TempDir tmp;
  auto env = config::map_env({{"VAULT_PROXY_STATE_DIR", tmp.path()}});
  auto stale = write_state(tmp.path(), sample(dead_pid(), 2001));
  auto self = read_proc(static_cast<int>(::getpid()));
  RuntimeState impostor = sample(static_cast<int>(::getpid()), 2002);
  impostor.proc_start_ticks = self->start_ticks;
  auto impostor_path = write_state(tmp.path(), impostor);
  RuntimeState reused = impostor;
  reused.port = 2003;
  reused.proc_start_ticks = self->start_ticks + 7;
  auto reused_path = write_state(tmp.path(), reused);

  Survey s = survey_proxies(env, std::nullopt);
  EXPECT_TRUE(s.running.empty());
  ASSERT_EQ(s.impostors.size(), 1u);
  EXPECT_EQ(s.impostors[0].state.port, 2002);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_FALSE(fs::exists(reused_path));
  EXPECT_TRUE(fs::exists(impostor_path)) << "a file naming a live foreign process is left for a human";
  ASSERT_EQ(s.notes.size(), 3u);
  EXPECT_NE(s.notes[0].find("removed the stale state file " + stale), std::string::npos) << s.notes[0];
  EXPECT_NE(s.notes[1].find("left alone"), std::string::npos) << s.notes[1];
  EXPECT_NE(s.notes[2].find("pid was reused"), std::string::npos) << s.notes[2];
}

TEST(Guard, WritesThisProcessAndRemovesAtScopeExit) {
  TempDir tmp;
  auto env = config::map_env({{"VAULT_PROXY_STATE_DIR", tmp.file("s")}});
  const std::string path = tmp.file("s/serve-2055.json");
  {
    RuntimeStateGuard guard(env, 2055, "127.0.0.1", "https://vault.test");
    auto f = read_state_file(path);
    ASSERT_TRUE(f && f->state);
    EXPECT_EQ(f->state->pid, static_cast<int>(::getpid()));
    EXPECT_EQ(f->state->proc_start_ticks, read_proc(static_cast<int>(::getpid()))->start_ticks);
    EXPECT_TRUE(seconds_since(f->state->started_at).has_value()) << f->state->started_at;
    EXPECT_EQ(mode_of(path), 0600u);
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST(Helpers, PortsDurationsUrls) {
  EXPECT_EQ(parse_port("0"), std::uint16_t{0});
  EXPECT_EQ(parse_port("65535"), std::uint16_t{65535});
  EXPECT_FALSE(parse_port("65536"));
  EXPECT_FALSE(parse_port("-1"));
  EXPECT_FALSE(parse_port("20x"));
  EXPECT_FALSE(parse_port(""));
  EXPECT_EQ(format_duration(42), "42s");
  EXPECT_EQ(format_duration(3723), "1h 02m 03s");
  EXPECT_EQ(format_duration(90061), "1d 01h 01m");
  EXPECT_EQ(proxy_url("0.0.0.0", 2019), "http://127.0.0.1:2019");
  EXPECT_EQ(proxy_url("::", 2019), "http://[::1]:2019");
  EXPECT_EQ(proxy_url("::1", 80), "http://[::1]:80");
  for (auto [listen, want] : std::vector<std::pair<std::string, std::string>>{
           {"127.0.0.1", "127.0.0.1"}, {"127.8.9.10", "127.8.9.10"}, {"0.0.0.0", "127.0.0.1"}, {"::", "::1"},
           {"[::1]", "::1"}, {"localhost", "127.0.0.1"}, {"", "127.0.0.1"}}) {
    std::string problem;
    EXPECT_EQ(loopback_connect_address(listen, problem), want) << listen;
    EXPECT_EQ(problem, "") << listen;
  }
  for (std::string listen : {"203.0.113.7", "10.0.0.1", "2001:db8::1", "vault.example", "::ffff:127.0.0.1"}) {
    std::string problem;
    EXPECT_FALSE(loopback_connect_address(listen, problem)) << listen;
    EXPECT_EQ(problem, "records the listen address '" + listen + "', which is not a loopback address");
  }
  EXPECT_FALSE(seconds_since("yesterday"));
  auto s = seconds_since("2000-01-01T00:00:00Z");
  ASSERT_TRUE(s);
  EXPECT_GT(*s, 700'000'000);
}

TEST(RunEnvironment, CredentialsStayWithTheProxyAndLoopbackBypassesProxies) {
  std::vector<std::string> base{"PATH=/bin", "CF_ACCESS_CLIENT_ID=id.access", "CF_ACCESS_CLIENT_SECRET=s3cret",
                                "CF_ACCESS_CLIENT_SECRET_FILE=/run/s", "no_proxy=.corp.example, localhost",
                                "INFISICAL_HOST_URL=https://app.infisical.com", "VAULT_PROXY_PORT=2019"};
  auto env = child_environment(base, "http://127.0.0.1:40000", 40000, false);
  auto has = [&](const std::string& kv) { return std::find(env.begin(), env.end(), kv) != env.end(); };
  auto any_prefix = [&](const std::string& p) {
    return std::any_of(env.begin(), env.end(), [&](const std::string& kv) { return kv.starts_with(p); });
  };
  EXPECT_TRUE(has("PATH=/bin"));
  EXPECT_FALSE(any_prefix("CF_ACCESS_CLIENT_"));
  EXPECT_TRUE(has("VAULT_PROXY_URL=http://127.0.0.1:40000"));
  EXPECT_TRUE(has("INFISICAL_HOST_URL=http://127.0.0.1:40000"));
  EXPECT_TRUE(has("VAULT_PROXY_PORT=40000"));
  EXPECT_TRUE(has("no_proxy=.corp.example, localhost,127.0.0.1,::1"));
  EXPECT_TRUE(has("NO_PROXY=localhost,127.0.0.1,::1"));
  EXPECT_EQ(std::count_if(env.begin(), env.end(), [](auto& kv) { return kv.starts_with("INFISICAL_HOST_URL="); }), 1);

  auto kept = child_environment(base, "http://127.0.0.1:1", 1, true);
  EXPECT_TRUE(std::find(kept.begin(), kept.end(), "CF_ACCESS_CLIENT_SECRET=s3cret") != kept.end());
}

}  // namespace
}  // namespace vp::cli
