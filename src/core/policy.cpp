#include "core/policy.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace vp::core {
namespace {

// The two-pointer wildcard match with one backtrack point, O(n·m), over characters or over path
// segments: an item for which `is_star` holds matches any run of text items (none included), any
// other item matches one text item for which `one` holds.
template <class Items, class IsStar, class One>
bool wildcard_match(const Items& p, const Items& t, IsStar is_star, One one) {
  constexpr std::size_t none = static_cast<std::size_t>(-1);
  std::size_t i = 0, j = 0, star = none, mark = 0;
  while (j < t.size()) {
    if (i < p.size() && !is_star(p[i]) && one(p[i], t[j])) {
      ++i;
      ++j;
    } else if (i < p.size() && is_star(p[i])) {
      star = i++;
      mark = j;
    } else if (star != none) {
      i = star + 1;
      j = ++mark;
    } else {
      return false;
    }
  }
  while (i < p.size() && is_star(p[i])) ++i;
  return i == p.size();
}

// '*' and '?' within one segment.
bool segment_match(std::string_view p, std::string_view t) {
  return wildcard_match(p, t, [](char c) { return c == '*'; }, [](char pc, char tc) { return pc == '?' || pc == tc; });
}

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> out;
  for (;;) {
    auto slash = s.find('/');
    out.push_back(s.substr(0, slash));
    if (slash == std::string_view::npos) return out;
    s.remove_prefix(slash + 1);
  }
}

enum class Match { yes, no, unknown };

// A condition on a fact a write carries in its body is unknown until the body is read: the body's
// values replace the target's (and the secret path's "/" is only the vault's default).
Match fact_match(const std::string& pattern, const std::string& fact, const ApiCall& call) {
  if (pattern.empty()) return Match::yes;
  if (op_has_body_facts(call.op) && !call.body_read) return Match::unknown;
  if (fact.empty()) return Match::no;
  return glob_match(pattern, fact) ? Match::yes : Match::no;
}

// A recursive list reaches every folder below its path: only a pattern that ends in "**" and
// matches the path covers all of them.
Match secret_path_match(const PolicyRule& r, const ApiCall& call) {
  auto m = fact_match(r.secret_path, call.secret_path, call);
  if (m != Match::yes || r.secret_path.empty() || !call.recursive) return m;
  const bool subtree = r.secret_path == "**" || r.secret_path.ends_with("/**");
  return subtree ? Match::yes : Match::no;
}

bool request_match(const PolicyRule& r, std::string_view method, const ApiCall& call) {
  if (!r.methods.empty() && std::find(r.methods.begin(), r.methods.end(), method) == r.methods.end()) return false;
  if (!r.operations.empty() && std::find(r.operations.begin(), r.operations.end(), call.op) == r.operations.end())
    return false;
  return r.path.empty() || glob_match(r.path, call.path);
}

Match rule_match(const PolicyRule& r, std::string_view method, const ApiCall& call) {
  if (!request_match(r, method, call)) return Match::no;
  auto env = fact_match(r.environment, call.environment, call);
  auto path = secret_path_match(r, call);
  if (env == Match::no || path == Match::no) return Match::no;
  return env == Match::yes && path == Match::yes ? Match::yes : Match::unknown;
}

// "read-secret prod:/app/DB_URL (GET /api/v3/secrets/raw/DB_URL)"
std::string describe(std::string_view method, const ApiCall& call) {
  std::string where;
  if (!call.environment.empty() || !call.secret_path.empty()) {
    where = fmt::format(" {}:{}", call.environment.empty() ? "?" : call.environment,
                        call.secret_path.empty() ? "?" : call.secret_path);
    if (call.keys.size() == 1) where += (call.secret_path == "/" ? "" : "/") + call.keys.front();
  }
  return fmt::format("{}{} ({} {})", op_name(call.op), where, method, call.path);
}

// Why the closest allow rule (right method, operation and path) did not allow the request.
std::string near_miss(const Policy& p, std::string_view method, const ApiCall& call) {
  for (const auto& r : p.allow) {
    if (!request_match(r, method, call)) continue;
    if (fact_match(r.environment, call.environment, call) == Match::no)
      return fmt::format("; rule \"{}\" allows environment \"{}\" only", r.name, r.environment);
    if (secret_path_match(r, call) == Match::no)
      return call.recursive ? fmt::format("; rule \"{}\" allows secret path \"{}\" only, and this list is recursive",
                                          r.name, r.secret_path)
                            : fmt::format("; rule \"{}\" allows secret path \"{}\" only", r.name, r.secret_path);
  }
  return {};
}

Decision refuse(const Policy& p, std::string rule, std::string why) {
  return {Verdict::refuse, std::move(rule),
          fmt::format("vault-proxy's local policy \"{}\" refused {}{}{}", p.name, why, p.hint.empty() ? "" : ". ", p.hint)};
}

PolicyRule preset_rule(std::string name, std::vector<std::string> methods, std::vector<ApiOp> ops) {
  return PolicyRule{.name = std::move(name), .methods = std::move(methods), .operations = std::move(ops)};
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  return wildcard_match(split(pattern), split(text), [](std::string_view seg) { return seg == "**"; }, segment_match);
}

Policy read_only_policy() {
  Policy p{.name = "read-only",
           .hint = "This proxy is read-only: it allows reads of secrets and folders, logins, token renewals and "
                   "/api/status; ask the operator to run a proxy without the policy for anything else"};
  p.allow = {
      preset_rule("read secrets", {"GET", "HEAD"}, {ApiOp::read_secret, ApiOp::list_secrets}),
      preset_rule("read folders", {"GET", "HEAD"}, {ApiOp::list_folders}),
      preset_rule("log in", {"POST"}, {ApiOp::login}),
      preset_rule("renew the token", {"POST"}, {ApiOp::renew_token}),
      preset_rule("status", {"GET", "HEAD"}, {ApiOp::status}),
  };
  return p;
}

Decision decide(std::string_view method, const ApiCall& call, const Policy& policy) {
  if (!call.problem.empty())
    return refuse(policy, "ambiguous path",
                  fmt::format("a {} request whose target could be read two ways: {}", method, call.problem));
  bool unknown = false;
  for (const auto& r : policy.deny) {
    auto m = rule_match(r, method, call);
    if (m == Match::yes)
      return refuse(policy, r.name, fmt::format("{}: deny rule \"{}\" matches it", describe(method, call), r.name));
    unknown = unknown || m == Match::unknown;
  }
  if (unknown) return {Verdict::need_body, {}, {}};
  for (const auto& r : policy.allow) {
    auto m = rule_match(r, method, call);
    if (m == Match::yes) return {Verdict::allow, r.name, {}};
    unknown = unknown || m == Match::unknown;
  }
  if (unknown) return {Verdict::need_body, {}, {}};
  return refuse(policy, std::string(no_allow_rule),
                fmt::format("{}: no rule allows it{}", describe(method, call), near_miss(policy, method, call)));
}

}  // namespace vp::core
