// summarize(), render_summary_text() and summary_json() of core/audit.hpp.

#include "core/audit.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <tuple>

namespace vp::core {

namespace {

using json = nlohmann::json;
using Summary = AuditSummary;

bool is_list(std::string_view op) { return op == "list-secrets" || op == "list-folders"; }
bool is_write(std::string_view op) {
  return op == "create-secret" || op == "update-secret" || op == "delete-secret" || op == "create-folder" ||
         op == "update-folder" || op == "delete-folder" || op == "write-identity";
}

/// The row of `rows` equal to `row` by `key`, appended when there is none; its count is raised.
template <class Row, class Key>
void count_in(std::vector<Row>& rows, Row row, Key key) {
  auto it = std::find_if(rows.begin(), rows.end(), [&](const Row& r) { return key(r) == key(row); });
  if (it == rows.end()) it = rows.insert(rows.end(), std::move(row));
  ++it->count;
}

auto request_key(const Summary::Request& r) {
  return std::tie(r.method, r.operation, r.environment, r.path, r.key, r.status, r.diagnosis, r.rule);
}

/// One key per row; a request without key names is one row with an empty key.
std::vector<std::string> keys_or_none(const AuditRecord& r) {
  return r.keys.empty() ? std::vector<std::string>{""} : r.keys;
}

void add_record(Summary::Process& p, Summary::Totals& t, const AuditRecord& r) {
  auto request = [&](const std::string& key) {
    return Summary::Request{r.method, r.operation, r.environment, r.secret_path, key, r.status, r.diagnosis, r.rule};
  };
  if (r.decision == "refuse") {
    for (auto& k : keys_or_none(r)) count_in(p.refusals, request(k), request_key), ++t.refusals;
  } else if (r.status >= 400) {
    for (auto& k : keys_or_none(r)) count_in(p.failures, request(k), request_key), ++t.failures;
  } else if (r.operation == "read-secret") {
    for (auto& k : keys_or_none(r)) {
      count_in(p.reads, Summary::Read{r.environment, r.secret_path, k},
               [](const Summary::Read& x) { return std::tie(x.environment, x.path, x.key); });
      ++t.reads;
    }
  } else if (is_list(r.operation)) {
    count_in(p.lists, Summary::Listing{r.operation, r.environment, r.secret_path},
             [](const Summary::Listing& x) { return std::tie(x.operation, x.environment, x.path); });
    ++t.lists;
  } else if (is_write(r.operation)) {
    for (auto& k : keys_or_none(r)) count_in(p.writes, request(k), request_key), ++t.writes;
  } else {
    count_in(p.calls, Summary::Call{r.operation}, [](const Summary::Call& x) { return x.operation; });
    ++t.calls;
    if (r.operation == "login" || r.operation == "renew-token") ++t.logins;
  }
}

/// "prod:/app/DB_URL"; parts that are empty are left out.
std::string target(const std::string& environment, const std::string& path, const std::string& key) {
  std::string where = path;
  if (!key.empty()) where += (where.empty() || where.back() != '/' ? "/" : "") + key;
  if (environment.empty()) return where;
  return environment + ":" + where;
}

std::string times(std::size_t count) { return count > 1 ? fmt::format("  ({}×)", count) : std::string(); }

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string process_header(const AuditClient& c) {
  std::string out;
  auto add = [&out](const std::string& part) { out += (out.empty() ? "" : " ") + part; };
  if (c.pid) add(fmt::format("pid {}", *c.pid));
  if (c.uid) add(fmt::format("uid {}", *c.uid));
  if (!c.command.empty()) add(c.command);
  if (out.empty()) out = "unknown process";
  if (!c.ancestors.empty()) out += fmt::format(" (parent {})", c.ancestors.front());
  if (!c.problem.empty()) out += " [" + c.problem + "]";
  return out;
}

/// "POST create-secret prod:/app/X", without a trailing space when there is no target.
std::string request_text(const Summary::Request& r) {
  std::string out = r.method + " " + r.operation;
  if (auto t = target(r.environment, r.path, r.key); !t.empty()) out += " " + t;
  return out;
}

void render_process(std::string& out, const Summary::Process& p) {
  out += process_header(p.client) + "\n";
  for (auto& r : p.reads) out += "  read  " + target(r.environment, r.path, r.key) + times(r.count) + "\n";
  for (auto& l : p.lists)
    out += fmt::format("  {}  {}{}\n", l.operation == "list-folders" ? "list folders" : "list",
                       target(l.environment, l.path, ""), times(l.count));
  for (auto& w : p.writes) out += "  write  " + request_text(w) + times(w.count) + "\n";
  for (auto& r : p.refusals)
    out += "  refused  " + request_text(r) + (r.rule.empty() ? "" : "  (" + r.rule + ")") + times(r.count) + "\n";
  for (auto& f : p.failures)
    out += fmt::format("  failed  {}  {}{}{}\n", request_text(f), f.status, f.diagnosis.empty() ? "" : " " + f.diagnosis,
                       times(f.count));
  for (auto& c : p.calls) out += "  " + c.operation + times(c.count) + "\n";
}

json client_json(const AuditClient& c) {
  json j = json::object();
  j["pid"] = c.pid ? json(*c.pid) : json(nullptr);
  j["uid"] = c.uid ? json(*c.uid) : json(nullptr);
  j["command"] = c.command;
  j["ancestors"] = c.ancestors;
  if (!c.problem.empty()) j["problem"] = c.problem;
  return j;
}

json requests_json(const std::vector<Summary::Request>& rows) {
  json out = json::array();
  for (auto& r : rows) {
    json j{{"method", r.method}, {"operation", r.operation}, {"environment", r.environment}, {"path", r.path},
           {"key", r.key},       {"status", r.status},       {"count", r.count}};
    if (!r.diagnosis.empty()) j["diagnosis"] = r.diagnosis;
    if (!r.rule.empty()) j["rule"] = r.rule;
    out.push_back(std::move(j));
  }
  return out;
}

json process_json(const Summary::Process& p) {
  json j = client_json(p.client);
  j["reads"] = json::array();
  for (auto& r : p.reads)
    j["reads"].push_back({{"environment", r.environment}, {"path", r.path}, {"key", r.key}, {"count", r.count}});
  j["lists"] = json::array();
  for (auto& l : p.lists)
    j["lists"].push_back({{"operation", l.operation}, {"environment", l.environment}, {"path", l.path}, {"count", l.count}});
  j["writes"] = requests_json(p.writes);
  j["refusals"] = requests_json(p.refusals);
  j["failures"] = requests_json(p.failures);
  j["calls"] = json::array();
  for (auto& c : p.calls) j["calls"].push_back({{"operation", c.operation}, {"count", c.count}});
  return j;
}

}  // namespace

AuditSummary summarize(std::span<const AuditRecord> records) {
  Summary s;
  std::set<std::tuple<std::string, std::string, std::string>> secrets;
  for (const auto& r : records) {
    auto same = [&](const Summary::Process& p) {
      return p.client.pid == r.client.pid && p.client.uid == r.client.uid && p.client.command == r.client.command;
    };
    auto it = std::find_if(s.processes.begin(), s.processes.end(), same);
    if (it == s.processes.end()) {
      it = s.processes.emplace(s.processes.end());
      it->client = r.client;
    }
    add_record(*it, s.totals, r);
    ++s.totals.records;
    if (!s.first || r.time < *s.first) s.first = r.time;
    if (!s.last || r.time > *s.last) s.last = r.time;
  }
  for (const auto& p : s.processes)
    for (const auto& read : p.reads) secrets.emplace(read.environment, read.path, read.key);
  s.totals.processes = s.processes.size();
  s.totals.distinct_secrets = secrets.size();
  return s;
}

std::string render_summary_text(const AuditSummary& s) {
  std::string out;
  for (const auto& p : s.processes) render_process(out, p);
  const auto& t = s.totals;
  out += fmt::format("totals: {}, {} of {}, {}, {}, {}, {}, {}\n", plural(t.processes, "process", "processes"),
                     plural(t.reads, "read", "reads"), plural(t.distinct_secrets, "secret", "secrets"),
                     plural(t.lists, "list", "lists"), plural(t.writes, "write", "writes"),
                     plural(t.refusals, "refusal", "refusals"), plural(t.failures, "failure", "failures"),
                     plural(t.logins, "login", "logins"));
  return out;
}

nlohmann::json summary_json(const AuditSummary& s) {
  json processes = json::array();
  for (const auto& p : s.processes) processes.push_back(process_json(p));
  const auto& t = s.totals;
  return {{"processes", std::move(processes)},
          {"totals",
           {{"records", t.records}, {"processes", t.processes}, {"reads", t.reads},
            {"distinct_secrets", t.distinct_secrets}, {"lists", t.lists}, {"writes", t.writes},
            {"refusals", t.refusals}, {"failures", t.failures}, {"logins", t.logins}, {"calls", t.calls}}},
          {"first_ts", s.first ? json(format_rfc3339_ms(*s.first)) : json(nullptr)},
          {"last_ts", s.last ? json(format_rfc3339_ms(*s.last)) : json(nullptr)}};
}

}  // namespace vp::core
