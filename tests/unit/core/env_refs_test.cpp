// ${VAR} / ${VAR:-default} expansion, as Claude Code applies it to a .mcp.json entry.
#include "core/env_refs.hpp"

#include <gtest/gtest.h>

#include <map>

namespace vp::core {
namespace {

EnvLookup env(std::map<std::string, std::string> values) {
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(std::string(name));
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

TEST(EnvRefs, ExpandsLikeAShell) {
  struct Case {
    std::string text;
    std::string value;
    std::vector<std::string> unset;
  };
  const auto lookup = env({{"URL", "http://127.0.0.1:41234"}, {"EMPTY", ""}, {"ID", "abc"}});
  const std::vector<Case> cases{
      {"${URL}", "http://127.0.0.1:41234", {}},
      {"${URL:-http://127.0.0.1:2019}", "http://127.0.0.1:41234", {}},
      {"${MISSING:-http://127.0.0.1:2019}", "http://127.0.0.1:2019", {}},
      {"${EMPTY:-fallback}", "fallback", {}},
      {"${EMPTY}", "", {}},
      {"${MISSING}", "", {"MISSING"}},
      {"a-${ID}-b-${ID}", "a-abc-b-abc", {}},
      {"${MISSING}${MISSING}${OTHER}", "", {"MISSING", "OTHER"}},
      {"${MISSING:-}", "", {}},
      {"${MISSING:-a:b}", "a:b", {}},
      {"plain text", "plain text", {}},
      {"$URL", "$URL", {}},
      {"${", "${", {}},
      {"${URL", "${URL", {}},
      {"${1A}", "${1A}", {}},
      {"${A-B}", "${A-B}", {}},
      {"${}", "${}", {}},
      {"x${URL}y${", "xhttp://127.0.0.1:41234y${", {}},
  };
  for (const auto& c : cases) {
    auto e = expand_env_refs(c.text, lookup);
    EXPECT_EQ(e.value, c.value) << c.text;
    EXPECT_EQ(e.unset, c.unset) << c.text;
  }
}

TEST(EnvRefs, ListsEveryReferencedNameOnce) {
  auto e = expand_env_refs("${A}${B:-x}${A}", env({}));
  EXPECT_EQ(e.referenced, (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(e.unset, std::vector<std::string>{"A"});
}

TEST(EnvRefs, AWholeReferenceIsParsed) {
  struct Case {
    std::string_view text, name;
    bool has_default;
    std::string_view fallback;
  };
  for (const auto& c : {Case{"${A}", "A", false, ""}, Case{"${_a9}", "_a9", false, ""}, Case{"${A:-}", "A", true, ""},
                        Case{"${A:-http://x:1/}", "A", true, "http://x:1/"}, Case{"${A:-${B}", "A", true, "${B"}}) {
    SCOPED_TRACE(c.text);
    auto r = parse_env_ref(c.text);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->name, c.name);
    EXPECT_EQ(r->has_default, c.has_default);
    EXPECT_EQ(r->fallback, c.fallback);
  }
}

TEST(EnvRefs, AnythingButOneWholeReferenceIsNotParsed) {
  for (std::string_view text : {"", "${}", "${1A}", "$A", "${A", "x${A}", "${A}x", "${A}${B}", "${A-b}", "${A:b}",
                                "${A B}", "${A:-b}}", "${1${A}"}) {
    EXPECT_FALSE(parse_env_ref(text)) << text;
  }
}

}  // namespace
}  // namespace vp::core
