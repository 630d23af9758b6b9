#pragma once
// The local policy: which requests may reach the vault from this machine, decided on the request's
// facts (core/api_op.hpp) before anything goes upstream (docs/guardrails.md). Pure: decide() has a
// table test (tests/unit/core/policy_test.cpp) and the request fuzzer calls it.

#include "core/api_op.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace vp::core {

/// A glob over '/'-separated text: `*` matches within one segment, `**` as a whole segment matches
/// any number of segments (none included: "/app/**" matches "/app"), `?` one character other than
/// '/'. Everything else matches itself.
bool glob_match(std::string_view pattern, std::string_view text);

/// One rule. Every condition that is set must hold; an empty one holds for every request.
struct PolicyRule {
  std::string name{};
  std::vector<std::string> methods{};  ///< upper-case method names
  std::vector<ApiOp> operations{};
  std::string path{};         ///< glob over the decoded request path
  std::string environment{};  ///< glob over the environment slug
  std::string secret_path{};  ///< glob over the secret path ("/" at the root)
};

/// A named set of rules: a request is refused when a deny rule matches, else allowed when an allow
/// rule matches, else refused.
struct Policy {
  std::string name{};  ///< "read-only", or the policy file's name
  std::string hint{};  ///< appended to every refusal: what the policy is for, whom to ask
  std::vector<PolicyRule> deny{};
  std::vector<PolicyRule> allow{};
};

/// The built-in `read-only` preset: reads of secrets and folders, logins, token renewals and
/// /api/status; every write, delete and admin call is refused.
Policy read_only_policy();

/// What decide() says.
enum class Verdict {
  allow,
  refuse,
  need_body,  ///< a rule turns on facts a write carries in its body, not read yet (add_body_facts)
};

struct Decision {
  Verdict verdict = Verdict::refuse;
  std::string rule;     ///< the rule that decided: an allow or deny rule's name, or "no allow rule"
  std::string message;  ///< for a refusal: what was refused, by which rule of which policy, and why
};

/// The rule name a refusal carries when no allow rule matched.
inline constexpr std::string_view no_allow_rule = "no allow rule";

/// Decides one request. A target that could be read two ways (ApiCall::problem) is refused.
Decision decide(std::string_view method, const ApiCall& call, const Policy& policy);

}  // namespace vp::core
