// The settings table: every row through each of its sources, and the docs tables generated from it.
// The flags registered from it are tested with the CLI (tests/unit/cli/config_flags_test.cpp).

#include "config/settings.hpp"
#include "support/temp_dir.hpp"
#include "unit/config/setting_values.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace vp::config {
namespace {

using test::TempDir;
using test::write_file;
using test_values::Values;
using test_values::values_for;

enum class Source { flag, env, file };

std::vector<Source> sources_of(const Setting& row) {
  std::vector<Source> out;
  if (!row.flag.empty()) out.push_back(Source::flag);
  if (!row.env.empty()) out.push_back(Source::env);
  out.push_back(Source::file);
  return out;
}

const char* name_of(Source s) { return s == Source::flag ? "flag" : s == Source::env ? "env" : "file"; }

/// Whether `v` is not of the row's TOML type, so the file must give it as a string (a type error).
bool toml_type_error(const Setting& row, const std::string& v) {
  bool digits = !v.empty() && v.find_first_not_of("0123456789") == std::string::npos;
  if (row.kind == Kind::integer) return !digits;
  if (row.kind == Kind::boolean) return v != "true" && v != "false";
  return false;
}

/// `value` as the TOML file writes it: a bare integer or boolean when it is one, else a string
/// (so an invalid value is a type or range error naming the key, never a syntax error).
std::string toml_value(const Setting& row, const std::string& v) {
  if (row.kind != Kind::string && !toml_type_error(row, v)) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", static_cast<unsigned>(c));
      out += esc;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string toml_line(const Setting& row, const std::string& v) {
  auto dot = row.key.find('.');
  if (dot == std::string_view::npos) return std::string(row.key) + " = " + toml_value(row, v) + "\n";
  return "[" + std::string(row.key.substr(0, dot)) + "]\n" + std::string(row.key.substr(dot + 1)) + " = " +
         toml_value(row, v) + "\n";
}

struct Given {
  Source source;
  std::string value;
};

/// Loads with each value given to `row` through its source.
LoadResult load_with(const Setting& row, const std::vector<Given>& given, const TempDir& dir) {
  Flags flags;
  std::map<std::string, std::string> env;
  for (const auto& g : given) {
    if (g.source == Source::flag) flags.values[std::string(row.key)] = g.value;
    if (g.source == Source::env) env[std::string(row.env)] = g.value;
    if (g.source == Source::file) {
      flags.config_file = dir.file("settings.toml");
      write_file(*flags.config_file, toml_line(row, g.value));
    }
  }
  return load(flags, map_env(std::move(env)));
}

std::string shown(const Setting& row, const LoadResult& r) {
  return r.config ? row.show(*r.config) : "<no config: " + format_issues(r.issues) + ">";
}

TEST(SettingsTable, EveryRowHasTestValuesAndUniqueNames) {
  TempDir dir;
  auto values = values_for(dir);
  std::set<std::string_view> keys, flags, envs;
  for (const auto& row : settings()) {
    SCOPED_TRACE(row.key);
    EXPECT_TRUE(values.count(row.key)) << "add the new setting to values_for()";
    EXPECT_TRUE(keys.insert(row.key).second);
    if (!row.flag.empty()) { EXPECT_TRUE(flags.insert(row.flag).second); }
    if (!row.env.empty()) { EXPECT_TRUE(envs.insert(row.env).second); }
    EXPECT_TRUE(row.flag.empty() || row.flag.substr(0, 2) == "--");
    EXPECT_TRUE(row.env.empty() || row.env.substr(0, 12) == "VAULT_PROXY_");
    EXPECT_EQ(row.flag.empty(), row.help.empty()) << "a flag needs help text, and only a flag uses it";
    EXPECT_FALSE(row.doc.empty());
    ASSERT_NE(row.apply, nullptr);
    ASSERT_NE(row.show, nullptr);
    EXPECT_EQ(find_setting(row.key), &row);
  }
  EXPECT_EQ(values.size(), settings().size()) << "values_for() names a setting that is not in the table";
  EXPECT_FALSE(flags.count(config_flag));
  EXPECT_FALSE(envs.count(config_env));
}

TEST(SettingsTable, EachSourceAloneSetsEveryRow) {
  TempDir dir;
  auto values = values_for(dir);
  for (const auto& row : settings()) {
    const Values& v = values.at(std::string(row.key));
    for (Source source : sources_of(row)) {
      for (const auto& value : {v.a, v.b}) {
        SCOPED_TRACE(std::string(row.key) + " via " + name_of(source) + " = " + value);
        EXPECT_EQ(shown(row, load_with(row, {{source, value}}, dir)), value);
      }
    }
  }
}

TEST(SettingsTable, NoSourceGivesTheDefaultForEveryRow) {
  auto r = load({}, map_env({}));
  ASSERT_TRUE(r.config) << format_issues(r.issues);
  const Config defaults;
  for (const auto& row : settings()) EXPECT_EQ(row.show(*r.config), row.show(defaults)) << row.key;
}

TEST(SettingsTable, FlagBeatsEnvBeatsFileForEveryRow) {
  TempDir dir;
  auto values = values_for(dir);
  for (const auto& row : settings()) {
    const Values& v = values.at(std::string(row.key));
    auto sources = sources_of(row);  // highest precedence first
    for (std::size_t hi = 0; hi < sources.size(); ++hi) {
      for (std::size_t lo = hi + 1; lo < sources.size(); ++lo) {
        SCOPED_TRACE(std::string(row.key) + ": " + name_of(sources[hi]) + " over " + name_of(sources[lo]));
        EXPECT_EQ(shown(row, load_with(row, {{sources[hi], v.a}, {sources[lo], v.b}}, dir)), v.a);
        EXPECT_EQ(shown(row, load_with(row, {{sources[hi], v.b}, {sources[lo], v.a}}, dir)), v.b);
        // Only the value that wins is validated (a wrong TOML type is the file's structure: always checked).
        if (sources[lo] != Source::file || !toml_type_error(row, v.bad)) {
          EXPECT_EQ(shown(row, load_with(row, {{sources[hi], v.a}, {sources[lo], v.bad}}, dir)), v.a);
        }
      }
    }
  }
}

TEST(SettingsTable, InvalidValueIsOneIssueNamingTheRowAndSource) {
  TempDir dir;
  auto values = values_for(dir);
  for (const auto& row : settings()) {
    const std::string& bad = values.at(std::string(row.key)).bad;
    for (Source source : sources_of(row)) {
      SCOPED_TRACE(std::string(row.key) + " via " + name_of(source) + " = " + bad);
      auto r = load_with(row, {{source, bad}}, dir);
      EXPECT_FALSE(r.config);
      ASSERT_EQ(r.issues.size(), 1u) << format_issues(r.issues);
      EXPECT_EQ(r.issues[0].field, issue_field(row));
      std::string from = source == Source::flag  ? std::string(row.flag) + ")"
                         : source == Source::env ? std::string(row.env) + ")"
                                                 : std::string(row.key) + " in " + dir.file("settings.toml");
      EXPECT_NE(r.issues[0].problem.find("(from " + from), std::string::npos) << r.issues[0].problem;
      EXPECT_FALSE(r.issues[0].fix.empty());
    }
  }
}

TEST(SettingsTable, IssueFieldNamesEveryWayToSetTheRow) {
  for (const auto& row : settings()) {
    std::string field = issue_field(row);
    EXPECT_EQ(field.rfind(std::string(row.key) + " (", 0), 0u) << field;
    EXPECT_NE(field.find(row.flag), std::string::npos) << field;
    EXPECT_NE(field.find(row.env), std::string::npos) << field;
    if (row.flag.empty() && row.env.empty()) {
      EXPECT_NE(field.find("(TOML file only)"), std::string::npos);
    }
  }
  EXPECT_EQ(issue_field(*find_setting("port")), "port (--port / VAULT_PROXY_PORT / port)");
  EXPECT_EQ(issue_field(*find_setting("access_log")), "access_log (VAULT_PROXY_ACCESS_LOG / access_log)");
  EXPECT_EQ(issue_field(*find_setting("timeouts.connect_ms")), "timeouts.connect_ms (TOML file only)");
}

TEST(SettingsTable, FlagsNotInTheTableAreIssues) {
  // Flags::values is filled by add_config_flags; a key it never writes must not be silently ignored.
  for (std::string key : {"prot", "ready_cache_ms", "timeouts.connect_ms"}) {
    SCOPED_TRACE(key);
    Flags flags;
    flags.values[key] = "1";
    auto r = load(flags, map_env({}));
    EXPECT_FALSE(r.config);
    ASSERT_EQ(r.issues.size(), 1u) << format_issues(r.issues);
    EXPECT_EQ(r.issues[0].field, "'" + key + "' (command line)");
  }
}

// ---------------------------------------------------------------------------------------------------
// docs/configuration.md holds the tables rendered from the rows

const char* const docs_path = VP_SOURCE_DIR "/docs/configuration.md";

struct Region {
  std::size_t begin = std::string::npos, end = std::string::npos;  // the text between the markers
};

Region find_region(const std::string& doc, const std::string& name) {
  Region r;
  auto open = doc.find("<!-- generated: " + name + " ");
  auto close = doc.find("<!-- end generated: " + name + " -->");
  if (open == std::string::npos || close == std::string::npos || close < open) return r;
  r.begin = doc.find('\n', open) + 1;
  r.end = close;
  return r;
}

TEST(ConfigDocs, TablesAreTheOnesRenderedFromTheRows) {
  std::string doc = test::read_file(docs_path);
  ASSERT_FALSE(doc.empty()) << docs_path;
  const bool update = std::getenv("VP_UPDATE_DOCS") != nullptr;
  for (auto [which, name] : {std::pair{DocTable::settings, "settings"}, std::pair{DocTable::timeouts, "timeouts"}}) {
    SCOPED_TRACE(name);
    Region r = find_region(doc, name);
    ASSERT_NE(r.begin, std::string::npos) << "docs/configuration.md lost its '<!-- generated: " << name
                                          << " ... -->' / '<!-- end generated: " << name << " -->' markers";
    const std::string want = "\n" + render_doc_table(which) + "\n";
    if (update) {
      doc.replace(r.begin, r.end - r.begin, want);
      continue;
    }
    EXPECT_EQ(doc.substr(r.begin, r.end - r.begin), want)
        << "docs/configuration.md is out of step with src/config/settings.cpp; run scripts/update-config-docs";
  }
  if (update) write_file(docs_path, doc, 0644);
}

TEST(ConfigDocs, RenderedTablesListEveryRow) {
  std::string settings_md = render_doc_table(DocTable::settings);
  std::string timeouts_md = render_doc_table(DocTable::timeouts);
  for (const auto& row : settings()) {
    auto dot = row.key.find('.');
    const std::string& md = dot == std::string_view::npos ? settings_md : timeouts_md;
    std::string key(dot == std::string_view::npos ? row.key : row.key.substr(dot + 1));
    EXPECT_NE(md.find("| `" + key + "` | "), std::string::npos) << row.key;
    EXPECT_NE(md.find(default_doc(row)), std::string::npos) << row.key;
  }
  EXPECT_NE(settings_md.find("| — | — | `--unsafe-listen` | off |"), std::string::npos);
  EXPECT_NE(settings_md.find("| — | `VAULT_PROXY_CONFIG` | `--config` | unset |"), std::string::npos);
  EXPECT_EQ(default_doc(*find_setting("port")), "`2019`");
  EXPECT_EQ(default_doc(*find_setting("unix_socket_mode")), "`0600`");
  EXPECT_EQ(default_doc(*find_setting("connect_to")), "unset");
}

}  // namespace
}  // namespace vp::config
