#include "core/redact.hpp"

#include "core/secret.hpp"

namespace vp::core {

std::string redact(std::string_view text, const std::vector<std::string>& needles) {
  std::string out(text);
  for (auto const& n : needles) {
    if (n.size() < 4) continue;
    for (auto pos = out.find(n); pos != std::string::npos; pos = out.find(n, pos + 10))
      out.replace(pos, n.size(), "<redacted>");
  }
  return out;
}

RedactionSet& RedactionSet::global() {
  static RedactionSet set;
  return set;
}

void RedactionSet::add(std::string_view value) {
  if (value.empty()) return;
  std::lock_guard lock(mutex_);
  values_.emplace_back(value);
}

void RedactionSet::clear() {
  std::lock_guard lock(mutex_);
  for (auto& v : values_) wipe(v);
  values_.clear();
}

std::string RedactionSet::apply(std::string_view text) const {
  std::lock_guard lock(mutex_);
  return redact(text, values_);
}

bool RedactionSet::empty() const {
  std::lock_guard lock(mutex_);
  return values_.empty();
}

}  // namespace vp::core
