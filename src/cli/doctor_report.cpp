#include "cli/doctor_report.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace vp::cli::doctor {
namespace {

constexpr std::string_view status_word(Status s) noexcept {
  switch (s) {
    case Status::pass: return "PASS";
    case Status::warn: return "WARN";
    case Status::fail: return "FAIL";
    case Status::skip: return "SKIP";
  }
  return "";
}

/// Greedy word wrap of one paragraph into lines of at most `width` characters; a word longer than
/// `width` (a URL, a path) stays whole on its own line rather than being cut.
std::vector<std::string> wrap(std::string_view text, std::size_t width) {
  std::vector<std::string> lines;
  std::string line;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    auto end = text.find(' ', i);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(i, end - i);
    i = end;
    if (word.empty()) continue;
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      lines.push_back(std::move(line));
      line.clear();
    }
    if (!line.empty()) line += ' ';
    line += word;
  }
  if (!line.empty() || lines.empty()) lines.push_back(std::move(line));
  return lines;
}

/// Appends `label` + text (split on '\n', each part wrapped) with every line starting at `indent`.
void append_block(std::string& out, std::size_t indent, std::string_view label, std::string_view text,
                  std::size_t width) {
  const std::size_t text_width = width > indent + label.size() + 20 ? width - indent - label.size() : 20;
  bool first = true;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    for (const auto& l : wrap(text.substr(start, nl - start), text_width)) {
      out.append(indent, ' ');
      if (first) {
        out += label;
        first = false;
      } else {
        out.append(label.size(), ' ');
      }
      out += l;
      while (!out.empty() && out.back() == ' ') out.pop_back();
      out += '\n';
    }
    start = nl + 1;
  }
}

}  // namespace

std::string_view status_name(Status s) noexcept {
  switch (s) {
    case Status::pass: return "pass";
    case Status::warn: return "warn";
    case Status::fail: return "fail";
    case Status::skip: return "skip";
  }
  return "";
}

bool Report::ok() const noexcept { return count(Status::fail) == 0; }

std::size_t Report::count(Status s) const noexcept {
  return static_cast<std::size_t>(
      std::count_if(checks.begin(), checks.end(), [s](const CheckResult& c) { return c.status == s; }));
}

std::string render_table(const Report& report, std::size_t width) {
  std::size_t name_width = 5;  // "CHECK"
  for (const auto& c : report.checks) name_width = std::max(name_width, c.name.size());
  const std::size_t status_col = name_width + 2;
  const std::size_t message_col = status_col + 8;

  std::string out = fmt::format("vault-proxy doctor {}: proxy {}, upstream {}\n\n", report.version,
                                report.proxy, report.upstream);
  out += fmt::format("{:<{}}{:<8}{}\n", "CHECK", status_col, "STATUS", "MESSAGE");
  for (const auto& c : report.checks) {
    std::string row;
    append_block(row, message_col, "", c.message.empty() ? "-" : c.message, width);
    // Put the name and status into the indentation of the first message line.
    std::string lead = fmt::format("{:<{}}{:<8}", c.name, status_col, status_word(c.status));
    row.replace(0, lead.size(), lead);
    out += row;
    if (!c.detail.empty()) append_block(out, message_col, "detail: ", c.detail, width);
    if (!c.fix.empty()) append_block(out, message_col, "fix:    ", c.fix, width);
  }
  auto plural = [](std::size_t n, std::string_view word) {
    return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
  };
  out += fmt::format("\n{}: {} failed, {}, {} passed, {} skipped\n",
                     report.ok() ? "OK" : "PROBLEMS FOUND", report.count(Status::fail),
                     plural(report.count(Status::warn), "warning"), report.count(Status::pass),
                     report.count(Status::skip));
  return out;
}

std::string render_json(const Report& report) {
  nlohmann::ordered_json checks = nlohmann::ordered_json::array();
  for (const auto& c : report.checks) {
    checks.push_back({{"name", c.name},
                      {"status", status_name(c.status)},
                      {"message", c.message},
                      {"detail", c.detail},
                      {"fix", c.fix}});
  }
  nlohmann::ordered_json j{{"version", report.version},
                           {"proxy", report.proxy},
                           {"upstream", report.upstream},
                           {"ok", report.ok()},
                           {"summary",
                            {{"pass", report.count(Status::pass)},
                             {"warn", report.count(Status::warn)},
                             {"fail", report.count(Status::fail)},
                             {"skip", report.count(Status::skip)}}},
                           {"checks", checks}};
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string one_line(std::string_view s, std::size_t n) {
  std::string out(s.substr(0, n));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  if (s.size() > n) out += "...";
  return out;
}

}  // namespace vp::cli::doctor
