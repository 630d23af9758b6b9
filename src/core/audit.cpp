#include "core/audit.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <tuple>

namespace vp::core {

namespace {

using json = nlohmann::json;
using ordered = nlohmann::ordered_json;
using sys_clock = std::chrono::system_clock;

ordered client_json(const AuditClient& c) {
  ordered j = ordered::object();
  if (c.pid) j["pid"] = *c.pid;
  if (c.uid) j["uid"] = *c.uid;
  if (!c.command.empty()) j["command"] = c.command;
  if (!c.ancestors.empty()) j["ancestors"] = c.ancestors;
  if (!c.problem.empty()) j["problem"] = c.problem;
  return j;
}

void put_if(ordered& j, const char* key, const std::string& value) {
  if (!value.empty()) j[key] = value;
}

/// Digits at text[pos, pos+n) as a number; -1 when any is not a digit.
int digits(std::string_view text, std::size_t pos, std::size_t n) {
  if (pos + n > text.size()) return -1;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    v = v * 10 + (text[i] - '0');
  }
  return v;
}

/// The "Z" / "±hh:mm" suffix as an offset east of UTC, in minutes.
std::optional<int> offset_minutes(std::string_view s) {
  if (s == "Z" || s == "z") return 0;
  if (s.size() != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':') return std::nullopt;
  int h = digits(s, 1, 2), m = digits(s, 4, 2);
  if (h < 0 || m < 0 || h > 23 || m > 59) return std::nullopt;
  return (s[0] == '-' ? -1 : 1) * (h * 60 + m);
}

// Typed readers that leave the field alone when the key is absent and fail on a wrong type.
bool get_string(const json& j, const char* key, std::string& out) {
  auto it = j.find(key);
  if (it == j.end()) return true;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

bool get_long(const json& j, const char* key, std::optional<long>& out) {
  auto it = j.find(key);
  if (it == j.end()) return true;
  if (!it->is_number_integer()) return false;
  out = it->get<long>();
  return true;
}

template <class T>
bool get_array(const json& j, const char* key, std::vector<T>& out) {
  auto it = j.find(key);
  if (it == j.end()) return true;
  if (!it->is_array()) return false;
  for (const auto& e : *it) {
    if constexpr (std::is_same_v<T, std::string>) {
      if (!e.is_string()) return false;
    } else if (!e.is_number_integer()) {
      return false;
    }
    out.push_back(e.get<T>());
  }
  return true;
}

bool read_client(const json& j, AuditClient& c) {
  auto it = j.find("client");
  if (it == j.end()) return true;
  if (!it->is_object()) return false;
  return get_long(*it, "pid", c.pid) && get_long(*it, "uid", c.uid) && get_string(*it, "command", c.command) &&
         get_array(*it, "ancestors", c.ancestors) && get_string(*it, "problem", c.problem);
}

std::optional<AuditRecord> fail(std::string* problem, std::string text) {
  if (problem) *problem = std::move(text);
  return std::nullopt;
}

}  // namespace

std::string format_rfc3339_ms(sys_clock::time_point t) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day ymd{day};
  const hh_mm_ss hms{ms - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                     hms.minutes().count(), hms.seconds().count(), hms.subseconds().count());
}

std::optional<sys_clock::time_point> parse_rfc3339(std::string_view s) {
  using namespace std::chrono;
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      s[13] != ':' || s[16] != ':')
    return std::nullopt;
  const int y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  const int h = digits(s, 11, 2), mi = digits(s, 14, 2), se = digits(s, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60) return std::nullopt;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  std::size_t pos = 19;
  int millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    std::size_t start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start) return std::nullopt;
    // Only the first three digits count: the records keep milliseconds.
    for (std::size_t i = 0; i < 3; ++i) millis = millis * 10 + (start + i < pos ? s[start + i] - '0' : 0);
  }
  auto offset = offset_minutes(s.substr(pos));
  if (!offset) return std::nullopt;
  return sys_days{ymd} + hours{h} + minutes{mi - *offset} + seconds{se} + milliseconds{millis};
}

std::string format_audit_line(const AuditRecord& r) {
  ordered j;
  j["ts"] = format_rfc3339_ms(r.time);
  j["proxy_pid"] = r.proxy_pid;
  put_if(j, "listener", r.listener);
  if (auto c = client_json(r.client); !c.empty()) j["client"] = std::move(c);
  j["method"] = r.method;
  j["operation"] = r.operation;
  put_if(j, "project", r.project);
  put_if(j, "environment", r.environment);
  put_if(j, "secret_path", r.secret_path);
  if (!r.keys.empty()) j["keys"] = r.keys;
  j["status"] = r.status;
  put_if(j, "diagnosis", r.diagnosis);
  put_if(j, "decision", r.decision);
  put_if(j, "rule", r.rule);
  // A key name need not be valid UTF-8; replacing the bad bytes keeps the line valid JSON.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<AuditRecord> parse_audit_line(std::string_view line, std::string* problem) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail(problem, "not a JSON object");
  AuditRecord r;
  std::string ts;
  if (!get_string(j, "ts", ts) || ts.empty()) return fail(problem, "no \"ts\" string");
  auto t = parse_rfc3339(ts);
  if (!t) return fail(problem, "\"ts\" is not an RFC 3339 time");
  r.time = *t;
  if (!j.contains("method") || !j.contains("operation") || !j.contains("status"))
    return fail(problem, "method, operation or status is missing");
  auto st = j.find("status");
  if (!st->is_number_unsigned()) return fail(problem, "\"status\" is not a status code");
  r.status = st->get<unsigned>();
  std::optional<long> proxy_pid;
  const bool typed = get_long(j, "proxy_pid", proxy_pid) && get_string(j, "listener", r.listener) &&
                     read_client(j, r.client) && get_string(j, "method", r.method) &&
                     get_string(j, "operation", r.operation) && get_string(j, "project", r.project) &&
                     get_string(j, "environment", r.environment) && get_string(j, "secret_path", r.secret_path) &&
                     get_array(j, "keys", r.keys) && get_string(j, "diagnosis", r.diagnosis) &&
                     get_string(j, "decision", r.decision) && get_string(j, "rule", r.rule);
  if (!typed) return fail(problem, "a field has the wrong type");
  r.proxy_pid = proxy_pid.value_or(0);
  return r;
}

}  // namespace vp::core
