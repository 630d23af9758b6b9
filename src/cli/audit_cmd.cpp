#include "cli/audit_cmd.hpp"

#include "cli/audit_files.hpp"
#include "cli/exit_codes.hpp"
#include "core/audit.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <iostream>

namespace vp::cli {

namespace {

using sys_clock = std::chrono::system_clock;

/// The configured audit file; nullopt (and the problem printed) when the configuration is bad.
std::optional<std::string> configured_path(const AuditOptions& o, const config::Env& env, std::ostream& err) {
  if (o.file) return *o.file;
  config::Flags flags;
  flags.config_file = o.config_file;
  auto loaded = config::load(flags, env);
  if (!loaded.config) {
    err << "vault-proxy audit: configuration error\n"
        << config::format_issues(loaded.issues)
        << "Fix the configuration, or pass --file PATH to read an audit file directly.\n";
    return std::nullopt;
  }
  return audit_log_path(*loaded.config, env);
}

void report_problems(const AuditTrail& t, std::ostream& err) {
  for (const auto& r : t.refused)
    err << fmt::format("vault-proxy audit: refused {}; its records were not read. If the file is yours, "
                       "'chmod go-w' it; if it is a symlink or another user's, remove it\n",
                       r);
  if (t.unreadable > 0)
    err << fmt::format("vault-proxy audit: {} {} could not be read (cut short by a full disk or a crash, or not "
                       "an audit record); the rest is summarised\n",
                       t.unreadable, t.unreadable == 1 ? "line" : "lines");
}

nlohmann::json json_report(const core::AuditSummary& s, const AuditTrail& t, const std::string& path,
                           const std::optional<sys_clock::time_point>& since) {
  auto j = core::summary_json(s);
  j["audit_log"] = path;
  j["files"] = t.files;
  j["since"] = since ? nlohmann::json(core::format_rfc3339_ms(*since)) : nlohmann::json(nullptr);
  j["unreadable_lines"] = t.unreadable;
  j["refused"] = t.refused;
  return j;
}

void text_report(const core::AuditSummary& s, const AuditTrail& t, const std::string& path,
                 const std::optional<sys_clock::time_point>& since, std::ostream& out) {
  const std::string when = since ? " since " + core::format_rfc3339_ms(*since) : std::string();
  if (s.processes.empty()) {
    out << (since ? "no audit records" + when : "no audit records in " + path) << "\n";
    if (t.files.empty() && t.refused.empty())
      out << fmt::format("({} does not exist yet: the proxy writes it when a request touches a secret, a folder "
                         "or an identity)\n",
                         path);
    return;
  }
  out << fmt::format("audit trail {}{}\n", path, when);
  out << core::render_summary_text(s);
}

}  // namespace

std::optional<sys_clock::time_point> parse_since(std::string_view text, sys_clock::time_point now) {
  if (auto t = core::parse_rfc3339(text)) return t;
  if (text.size() < 2) return std::nullopt;
  std::uint64_t n = 0;
  const char* end = text.data() + text.size() - 1;
  auto [ptr, ec] = std::from_chars(text.data(), end, n);
  // 100 years at most: far enough back for any trail, and no overflow below.
  if (ec != std::errc{} || ptr != end || n > 36'500ull * 86'400) return std::nullopt;
  std::chrono::seconds unit{0};
  switch (text.back()) {
    case 's': unit = std::chrono::seconds(1); break;
    case 'm': unit = std::chrono::minutes(1); break;
    case 'h': unit = std::chrono::hours(1); break;
    case 'd': unit = std::chrono::hours(24); break;
    default: return std::nullopt;
  }
  if (n * static_cast<std::uint64_t>(unit.count()) > 36'500ull * 86'400) return std::nullopt;
  return now - unit * static_cast<std::int64_t>(n);
}

void add_audit(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<AuditOptions>();
  auto* cmd = app.add_subcommand("audit", "Show what each local process read, listed, wrote or was refused "
                                          "through the proxy, from its audit trail (names, never values)");
  cmd->add_option_function<std::string>("--since", [o](const std::string& v) { o->since = v; },
                                        "only records since a duration ago (90s, 15m, 1h, 2d) or an RFC 3339 time");
  cmd->add_flag("--json", o->json, "print JSON on stdout");
  cmd->add_option_function<std::string>("--file", [o](const std::string& v) { o->file = v; },
                                        "the audit file to read (its rotated .1 .2 .3 too); default: the "
                                        "audit_log setting, else <state dir>/audit.jsonl");
  cmd->add_option_function<long>("--pid", [o](long p) { o->pid = p; }, "only requests sent by this process");
  cmd->add_option_function<std::string>("-c,--config", [o](const std::string& v) { o->config_file = v; },
                                        "TOML config file that may set audit_log (env VAULT_PROXY_CONFIG)");
  cmd->footer("Example: vault-proxy audit --since 1h\n"
              "Exit codes: 0 ok (also when there are no records), 1 a file of the trail was refused (a "
              "symlink, another user's, or writable by group or others) or could not be read, 2 a bad "
              "--since or configuration.");
  cmd->callback([o, &exit_code] { exit_code = run_audit(*o, config::process_env(), std::cout, std::cerr); });
}

int run_audit(const AuditOptions& o, const config::Env& env, std::ostream& out, std::ostream& err,
              sys_clock::time_point now) {
  std::optional<sys_clock::time_point> since;
  if (o.since) {
    since = parse_since(*o.since, now);
    if (!since) {
      err << fmt::format("vault-proxy audit: --since '{}' is neither a duration nor a time; give a whole number "
                         "with s, m, h or d (90s, 15m, 1h, 2d) or an RFC 3339 time (2026-12-03T15:00:00Z)\n",
                         *o.since);
      return exit_usage;
    }
  }
  auto path = configured_path(o, env, err);
  if (!path) return exit_usage;
  if (path->empty()) {
    out << "the audit trail is off (audit_log = off), so nothing is recorded. Unset VAULT_PROXY_AUDIT_LOG (or "
           "set it to a path) and restart the proxy; --file PATH reads an earlier trail\n";
    return exit_ok;
  }
  AuditFilter filter;
  filter.since = since;
  filter.client_pid = o.pid;
  AuditTrail trail = read_audit_trail(*path, filter);
  const auto summary = core::summarize(trail.records);
  if (o.json)
    out << json_report(summary, trail, *path, since).dump(2) << "\n";
  else
    text_report(summary, trail, *path, since, out);
  report_problems(trail, err);
  return trail.refused.empty() ? exit_ok : exit_failure;
}

}  // namespace vp::cli
