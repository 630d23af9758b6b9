#pragma once
// The local policy from its setting: `off`, the `read-only` preset, or a TOML policy file
// (docs/guardrails.md). Every problem in a file is reported together, each naming the field and
// the fix; a file another user could change is refused.

#include "config/config.hpp"
#include "core/policy.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace vp::config {

/// A loaded policy: null when the setting is `off`, or when `issues` is not empty.
struct PolicyLoad {
  std::shared_ptr<const core::Policy> policy;
  std::vector<Issue> issues;
};

/// Resolves one policy setting. `field` names the setting in issues ("policy (--policy / …)").
PolicyLoad load_policy(std::string_view spec, std::string_view field);

/// Parses a policy file's text. `source` names it in issues and becomes the policy's name when the
/// file sets none.
PolicyLoad parse_policy(std::string_view text, const std::string& source);

/// The policies of the two listeners, loaded from a Config (`unix_socket_policy` falls back to `policy`).
struct ListenerPolicies {
  std::shared_ptr<const core::Policy> tcp;
  std::shared_ptr<const core::Policy> unix_socket;
  std::vector<Issue> issues;
};
ListenerPolicies load_listener_policies(const Config& cfg);

}  // namespace vp::config
