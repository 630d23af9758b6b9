#pragma once
// What `vault-proxy doctor` found, and its two renderings. The checks (doctor_checks.hpp) only fill
// CheckResults; how they are shown is decided here, so a golden test can pin both formats from fixed
// results without any network.

#include <string>
#include <string_view>
#include <vector>

namespace vp::cli::doctor {

/// A check's verdict. Only `fail` makes doctor exit 1.
enum class Status { pass, warn, fail, skip };

/// "pass", "warn", "fail", "skip".
std::string_view status_name(Status s) noexcept;

/// One check's outcome. Never holds a secret value: lengths and fingerprints only.
struct CheckResult {
  std::string name;     ///< stable id, e.g. "listener", "access"
  Status status = Status::skip;
  std::string message;  ///< one sentence: what was found
  std::string detail;   ///< evidence (statuses, classes, addresses); may span lines
  std::string fix;      ///< what to do next (runbook wording); empty when nothing to do
};

/// Everything doctor prints.
struct Report {
  std::string version;   ///< vault-proxy version
  std::string proxy;     ///< e.g. "http://127.0.0.1:2019"
  std::string upstream;  ///< e.g. "https://vault.raxx.app"
  std::vector<CheckResult> checks;

  /// True when no check failed (warn and skip allowed).
  bool ok() const noexcept;
  /// Number of checks with this status.
  std::size_t count(Status s) const noexcept;
};

/// At most `n` bytes of `s` on one line (control bytes become spaces), "..." when cut: for
/// quoting what a server or a file said in a message or detail.
std::string one_line(std::string_view s, std::size_t n = 200);

/// Human table: a header line, one row per check with detail and fix indented under the message
/// (wrapped at `width` columns), then a summary line. Plain text: no colour, no terminal queries.
std::string render_table(const Report& report, std::size_t width = 100);

/// Machine form: {"version","proxy","upstream","ok","summary":{pass,warn,fail,skip},"checks":[
/// {"name","status","message","detail","fix"}]}, pretty-printed with two spaces and a final newline.
std::string render_json(const Report& report);

}  // namespace vp::cli::doctor
