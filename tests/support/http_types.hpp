#pragma once
// Plain data types shared by the fake upstream and the test client: an ordered header list that
// keeps duplicates and the exact casing seen on the wire.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vp::test {

/// One header field exactly as it appeared on the wire (name casing kept, value without OWS).
struct HeaderField {
  std::string name;
  std::string value;
  friend bool operator==(const HeaderField&, const HeaderField&) = default;
};

/// Header fields in wire order, duplicates kept.
using HeaderList = std::vector<HeaderField>;

/// ASCII case-insensitive equality, as field names compare (RFC 9110 §5.1).
bool iequals(std::string_view a, std::string_view b) noexcept;
/// Lower-cased copy.
std::string lower(std::string_view s);

/// Every value of `name` (any casing), in order.
std::vector<std::string> header_values(const HeaderList& h, std::string_view name);
/// Number of fields named `name` (any casing).
std::size_t header_count(const HeaderList& h, std::string_view name);
/// First value of `name`, if present.
std::optional<std::string> header_value(const HeaderList& h, std::string_view name);
/// Every name as sent (with its casing) for fields named `name` in any casing.
std::vector<std::string> header_spellings(const HeaderList& h, std::string_view name);
/// "Name: value\n" per field, for failure messages. Values of fields that carry the service token
/// secret (`CF-Access-Client-Secret`) are shown as `<redacted len=N>`.
std::string dump(const HeaderList& h);

}  // namespace vp::test
