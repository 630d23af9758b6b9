// core/audit: the audit trail's line format round-trips (odd key names and control characters
// included), parsing is tolerant of what it does not know and strict about what it needs, and the
// summary groups records by process the way `vault-proxy audit` prints them.

#include "core/audit.hpp"

#include <gtest/gtest.h>

#include <set>

namespace vp::core {
namespace {

using namespace std::chrono_literals;
using sys_clock = std::chrono::system_clock;
using json = nlohmann::json;

sys_clock::time_point at(std::string_view rfc3339) {
  auto t = parse_rfc3339(rfc3339);
  EXPECT_TRUE(t.has_value()) << rfc3339;
  return t.value_or(sys_clock::time_point{});
}

AuditRecord full_record() {
  AuditRecord r;
  r.time = at("2026-12-03T15:22:35.123Z");
  r.proxy_pid = 777;
  r.listener = "tcp";
  r.client = {.pid = 4242, .uid = 1000, .command = "node /usr/bin/infisical-mcp", .ancestors = {4200, 1}};
  r.method = "GET";
  r.operation = "read-secret";
  r.project = "proj-1";
  r.environment = "prod";
  r.secret_path = "/app";
  r.keys = {"DB_URL"};
  r.status = 200;
  r.diagnosis = "ok";
  r.decision = "allow";
  r.rule = "agents-read";
  return r;
}

void expect_same(const AuditRecord& a, const AuditRecord& b, const std::string& label) {
  EXPECT_EQ(a.time, b.time) << label;
  EXPECT_EQ(a.proxy_pid, b.proxy_pid) << label;
  EXPECT_EQ(a.listener, b.listener) << label;
  EXPECT_EQ(a.client.pid, b.client.pid) << label;
  EXPECT_EQ(a.client.uid, b.client.uid) << label;
  EXPECT_EQ(a.client.command, b.client.command) << label;
  EXPECT_EQ(a.client.ancestors, b.client.ancestors) << label;
  EXPECT_EQ(a.client.problem, b.client.problem) << label;
  EXPECT_EQ(a.method, b.method) << label;
  EXPECT_EQ(a.operation, b.operation) << label;
  EXPECT_EQ(a.project, b.project) << label;
  EXPECT_EQ(a.environment, b.environment) << label;
  EXPECT_EQ(a.secret_path, b.secret_path) << label;
  EXPECT_EQ(a.keys, b.keys) << label;
  EXPECT_EQ(a.status, b.status) << label;
  EXPECT_EQ(a.diagnosis, b.diagnosis) << label;
  EXPECT_EQ(a.decision, b.decision) << label;
  EXPECT_EQ(a.rule, b.rule) << label;
}

TEST(AuditLine, AFullRecordIsOneJsonObjectWithSnakeCaseFieldsInOrder) {
  EXPECT_EQ(format_audit_line(full_record()),
            R"({"ts":"2026-12-03T15:22:35.123Z","proxy_pid":777,"listener":"tcp","client":{"pid":4242,"uid":1000,)"
            R"("command":"node /usr/bin/infisical-mcp","ancestors":[4200,1]},"method":"GET","operation":"read-secret",)"
            R"("project":"proj-1","environment":"prod","secret_path":"/app","keys":["DB_URL"],"status":200,)"
            R"("diagnosis":"ok","decision":"allow","rule":"agents-read"})");
}

TEST(AuditLine, EmptyOptionalFieldsAreLeftOut) {
  AuditRecord r;
  r.time = at("2026-01-02T03:04:05Z");
  r.method = "POST";
  r.operation = "login";
  r.status = 401;
  EXPECT_EQ(format_audit_line(r),
            R"({"ts":"2026-01-02T03:04:05.000Z","proxy_pid":0,"method":"POST","operation":"login","status":401})");
}

TEST(AuditLine, RoundTripsEveryShapeOfRecord) {
  struct Row {
    const char* label;
    AuditRecord record;
  };
  auto with = [](auto edit) {
    AuditRecord r = full_record();
    edit(r);
    return r;
  };
  const std::vector<Row> rows = {
      {"full", full_record()},
      {"quote, backslash, slash in a key", with([](AuditRecord& r) { r.keys = {"A\"B", "C\\D", "E/F"}; })},
      {"control characters", with([](AuditRecord& r) { r.keys = {std::string("NL\nCR\rTAB\tNUL") + '\0' + "\x1b[31m"}; })},
      {"unicode key and path", with([](AuditRecord& r) {
         r.keys = {"CL\xc3\x89_\xe2\x9c\x93"};
         r.secret_path = "/\xc3\xa9t\xc3\xa9";
       })},
      {"no client pid: the problem instead", with([](AuditRecord& r) { r.client = {.problem = "peer not found"}; })},
      {"unix listener, refused", with([](AuditRecord& r) {
         r.listener = "unix";
         r.decision = "refuse";
         r.status = 403;
       })},
      {"many keys", with([](AuditRecord& r) { r.keys = {"A", "B", "C", "", " spaced "}; })},
      {"time before 1970", with([](AuditRecord& r) { r.time = at("1969-07-20T20:17:40.250Z"); })},
  };
  for (const auto& row : rows) {
    const std::string line = format_audit_line(row.record);
    EXPECT_EQ(line.find('\n'), std::string::npos) << row.label << ": one line";
    std::string problem;
    auto back = parse_audit_line(line, &problem);
    ASSERT_TRUE(back.has_value()) << row.label << ": " << problem << "\n" << line;
    expect_same(*back, row.record, row.label);
  }
}

TEST(AuditLine, ControlCharactersAreEscapedNotWrittenRaw) {
  AuditRecord r = full_record();
  r.keys = {std::string("a\nb\rc") + '\0' + "\x1b"};
  const std::string line = format_audit_line(r);
  for (char c : line) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << "raw control byte in " << line;
  EXPECT_NE(line.find(R"(a\nb\rc\u0000\u001b)"), std::string::npos) << line;
}

TEST(AuditLine, InvalidUtf8InAKeyStillGivesValidJson) {
  AuditRecord r = full_record();
  r.keys = {"BAD\xff\xfeKEY"};
  const std::string line = format_audit_line(r);
  EXPECT_FALSE(json::parse(line, nullptr, false).is_discarded()) << line;
  auto back = parse_audit_line(line);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->keys.at(0), "BAD\xef\xbf\xbd\xef\xbf\xbdKEY") << "each bad byte becomes U+FFFD";
}

TEST(AuditLine, NoFieldCanHoldAValueOrAToken) {
  // Every string a record can hold is set; none of the line's field names is one a secret value or
  // a credential would travel in.
  const std::string line = format_audit_line(full_record());
  auto j = json::parse(line);
  std::set<std::string> names;
  for (auto& [k, v] : j.items()) names.insert(k);
  for (auto& [k, v] : j["client"].items()) names.insert("client." + k);
  const std::set<std::string> want = {"ts",       "proxy_pid",   "listener",    "client",        "client.pid",
                                      "client.uid", "client.command", "client.ancestors", "method", "operation",
                                      "project",  "environment", "secret_path", "keys",          "status",
                                      "diagnosis", "decision",   "rule"};
  EXPECT_EQ(names, want);
  for (const auto& n : names)
    for (const char* banned : {"value", "token", "secret_value", "authorization", "password"})
      EXPECT_EQ(n.find(banned), std::string::npos) << n;
}

TEST(AuditLine, ParsingIgnoresUnknownFieldsAndDefaultsMissingOptionalOnes) {
  auto r = parse_audit_line(
      R"({"ts":"2026-12-03T15:22:35.5+01:00","method":"GET","operation":"list-secrets","status":200,)"
      R"("future_field":{"x":[1,2]},"client":{"pid":9,"later":"y"}})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->time, at("2026-12-03T14:22:35.500Z")) << "the offset is applied";
  EXPECT_EQ(r->proxy_pid, 0);
  EXPECT_EQ(r->client.pid, 9);
  EXPECT_FALSE(r->client.uid.has_value());
  EXPECT_TRUE(r->keys.empty());
}

TEST(AuditLine, RejectsWhatIsNotARecordAndSaysWhy) {
  struct Row {
    const char* line;
    const char* problem;
  };
  const std::vector<Row> rows = {
      {"", "not a JSON object"},
      {"{\"ts\":", "not a JSON object"},
      {"[1,2]", "not a JSON object"},
      {R"({"method":"GET","operation":"x","status":200})", "no \"ts\" string"},
      {R"({"ts":"yesterday","method":"GET","operation":"x","status":200})", "\"ts\" is not an RFC 3339 time"},
      {R"({"ts":"2026-02-30T00:00:00Z","method":"GET","operation":"x","status":200})", "\"ts\" is not an RFC 3339 time"},
      {R"({"ts":"2026-12-03T15:22:35Z","operation":"x","status":200})", "method, operation or status is missing"},
      {R"({"ts":"2026-12-03T15:22:35Z","method":"GET","operation":"x","status":"200"})", "\"status\" is not a status code"},
      {R"({"ts":"2026-12-03T15:22:35Z","method":"GET","operation":"x","status":200,"keys":"A"})", "a field has the wrong type"},
      {R"({"ts":"2026-12-03T15:22:35Z","method":"GET","operation":"x","status":200,"client":{"pid":"1"}})",
       "a field has the wrong type"},
  };
  for (const auto& row : rows) {
    std::string problem;
    EXPECT_FALSE(parse_audit_line(row.line, &problem).has_value()) << row.line;
    EXPECT_EQ(problem, row.problem) << row.line;
  }
}

TEST(AuditTime, Rfc3339FormsAndRejects) {
  const auto base = at("2026-12-03T15:00:00Z");
  struct Row {
    const char* text;
    std::optional<std::chrono::milliseconds> after_base;  ///< nullopt: rejected
  };
  const std::vector<Row> rows = {
      {"2026-12-03T15:00:00Z", 0ms},           {"2026-12-03t15:00:00z", 0ms},
      {"2026-12-03 15:00:00Z", 0ms},           {"2026-12-03T15:00:00.1Z", 100ms},
      {"2026-12-03T15:00:00.123456Z", 123ms},  {"2026-12-03T16:30:00+01:30", 0ms},
      {"2026-12-03T14:00:00-01:00", 0ms},      {"2026-12-03T15:00:00", std::nullopt},
      {"2026-12-03T15:00:00.Z", std::nullopt}, {"2026-13-03T15:00:00Z", std::nullopt},
      {"2026-12-03T24:00:00Z", std::nullopt},  {"2026-12-03T15:00:00+1:00", std::nullopt},
      {"1h", std::nullopt},
  };
  for (const auto& row : rows) {
    auto t = parse_rfc3339(row.text);
    ASSERT_EQ(t.has_value(), row.after_base.has_value()) << row.text;
    if (t) EXPECT_EQ(*t - base, *row.after_base) << row.text;
  }
  EXPECT_EQ(format_rfc3339_ms(base + 7ms), "2026-12-03T15:00:00.007Z");
}

// ---- summarize -------------------------------------------------------------------------------

AuditRecord rec(AuditClient client, std::string method, std::string operation, std::string env, std::string path,
                std::vector<std::string> keys, unsigned status = 200, std::string decision = "", std::string rule = "") {
  AuditRecord r;
  r.time = at("2026-12-03T15:00:00Z");
  r.client = std::move(client);
  r.method = std::move(method);
  r.operation = std::move(operation);
  r.environment = std::move(env);
  r.secret_path = std::move(path);
  r.keys = std::move(keys);
  r.status = status;
  r.diagnosis = status == 200 ? "ok" : status == 404 ? "not_found" : "";
  r.decision = std::move(decision);
  r.rule = std::move(rule);
  return r;
}

const AuditClient mcp{.pid = 4242, .uid = 1000, .command = "node /usr/bin/infisical-mcp", .ancestors = {4200}};
const AuditClient curl{.pid = 5000, .uid = 1000, .command = "curl"};

TEST(AuditSummary, GroupsByProcessAndCountsRepeats) {
  std::vector<AuditRecord> records = {
      rec(mcp, "POST", "login", "", "", {}),
      rec(mcp, "GET", "read-secret", "prod", "/app", {"DB_URL"}),
      rec(curl, "GET", "list-secrets", "dev", "/", {}),
      rec(mcp, "GET", "read-secret", "prod", "/app", {"DB_URL"}),
      rec(mcp, "GET", "read-secret", "prod", "/app/", {"API_KEY"}),
      rec(mcp, "GET", "list-secrets", "prod", "/app", {}),
      rec(mcp, "GET", "list-folders", "prod", "/", {}),
      rec(mcp, "POST", "create-secret", "prod", "/app", {"X"}, 403, "refuse", "read-only"),
      rec(mcp, "PATCH", "update-secret", "dev", "/app", {"Y"}),
      rec(mcp, "GET", "read-secret", "prod", "/app", {"GONE"}, 404),
      rec(mcp, "GET", "read-secret", "prod", "/app", {"DB_URL"}),
      rec(mcp, "POST", "renew-token", "", "", {}),
      rec(curl, "GET", "project", "", "", {}),
  };
  records[3].time = at("2026-12-03T16:00:00Z");
  const auto s = summarize(records);
  EXPECT_EQ(render_summary_text(s),
            "pid 4242 uid 1000 node /usr/bin/infisical-mcp (parent 4200)\n"
            "  read  prod:/app/DB_URL  (3×)\n"
            "  read  prod:/app/API_KEY\n"
            "  list  prod:/app\n"
            "  list folders  prod:/\n"
            "  write  PATCH update-secret dev:/app/Y\n"
            "  refused  POST create-secret prod:/app/X  (read-only)\n"
            "  failed  GET read-secret prod:/app/GONE  404 not_found\n"
            "  login\n"
            "  renew-token\n"
            "pid 5000 uid 1000 curl\n"
            "  list  dev:/\n"
            "  project\n"
            "totals: 2 processes, 4 reads of 2 secrets, 3 lists, 1 write, 1 refusal, 1 failure, 2 logins\n");
  EXPECT_EQ(s.totals.records, records.size());
  EXPECT_EQ(s.totals.calls, 3u);
  ASSERT_TRUE(s.first && s.last);
  EXPECT_EQ(format_rfc3339_ms(*s.first), "2026-12-03T15:00:00.000Z");
  EXPECT_EQ(format_rfc3339_ms(*s.last), "2026-12-03T16:00:00.000Z");
}

TEST(AuditSummary, SamePidWithAnotherCommandIsAnotherProcess) {
  AuditClient reused = mcp;
  reused.command = "python3 other.py";
  std::vector<AuditRecord> records = {rec(mcp, "GET", "read-secret", "prod", "/", {"A"}),
                                      rec(reused, "GET", "read-secret", "prod", "/", {"A"})};
  EXPECT_EQ(summarize(records).processes.size(), 2u);
}

TEST(AuditSummary, AnUnknownProcessIsNamedWithItsProblem) {
  std::vector<AuditRecord> records = {rec({.problem = "no peer found for 127.0.0.1:5555"}, "GET", "read-secret",
                                          "", "/", {"K1", "K2"})};
  EXPECT_EQ(render_summary_text(summarize(records)),
            "unknown process [no peer found for 127.0.0.1:5555]\n"
            "  read  /K1\n"
            "  read  /K2\n"
            "totals: 1 process, 2 reads of 2 secrets, 0 lists, 0 writes, 0 refusals, 0 failures, 0 logins\n");
}

TEST(AuditSummary, NoRecordsGivesZeroTotalsAndNullTimes) {
  const auto s = summarize({});
  EXPECT_EQ(render_summary_text(s),
            "totals: 0 processes, 0 reads of 0 secrets, 0 lists, 0 writes, 0 refusals, 0 failures, 0 logins\n");
  auto j = summary_json(s);
  EXPECT_TRUE(j["first_ts"].is_null());
  EXPECT_EQ(j["processes"], json::array());
}

TEST(AuditSummary, JsonCarriesTheSameRows) {
  std::vector<AuditRecord> records = {
      rec(mcp, "GET", "read-secret", "prod", "/app", {"DB_URL"}),
      rec(mcp, "GET", "read-secret", "prod", "/app", {"DB_URL"}),
      rec(mcp, "DELETE", "delete-secret", "prod", "/app", {"X"}, 403, "refuse", "no-delete"),
  };
  auto j = summary_json(summarize(records));
  ASSERT_EQ(j["processes"].size(), 1u);
  const auto& p = j["processes"][0];
  EXPECT_EQ(p["pid"], 4242);
  EXPECT_EQ(p["command"], "node /usr/bin/infisical-mcp");
  EXPECT_EQ(p["ancestors"], json::array({4200}));
  EXPECT_EQ(p["reads"], json::parse(R"([{"environment":"prod","path":"/app","key":"DB_URL","count":2}])"));
  EXPECT_EQ(p["refusals"][0]["rule"], "no-delete");
  EXPECT_EQ(p["refusals"][0]["status"], 403);
  EXPECT_EQ(j["totals"]["reads"], 2);
  EXPECT_EQ(j["totals"]["distinct_secrets"], 1);
  EXPECT_EQ(j["totals"]["refusals"], 1);
}

}  // namespace
}  // namespace vp::core
