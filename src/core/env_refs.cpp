#include "core/env_refs.hpp"

#include <algorithm>

namespace vp::core {
namespace {

bool name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

void add_once(std::vector<std::string>& list, std::string_view name) {
  if (std::find(list.begin(), list.end(), name) == list.end()) list.emplace_back(name);
}

}  // namespace

std::optional<EnvRef> parse_env_ref(std::string_view text) {
  if (text.size() < 4 || !text.starts_with("${") || !text.ends_with("}")) return std::nullopt;
  auto inner = text.substr(2, text.size() - 3);
  if (inner.find('}') != std::string_view::npos) return std::nullopt;
  std::size_t n = 0;
  if (!inner.empty() && name_start(inner[0]))
    while (n < inner.size() && name_char(inner[n])) ++n;
  if (n == 0) return std::nullopt;
  if (n == inner.size()) return EnvRef{inner, false, {}};
  if (inner.substr(n, 2) != ":-") return std::nullopt;
  return EnvRef{inner.substr(0, n), true, inner.substr(n + 2)};
}

Expansion expand_env_refs(std::string_view text, const EnvLookup& lookup) {
  Expansion out;
  std::size_t i = 0;
  while (i < text.size()) {
    auto open = text.find("${", i);
    if (open == std::string_view::npos) break;
    out.value.append(text.substr(i, open - i));
    auto close = text.find('}', open + 2);
    auto ref = close == std::string_view::npos ? std::nullopt : parse_env_ref(text.substr(open, close - open + 1));
    if (!ref) {
      out.value.append("${");  // not a reference: keep it and look past it
      i = open + 2;
      continue;
    }
    add_once(out.referenced, ref->name);
    auto value = lookup(ref->name);
    if (ref->has_default && (!value || value->empty()))
      out.value.append(ref->fallback);
    else if (value)
      out.value.append(*value);
    else
      add_once(out.unset, ref->name);
    i = close + 1;
  }
  if (i < text.size()) out.value.append(text.substr(i));
  return out;
}

}  // namespace vp::core
