// The command-line flags are registered from the settings rows (cli::add_config_flags): each row
// with a flag is an option whose help names its env variable and default, and fills Flags.

#include "cli/serve.hpp"
#include "config/settings.hpp"
#include "support/temp_dir.hpp"
#include "unit/config/setting_values.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vp::config {
namespace {

using test::TempDir;
using test_values::values_for;

TEST(ConfigFlags, EveryRowWithAFlagIsAnOptionThatFillsFlags) {
  TempDir dir;
  auto values = values_for(dir);
  CLI::App app;
  Flags flags;
  cli::add_config_flags(app, flags);
  std::vector<std::string> args{"vault-proxy", "-c", "/etc/vp.toml"};
  std::size_t with_flag = 0;
  for (const auto& row : settings()) {
    if (row.flag.empty()) continue;
    ++with_flag;
    const auto* opt = app.get_option_no_throw(std::string(row.flag));
    ASSERT_NE(opt, nullptr) << row.flag;
    EXPECT_EQ(opt->get_description(), flag_help(row));
    EXPECT_NE(opt->get_description().find("env " + std::string(row.env)), std::string::npos);
    EXPECT_NE(opt->get_description().find("default "), std::string::npos);
    args.push_back(std::string(row.flag));
    args.push_back(values.at(std::string(row.key)).a);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  app.parse(static_cast<int>(argv.size()), argv.data());
  EXPECT_EQ(app.get_options().size(), with_flag + 2) << "--help, --config and one option per row with a flag";
  EXPECT_EQ(flags.config_file, "/etc/vp.toml");
  for (const auto& row : settings())
    if (!row.flag.empty()) {
      EXPECT_EQ(flags.values.at(std::string(row.key)), values.at(std::string(row.key)).a);
    }

  flags.config_file.reset();  // /etc/vp.toml does not exist
  auto r = load(flags, map_env({}));
  ASSERT_TRUE(r.config) << format_issues(r.issues);
  for (const auto& row : settings())
    if (!row.flag.empty()) {
      EXPECT_EQ(row.show(*r.config), values.at(std::string(row.key)).a) << row.key;
    }
}

TEST(ConfigFlags, ShortNamesAndTheConfigFlag) {
  CLI::App app;
  Flags flags;
  cli::add_config_flags(app, flags);
  std::vector<std::string> args{"vault-proxy", "-p", "8080", "--config", "x.toml"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  app.parse(static_cast<int>(argv.size()), argv.data());
  EXPECT_EQ(flags.values.at("port"), "8080");
  EXPECT_EQ(flags.config_file, "x.toml");
  EXPECT_NE(app.get_option("--config")->get_description().find(config_env), std::string::npos);
}

}  // namespace
}  // namespace vp::config
