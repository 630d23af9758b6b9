#include "support/http_types.hpp"

namespace vp::test {

namespace {
char lower_c(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower_c(a[i]) != lower_c(b[i])) return false;
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = lower_c(c);
  return out;
}

std::vector<std::string> header_values(const HeaderList& h, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& f : h)
    if (iequals(f.name, name)) out.push_back(f.value);
  return out;
}

std::size_t header_count(const HeaderList& h, std::string_view name) {
  std::size_t n = 0;
  for (const auto& f : h)
    if (iequals(f.name, name)) ++n;
  return n;
}

std::optional<std::string> header_value(const HeaderList& h, std::string_view name) {
  for (const auto& f : h)
    if (iequals(f.name, name)) return f.value;
  return std::nullopt;
}

std::vector<std::string> header_spellings(const HeaderList& h, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& f : h)
    if (iequals(f.name, name)) out.push_back(f.name);
  return out;
}

std::string dump(const HeaderList& h) {
  std::string out;
  for (const auto& f : h) {
    if (iequals(f.name, "CF-Access-Client-Secret"))
      out += f.name + ": <redacted len=" + std::to_string(f.value.size()) + ">\n";
    else
      out += f.name + ": " + f.value + "\n";
  }
  return out;
}

}  // namespace vp::test
