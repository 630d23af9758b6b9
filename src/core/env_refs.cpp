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

Expansion expand_env_refs(std::string_view text, const EnvLookup& lookup) {
  Expansion out;
  std::size_t i = 0;
  while (i < text.size()) {
    auto open = text.find("${", i);
    if (open == std::string_view::npos) break;
    out.value.append(text.substr(i, open - i));
    auto close = text.find('}', open + 2);
    std::size_t n = open + 2;
    if (close != std::string_view::npos && n < close && name_start(text[n]))
      while (n < close && name_char(text[n])) ++n;
    const bool named = n > open + 2;
    const bool plain = named && n == close;
    const bool with_default = named && !plain && text.substr(n, 2) == ":-";
    if (close == std::string_view::npos || (!plain && !with_default)) {
      out.value.append("${");  // not a reference: keep it and look past it
      i = open + 2;
      continue;
    }
    auto name = text.substr(open + 2, n - open - 2);
    add_once(out.referenced, name);
    auto value = lookup(name);
    if (with_default && (!value || value->empty()))
      out.value.append(text.substr(n + 2, close - n - 2));
    else if (value)
      out.value.append(*value);
    else
      add_once(out.unset, name);
    i = close + 1;
  }
  if (i < text.size()) out.value.append(text.substr(i));
  return out;
}

}  // namespace vp::core
