#pragma once
// Redaction by value: whatever path a secret took into a piece of text, its bytes do not leave.

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace vp::core {

/// Replaces every occurrence of each needle in `text` with `<redacted>`. Needles shorter than 4
/// bytes are ignored (they would shred ordinary text and are not credentials).
std::string redact(std::string_view text, const std::vector<std::string>& needles);

/// A process-wide set of secret values that every log line is scrubbed of.
class RedactionSet {
 public:
  static RedactionSet& global();
  /// Adds a value (copied into memory wiped on removal).
  void add(std::string_view value);
  /// Removes all values (wiping them).
  void clear();
  /// redact() with the current values.
  std::string apply(std::string_view text) const;
  bool empty() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> values_;
};

}  // namespace vp::core
