#include "cli/audit_files.hpp"

#include "cli/runtime_state.hpp"
#include "sys/files.hpp"

#include <fmt/format.h>

#include <sys/stat.h>

#include <filesystem>

namespace vp::cli {

namespace {

// Far above the largest audit_log_max_bytes: a file grows past it only while rotation is refused.
constexpr std::size_t max_audit_file = std::size_t{4} << 30;

bool keep(const core::AuditRecord& r, const AuditFilter& f) {
  if (f.since && r.time < *f.since) return false;
  if (f.client_pid && r.client.pid != f.client_pid) return false;
  if (f.proxy_pid && r.proxy_pid != *f.proxy_pid) return false;
  return true;
}

void read_lines(const std::string& text, const AuditFilter& filter, AuditTrail& out) {
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line(text.data() + start, nl - start);
    start = nl + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    auto record = core::parse_audit_line(line);
    if (!record)
      ++out.unreadable;
    else if (keep(*record, filter))
      out.records.push_back(std::move(*record));
  }
}

}  // namespace

std::string audit_dir(const config::Env& env) {
  namespace fs = std::filesystem;
  if (auto v = env("VAULT_PROXY_STATE_DIR"); v && !v->empty()) return *v;
  if (auto v = env("XDG_STATE_HOME"); v && !v->empty()) return (fs::path(*v) / "vault-proxy").string();
  if (auto v = env("HOME"); v && !v->empty()) return (fs::path(*v) / ".local/state/vault-proxy").string();
  return state_dir(env);
}

std::string audit_log_path(const config::Config& config, const config::Env& env) {
  if (config.audit_off) return {};
  if (config.audit_log) return *config.audit_log;
  return (std::filesystem::path(audit_dir(env)) / "audit.jsonl").string();
}

std::vector<std::string> audit_files(const std::string& path, unsigned keep) {
  std::vector<std::string> out;
  for (unsigned n = keep; n >= 1; --n) {
    auto name = fmt::format("{}.{}", path, n);
    struct stat st {};
    if (::lstat(name.c_str(), &st) == 0) out.push_back(std::move(name));
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) out.push_back(path);
  return out;
}

AuditTrail read_audit_trail(const std::string& path, const AuditFilter& filter) {
  AuditTrail out;
  auto expect = sys::owned_by_caller(S_IWGRP | S_IWOTH);
  expect.max_bytes = max_audit_file;
  for (const auto& name : audit_files(path)) {
    auto r = sys::read_file(name, expect);
    if (!r.content) {
      // Gone between the listing and the read: rotated away, which is no problem.
      if (!r.missing) out.refused.push_back(r.problem);
      continue;
    }
    out.files.push_back(name);
    read_lines(*r.content, filter, out);
  }
  return out;
}

std::string session_report(const AuditTrail& trail, const std::string& path) {
  std::string out;
  if (trail.records.empty()) {
    out = "vault-proxy: this session read no secrets\n";
  } else {
    out = fmt::format("vault-proxy: what this session read (audit trail {})\n", path);
    out += core::render_summary_text(core::summarize(trail.records));
  }
  for (const auto& r : trail.refused)
    out += fmt::format("vault-proxy: warning: the audit trail is incomplete: {}; 'vault-proxy audit' says how to fix it\n", r);
  if (trail.unreadable > 0)
    out += fmt::format("vault-proxy: note: {} audit {} could not be read\n", trail.unreadable,
                       trail.unreadable == 1 ? "line" : "lines");
  return out;
}

}  // namespace vp::cli
