// cli/audit_files and cli/audit_cmd: where the audit trail is, how its files are read (oldest first,
// refused when they are not the caller's to trust, unparsable lines counted), `--since`, and the
// reports `audit` and `run` print.

#include "cli/audit_cmd.hpp"
#include "cli/audit_files.hpp"
#include "cli/exit_codes.hpp"
#include "core/audit.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <sstream>

namespace vp::cli {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using sys_clock = std::chrono::system_clock;
using test::TempDir;
using test::write_file;

sys_clock::time_point at(std::string_view text) { return core::parse_rfc3339(text).value(); }

std::string line(std::string_view ts, long client_pid, std::string_view key, long proxy_pid = 10) {
  core::AuditRecord r;
  r.time = at(ts);
  r.proxy_pid = proxy_pid;
  r.client = {.pid = client_pid, .uid = 1000, .command = "agent"};
  r.method = "GET";
  r.operation = "read-secret";
  r.environment = "prod";
  r.secret_path = "/app";
  r.keys = {std::string(key)};
  r.status = 200;
  return core::format_audit_line(r) + "\n";
}

TEST(AuditPath, OffConfiguredOrTheStateDirectory) {
  auto env = config::map_env({{"VAULT_PROXY_STATE_DIR", "/state"}});
  config::Config c;
  EXPECT_EQ(audit_log_path(c, env), "/state/audit.jsonl");
  c.audit_log = "/var/log/vp/audit.jsonl";
  EXPECT_EQ(audit_log_path(c, env), "/var/log/vp/audit.jsonl");
  c.audit_off = true;
  EXPECT_EQ(audit_log_path(c, env), "");
}

TEST(AuditPath, TheDefaultOutlivesAReboot) {
  config::Config c;
  EXPECT_EQ(audit_log_path(c, config::map_env({{"XDG_STATE_HOME", "/h/.st"}, {"XDG_RUNTIME_DIR", "/run/user/7"}})),
            "/h/.st/vault-proxy/audit.jsonl");
  EXPECT_EQ(audit_log_path(c, config::map_env({{"HOME", "/h"}, {"XDG_RUNTIME_DIR", "/run/user/7"}})),
            "/h/.local/state/vault-proxy/audit.jsonl");
  EXPECT_EQ(audit_log_path(c, config::map_env({{"XDG_RUNTIME_DIR", "/run/user/7"}})),
            "/run/user/7/vault-proxy/audit.jsonl");  // no home: the state directory
  EXPECT_EQ(audit_log_path(c, config::map_env({{"VAULT_PROXY_STATE_DIR", "/s"}, {"HOME", "/h"}})), "/s/audit.jsonl");
}

TEST(AuditPath, TheSettingReachesTheConfig) {
  struct Row {
    std::map<std::string, std::string> env;
    std::string want;
  };
  const std::vector<Row> rows = {
      {{{"VAULT_PROXY_STATE_DIR", "/s"}}, "/s/audit.jsonl"},
      {{{"VAULT_PROXY_STATE_DIR", "/s"}, {"VAULT_PROXY_AUDIT_LOG", "off"}}, ""},
      {{{"VAULT_PROXY_STATE_DIR", "/s"}, {"VAULT_PROXY_AUDIT_LOG", "/x/a.jsonl"}}, "/x/a.jsonl"},
  };
  for (const auto& row : rows) {
    auto env = config::map_env(row.env);
    auto loaded = config::load({}, env);
    ASSERT_TRUE(loaded.config) << config::format_issues(loaded.issues);
    EXPECT_EQ(audit_log_path(*loaded.config, env), row.want);
  }
}

TEST(AuditSince, DurationsAndTimes) {
  const auto now = at("2026-12-03T15:00:00Z");
  struct Row {
    const char* text;
    std::optional<std::string> want;
  };
  const std::vector<Row> rows = {
      {"90s", "2026-12-03T14:58:30.000Z"}, {"15m", "2026-12-03T14:45:00.000Z"},
      {"1h", "2026-12-03T14:00:00.000Z"},  {"2d", "2026-12-01T15:00:00.000Z"},
      {"0s", "2026-12-03T15:00:00.000Z"},  {"2026-12-01T08:00:00Z", "2026-12-01T08:00:00.000Z"},
      {"1w", std::nullopt},                {"h", std::nullopt},
      {"-1h", std::nullopt},               {"1.5h", std::nullopt},
      {"", std::nullopt},                  {"99999999999d", std::nullopt},
      {"yesterday", std::nullopt},
  };
  for (const auto& row : rows) {
    auto t = parse_since(row.text, now);
    ASSERT_EQ(t.has_value(), row.want.has_value()) << row.text;
    if (t) EXPECT_EQ(core::format_rfc3339_ms(*t), *row.want) << row.text;
  }
}

TEST(AuditTrailRead, ReadsRotatedFilesOldestFirstAndCountsUnreadableLines) {
  TempDir tmp;
  const auto path = tmp.file("audit.jsonl");
  write_file(path + ".2", line("2026-12-03T10:00:00Z", 1, "A"));
  write_file(path + ".1", line("2026-12-03T11:00:00Z", 1, "B") + "not json\n\n");
  write_file(path, line("2026-12-03T12:00:00Z", 2, "C") + "{\"ts\":\"2026-12-03T12:00:01Z\"\n");
  auto t = read_audit_trail(path, {});
  EXPECT_EQ(t.files, (std::vector<std::string>{path + ".2", path + ".1", path}));
  ASSERT_EQ(t.records.size(), 3u);
  EXPECT_EQ(t.records[0].keys[0], "A");
  EXPECT_EQ(t.records[2].keys[0], "C");
  EXPECT_EQ(t.unreadable, 2u) << "a blank line is not counted";
  EXPECT_TRUE(t.refused.empty());
}

TEST(AuditTrailRead, FiltersBySinceClientAndProxy) {
  TempDir tmp;
  const auto path = tmp.file("audit.jsonl");
  write_file(path, line("2026-12-03T10:00:00Z", 1, "A", 10) + line("2026-12-03T11:00:00Z", 1, "B", 11) +
                       line("2026-12-03T12:00:00Z", 2, "C", 10));
  auto keys = [&](AuditFilter f) {
    std::string out;
    for (auto& r : read_audit_trail(path, f).records) out += r.keys[0];
    return out;
  };
  EXPECT_EQ(keys({}), "ABC");
  EXPECT_EQ(keys({.since = at("2026-12-03T11:00:00Z")}), "BC");
  EXPECT_EQ(keys({.client_pid = 1}), "AB");
  EXPECT_EQ(keys({.proxy_pid = 10}), "AC");
}

TEST(AuditTrailRead, RefusesASymlinkOrAGroupWritableFileAndReadsTheRest) {
  TempDir tmp;
  const auto path = tmp.file("audit.jsonl");
  write_file(tmp.file("elsewhere"), line("2026-12-03T10:00:00Z", 1, "PLANTED"));
  fs::create_symlink(tmp.file("elsewhere"), path + ".2");
  write_file(path + ".1", line("2026-12-03T11:00:00Z", 1, "SHARED"));
  ASSERT_EQ(::chmod((path + ".1").c_str(), 0620), 0);
  write_file(path, line("2026-12-03T12:00:00Z", 1, "MINE"));
  auto t = read_audit_trail(path, {});
  ASSERT_EQ(t.records.size(), 1u);
  EXPECT_EQ(t.records[0].keys[0], "MINE");
  EXPECT_EQ(t.refused, (std::vector<std::string>{path + ".2 is a symbolic link",
                                                 path + ".1 is writable by its group or by others (mode 0620)"}));
}

TEST(AuditCommand, PrintsTheSummaryAndExitsZero) {
  TempDir tmp;
  const auto path = tmp.file("audit.jsonl");
  write_file(path, line("2026-12-03T10:00:00Z", 1, "A") + line("2026-12-03T11:00:00Z", 1, "A"));
  std::ostringstream out, err;
  int code = run_audit({.file = path}, config::map_env({}), out, err);
  EXPECT_EQ(code, exit_ok) << err.str();
  EXPECT_EQ(out.str(), "audit trail " + path + "\npid 1 uid 1000 agent\n  read  prod:/app/A  (2×)\n"
                       "totals: 1 process, 2 reads of 1 secret, 0 lists, 0 writes, 0 refusals, 0 failures, 0 logins\n");
  EXPECT_EQ(err.str(), "");
}

TEST(AuditCommand, NoRecordsSinceIsStillSuccess) {
  TempDir tmp;
  const auto path = tmp.file("audit.jsonl");
  write_file(path, line("2026-12-03T10:00:00Z", 1, "A"));
  std::ostringstream out, err;
  int code = run_audit({.since = "1h", .file = path}, config::map_env({}), out, err, at("2026-12-03T15:00:00Z"));
  EXPECT_EQ(code, exit_ok);
  EXPECT_EQ(out.str(), "no audit records since 2026-12-03T14:00:00.000Z\n");
}

TEST(AuditCommand, AMissingFileSaysSoAndSucceeds) {
  TempDir tmp;
  std::ostringstream out, err;
  int code = run_audit({}, config::map_env({{"VAULT_PROXY_STATE_DIR", tmp.path()}}), out, err);
  EXPECT_EQ(code, exit_ok);
  EXPECT_EQ(out.str(), "no audit records in " + tmp.file("audit.jsonl") + "\n(" + tmp.file("audit.jsonl") +
                           " does not exist yet: the proxy writes it when a request touches a secret, a folder or "
                           "an identity)\n");
}

TEST(AuditCommand, ABadSinceIsAUsageErrorThatSaysWhatToGive) {
  std::ostringstream out, err;
  EXPECT_EQ(run_audit({.since = "last week", .file = "/nonexistent"}, config::map_env({}), out, err), exit_usage);
  EXPECT_NE(err.str().find("--since 'last week' is neither a duration nor a time; give"), std::string::npos) << err.str();
  EXPECT_EQ(out.str(), "");
}

TEST(AuditCommand, OffSaysHowToTurnItOn) {
  std::ostringstream out, err;
  EXPECT_EQ(run_audit({}, config::map_env({{"VAULT_PROXY_AUDIT_LOG", "off"}}), out, err), exit_ok);
  EXPECT_NE(out.str().find("the audit trail is off"), std::string::npos) << out.str();
}

TEST(AuditCommand, ARefusedFileIsNamedAndTheExitCodeSaysSo) {
  TempDir tmp;
  const auto path = tmp.file("audit.jsonl");
  write_file(path, line("2026-12-03T10:00:00Z", 1, "A"));
  ASSERT_EQ(::chmod(path.c_str(), 0666), 0);
  std::ostringstream out, err;
  EXPECT_EQ(run_audit({.file = path}, config::map_env({}), out, err), exit_failure);
  EXPECT_EQ(err.str(), "vault-proxy audit: refused " + path +
                           " is writable by its group or by others (mode 0666); its records were not read. If the "
                           "file is yours, 'chmod go-w' it; if it is a symlink or another user's, remove it\n");
}

TEST(AuditCommand, JsonAddsTheFilesAndProblems) {
  TempDir tmp;
  const auto path = tmp.file("audit.jsonl");
  write_file(path, line("2026-12-03T10:00:00Z", 1, "A") + "garbage\n");
  std::ostringstream out, err;
  EXPECT_EQ(run_audit({.json = true, .file = path}, config::map_env({}), out, err), exit_ok);
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["audit_log"], path);
  EXPECT_EQ(j["unreadable_lines"], 1);
  EXPECT_EQ(j["totals"]["reads"], 1);
  EXPECT_EQ(err.str(), "vault-proxy audit: 1 line could not be read (cut short by a full disk or a crash, or not an "
                       "audit record); the rest is summarised\n");
}

TEST(SessionReport, NoRecordsSaysNoSecrets) {
  EXPECT_EQ(session_report({}, "/s/audit.jsonl"), "vault-proxy: this session read no secrets\n");
}

TEST(SessionReport, HeaderThenSummaryThenWarnings) {
  AuditTrail t;
  t.records.push_back(*core::parse_audit_line(line("2026-12-03T10:00:00Z", 7, "K")));
  t.refused = {"/s/audit.jsonl.1 is a symbolic link"};
  t.unreadable = 2;
  EXPECT_EQ(session_report(t, "/s/audit.jsonl"),
            "vault-proxy: what this session read (audit trail /s/audit.jsonl)\n"
            "pid 7 uid 1000 agent\n"
            "  read  prod:/app/K\n"
            "totals: 1 process, 1 read of 1 secret, 0 lists, 0 writes, 0 refusals, 0 failures, 0 logins\n"
            "vault-proxy: warning: the audit trail is incomplete: /s/audit.jsonl.1 is a symbolic link; 'vault-proxy "
            "audit' says how to fix it\n"
            "vault-proxy: note: 2 audit lines could not be read\n");
}

}  // namespace
}  // namespace vp::cli
