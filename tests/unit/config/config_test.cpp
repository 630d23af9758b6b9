// Configuration loading: precedence, validation of every field, the TOML file and its hostile forms.

#include "config/config.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace vp::config {
namespace {

using test::TempDir;
using test::write_file;

/// Writes `toml` to a fresh file and returns its path (the TempDir outlives the call).
std::string toml_file(const TempDir& dir, std::string_view toml, std::string_view name = "vp.toml") {
  std::string path = dir.file(name);
  write_file(path, toml);
  return path;
}

LoadResult load_flags(const Flags& flags, std::map<std::string, std::string> env = {}) {
  return load(flags, map_env(std::move(env)));
}

std::string all_text(const std::vector<Issue>& issues) { return format_issues(issues); }

// ---------------------------------------------------------------------------------------------------
// Defaults and precedence

TEST(ConfigDefaults, NoSourceGivesTheDocumentedDefaults) {
  auto r = load_flags({});
  ASSERT_TRUE(r.issues.empty()) << all_text(r.issues);
  ASSERT_TRUE(r.config);
  const Config& c = *r.config;
  EXPECT_EQ(c.listen, "127.0.0.1");
  EXPECT_EQ(c.port, 2019);
  EXPECT_EQ(c.upstream.host, "vault.raxx.app");
  EXPECT_EQ(c.upstream.port, 443);
  EXPECT_FALSE(c.connect_to);
  EXPECT_FALSE(c.ca_file);
  EXPECT_EQ(c.user_agent, "raxx-vault-proxy/1.0");
  EXPECT_EQ(c.threads, 0u);
  EXPECT_EQ(c.pool_size, 512u);
  EXPECT_EQ(c.max_connections, 16'384u);
  EXPECT_EQ(c.log_format, LogFormat::text);
  EXPECT_EQ(c.log_level, "info");
  EXPECT_TRUE(c.access_log);
  EXPECT_EQ(c.ready_probe_path, "/api/status");
  EXPECT_EQ(c.ready_cache, std::chrono::milliseconds(10'000));
  EXPECT_FALSE(c.pid_file);
  EXPECT_FALSE(c.config_file);
  EXPECT_FALSE(c.unsafe_listen);
  EXPECT_FALSE(c.unix_socket);
  EXPECT_EQ(c.unix_socket_mode, 0600u);
  EXPECT_FALSE(c.capability);
  EXPECT_FALSE(c.capability_file);
  EXPECT_TRUE(c.allowed_hosts.empty());
}

TEST(ConfigPrecedence, UnsafeListenComesOnlyFromTheFlag) {
  // docs/security.md §2.1: neither the environment nor the file can open the proxy to the network.
  TempDir dir;
  Flags flags;
  flags.config_file = toml_file(dir, "listen = \"0.0.0.0\"\n");
  auto r = load_flags(flags, {{"VAULT_PROXY_UNSAFE_LISTEN", "1"}});
  ASSERT_TRUE(r.config) << all_text(r.issues);
  EXPECT_FALSE(r.config->unsafe_listen);
  flags.config_file = toml_file(dir, "unsafe_listen = true\n");
  r = load_flags(flags);
  ASSERT_EQ(r.issues.size(), 1u) << all_text(r.issues);
  EXPECT_EQ(r.issues[0].field, "'unsafe_listen' (TOML file)");
  flags = {};
  flags.unsafe_listen = true;
  r = load_flags(flags);
  ASSERT_TRUE(r.config) << all_text(r.issues);
  EXPECT_TRUE(r.config->unsafe_listen);
}

/// One setting reachable from all three sources, with a distinct valid value per source.
struct PrecedenceRow {
  std::string name;
  std::string flag;  // setting key
  std::string env;
  std::string toml_line_file;  // e.g. `port = 1001`
  std::string file_value, env_value, flag_value, default_value;
  std::function<std::string(const Config&)> get;
};

std::vector<PrecedenceRow> precedence_rows(const TempDir& dir) {
  // ca_file must exist, so each source names a different real file.
  std::string ca_f = dir.file("ca-file.pem"), ca_e = dir.file("ca-env.pem"), ca_g = dir.file("ca-flag.pem");
  for (const auto& p : {ca_f, ca_e, ca_g}) write_file(p, "-----BEGIN CERTIFICATE-----\n");
  auto opt = [](const std::optional<std::string>& v) { return v.value_or("<unset>"); };
  return {
      {"port", "port", "VAULT_PROXY_PORT", "port = 1001", "1001", "1002", "1003", "2019",
       [](const Config& c) { return std::to_string(c.port); }},
      {"listen", "listen", "VAULT_PROXY_LISTEN", "listen = \"10.0.0.1\"", "10.0.0.1", "10.0.0.2",
       "10.0.0.3", "127.0.0.1", [](const Config& c) { return c.listen; }},
      {"upstream", "upstream", "VAULT_PROXY_UPSTREAM", "upstream = \"https://file.example\"",
       "https://file.example", "https://env.example:8443", "https://flag.example", "https://vault.raxx.app",
       [](const Config& c) { return c.upstream.url(); }},
      {"connect_to", "connect_to", "VAULT_PROXY_CONNECT_TO", "connect_to = \"file.example:1\"",
       "file.example:1", "env.example:2", "flag.example:3", "<unset>",
       [](const Config& c) {
         return c.connect_to ? c.connect_to->host + ":" + std::to_string(c.connect_to->port) : "<unset>";
       }},
      {"ca_file", "ca_file", "VAULT_PROXY_CA_FILE", "ca_file = \"" + ca_f + "\"", ca_f, ca_e, ca_g,
       "<unset>", [opt](const Config& c) { return opt(c.ca_file); }},
      {"user_agent", "user_agent", "VAULT_PROXY_USER_AGENT", "user_agent = \"ua-file\"", "ua-file",
       "ua-env", "ua-flag", "raxx-vault-proxy/1.0", [](const Config& c) { return c.user_agent; }},
      {"threads", "threads", "VAULT_PROXY_THREADS", "threads = 1", "1", "2", "3", "0",
       [](const Config& c) { return std::to_string(c.threads); }},
      {"pool_size", "pool_size", "VAULT_PROXY_POOL_SIZE", "pool_size = 11", "11", "12", "13", "512",
       [](const Config& c) { return std::to_string(c.pool_size); }},
      {"max_connections", "max_connections", "VAULT_PROXY_MAX_CONNECTIONS", "max_connections = 21",
       "21", "22", "23", "16384", [](const Config& c) { return std::to_string(c.max_connections); }},
      {"log_level", "log_level", "VAULT_PROXY_LOG_LEVEL", "log_level = \"debug\"", "debug", "warn",
       "error", "info", [](const Config& c) { return c.log_level; }},
      {"pid_file", "pid_file", "VAULT_PROXY_PID_FILE", "pid_file = \"/run/f.pid\"", "/run/f.pid",
       "/run/e.pid", "/run/g.pid", "<unset>", [opt](const Config& c) { return opt(c.pid_file); }},
  };
}

TEST(ConfigPrecedence, FlagBeatsEnvBeatsFileBeatsDefault) {
  TempDir dir;
  for (const auto& row : precedence_rows(dir)) {
    SCOPED_TRACE(row.name);
    std::string path = toml_file(dir, row.toml_line_file + "\n");
    // Each source is added in turn; the newest, highest-precedence one must win.
    struct Step {
      bool file, env, flag;
      std::string want;
    };
    for (const auto& s : {Step{false, false, false, row.default_value}, Step{true, false, false, row.file_value},
                          Step{true, true, false, row.env_value}, Step{true, true, true, row.flag_value},
                          Step{false, false, true, row.flag_value}, Step{false, true, false, row.env_value}}) {
      Flags flags;
      std::map<std::string, std::string> env;
      if (s.file) flags.config_file = path;
      if (s.env) env[row.env] = row.env_value;
      if (s.flag) flags.values[row.flag] = row.flag_value;
      auto r = load_flags(flags, env);
      ASSERT_TRUE(r.issues.empty()) << all_text(r.issues);
      EXPECT_EQ(row.get(*r.config), s.want) << "file=" << s.file << " env=" << s.env << " flag=" << s.flag;
    }
  }
}

TEST(ConfigPrecedence, LogFormatFlagBeatsEnvBeatsFile) {
  TempDir dir;
  Flags flags;
  flags.config_file = toml_file(dir, "log_format = \"json\"\n");
  EXPECT_EQ(load_flags(flags).config->log_format, LogFormat::json);
  EXPECT_EQ(load_flags(flags, {{"VAULT_PROXY_LOG_FORMAT", "text"}}).config->log_format, LogFormat::text);
  flags.values["log_format"] = "json";
  EXPECT_EQ(load_flags(flags, {{"VAULT_PROXY_LOG_FORMAT", "text"}}).config->log_format, LogFormat::json);
}

TEST(ConfigPrecedence, AccessLogEnvBeatsFileAndRefusesNonBooleans) {
  TempDir dir;
  Flags flags;
  flags.config_file = toml_file(dir, "access_log = true\n");
  EXPECT_TRUE(load_flags(flags).config->access_log);
  for (std::string off : {"false", "0", "off"})
    EXPECT_FALSE(load_flags(flags, {{"VAULT_PROXY_ACCESS_LOG", off}}).config->access_log) << off;
  EXPECT_TRUE(load_flags(flags, {{"VAULT_PROXY_ACCESS_LOG", "on"}}).config->access_log);
  auto bad = load_flags(flags, {{"VAULT_PROXY_ACCESS_LOG", "nope"}});
  ASSERT_FALSE(bad.config.has_value());
  EXPECT_NE(all_text(bad.issues).find("VAULT_PROXY_ACCESS_LOG"), std::string::npos) << all_text(bad.issues);
  EXPECT_NE(all_text(bad.issues).find("is not a boolean"), std::string::npos) << all_text(bad.issues);
}

TEST(ConfigPrecedence, ConfigFlagBeatsConfigEnv) {
  TempDir dir;
  Flags flags;
  flags.config_file = toml_file(dir, "port = 1111\n", "flag.toml");
  std::string env_path = toml_file(dir, "port = 2222\n", "env.toml");
  auto r = load_flags(flags, {{"VAULT_PROXY_CONFIG", env_path}});
  ASSERT_TRUE(r.config) << all_text(r.issues);
  EXPECT_EQ(r.config->port, 1111);
  EXPECT_EQ(r.config->config_file, flags.config_file);

  r = load_flags({}, {{"VAULT_PROXY_CONFIG", env_path}});
  ASSERT_TRUE(r.config) << all_text(r.issues);
  EXPECT_EQ(r.config->port, 2222);
  EXPECT_EQ(r.config->config_file, env_path);
}

TEST(ConfigPrecedence, OverriddenBadValueIsNotReported) {
  TempDir dir;
  Flags flags;
  flags.config_file = toml_file(dir, "port = 70000\n");
  flags.values["port"] = "8080";
  auto r = load_flags(flags, {{"VAULT_PROXY_PORT", "junk"}});
  ASSERT_TRUE(r.issues.empty()) << all_text(r.issues);
  EXPECT_EQ(r.config->port, 8080);
}

TEST(ConfigPrecedence, EmptyEnvValueIsSetAndValidated) {
  auto r = load_flags({}, {{"VAULT_PROXY_PORT", ""}});
  ASSERT_EQ(r.issues.size(), 1u) << all_text(r.issues);
  EXPECT_EQ(r.issues[0].field, "port (--port / VAULT_PROXY_PORT / port)");
  EXPECT_NE(r.issues[0].problem.find("VAULT_PROXY_PORT"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------------
// Validation: one bad value → exactly one issue naming the field with its sources

struct BadRow {
  std::string flag;  // setting key
  std::string value;
  std::string field;
  std::string problem_has;  // substring of the problem
  std::string fix_has = "";
};

const std::string port_f = "port (--port / VAULT_PROXY_PORT / port)";
const std::string listen_f = "listen (--listen / VAULT_PROXY_LISTEN / listen)";
const std::string upstream_f = "upstream (--upstream / VAULT_PROXY_UPSTREAM / upstream)";
const std::string connect_f = "connect_to (--connect-to / VAULT_PROXY_CONNECT_TO / connect_to)";
const std::string ca_f = "ca_file (--ca-file / VAULT_PROXY_CA_FILE / ca_file)";
const std::string ua_f = "user_agent (--user-agent / VAULT_PROXY_USER_AGENT / user_agent)";
const std::string threads_f = "threads (--threads / VAULT_PROXY_THREADS / threads)";
const std::string pool_f = "pool_size (--pool-size / VAULT_PROXY_POOL_SIZE / pool_size)";
const std::string maxc_f = "max_connections (--max-connections / VAULT_PROXY_MAX_CONNECTIONS / max_connections)";
const std::string lf_f = "log_format (--log-format / VAULT_PROXY_LOG_FORMAT / log_format)";
const std::string ll_f = "log_level (--log-level / VAULT_PROXY_LOG_LEVEL / log_level)";
const std::string pid_f = "pid_file (--pid-file / VAULT_PROXY_PID_FILE / pid_file)";
const std::string sock_f = "unix_socket (--unix-socket / VAULT_PROXY_UNIX_SOCKET / unix_socket)";
const std::string mode_f = "unix_socket_mode (--unix-socket-mode / VAULT_PROXY_UNIX_SOCKET_MODE / unix_socket_mode)";
const std::string cap_f = "capability (--capability / VAULT_PROXY_CAPABILITY / capability)";
const std::string capf_f = "capability_file (--capability-file / VAULT_PROXY_CAPABILITY_FILE / capability_file)";
const std::string hosts_f = "allowed_hosts (--allowed-hosts / VAULT_PROXY_ALLOWED_HOSTS / allowed_hosts)";

std::vector<BadRow> bad_rows() {
  return {
      {"port", "70000", port_f, "'70000' is not a port number", "0 to 65535"},
      {"port", "65536", port_f, "'65536'"},
      {"port", "-1", port_f, "'-1'"},
      {"port", "+80", port_f, "'+80'"},
      {"port", " 80", port_f, "' 80'"},
      {"port", "80 ", port_f, "'80 '"},
      {"port", "0x50", port_f, "'0x50'"},
      {"port", "8e1", port_f, "'8e1'"},
      {"port", "", port_f, "''"},
      {"port", "99999999999999999999999", port_f, "'99999999999999999999999'"},
      {"listen", "example.com", listen_f, "'example.com' is not an IP address", "127.0.0.1"},
      {"listen", "127.0.0.1:80", listen_f, "'127.0.0.1:80'"},
      {"listen", "256.1.1.1", listen_f, "'256.1.1.1'"},
      {"listen", "01.2.3.4", listen_f, "'01.2.3.4'"},
      {"listen", "127.1", listen_f, "'127.1'"},
      {"listen", "fe80::1%eth0", listen_f, "'fe80::1%eth0'"},
      {"listen", "[::1", listen_f, "'[::1'"},
      {"listen", "", listen_f, "''"},
      {"upstream", "http://vault.raxx.app", upstream_f, "plain http", "TLS is mandatory"},
      {"upstream", "HTTP://vault.raxx.app", upstream_f, "plain http", "TLS is mandatory"},
      {"upstream", "ftp://vault.raxx.app", upstream_f, "not https"},
      {"upstream", "vault.raxx.app", upstream_f, "no https:// scheme", "https://vault.raxx.app"},
      {"upstream", "https://vault.raxx.app/v1", upstream_f, "path '/v1'"},
      {"upstream", "https://vault.raxx.app//", upstream_f, "path '//'"},
      {"upstream", "https://vault.raxx.app?x=1", upstream_f, "query"},
      {"upstream", "https://vault.raxx.app/?x=1", upstream_f, "query"},
      {"upstream", "https://vault.raxx.app#frag", upstream_f, "fragment"},
      {"upstream", "https://", upstream_f, "no host"},
      {"upstream", "https:///", upstream_f, "no host"},
      {"upstream", "https://:443", upstream_f, "no host"},
      {"upstream", "https://vault.raxx.app:0", upstream_f, "1 to 65535"},
      {"upstream", "https://vault.raxx.app:65536", upstream_f, "1 to 65535"},
      {"upstream", "https://vault.raxx.app:", upstream_f, "1 to 65535"},
      {"upstream", "https://vault.raxx.app:44a", upstream_f, "1 to 65535"},
      {"upstream", "https://[::1", upstream_f, "closing ']'"},
      {"upstream", "https://[zz::1]:443", upstream_f, "not an IPv6 address"},
      {"upstream", "https://[::1]x", upstream_f, "after the IPv6 address"},
      {"upstream", "https://::1", upstream_f, "without brackets"},
      {"upstream", "https://bad host", upstream_f, "space or control"},
      {"upstream", "https://bad\r\nhost", upstream_f, "\\x0d\\x0a"},
      {"upstream", "https://a..b", upstream_f, "not a valid host name"},
      {"upstream", "https://-a.example", upstream_f, "not a valid host name"},
      {"upstream", "https://a%2eb", upstream_f, "not a valid host name"},
      {"upstream", "https://vault.raxx.app.", upstream_f, "ends with a dot"},
      {"upstream", "https://999.1.1.1", upstream_f, "not a valid IPv4"},
      {"upstream", "https://" + std::string(64, 'a') + ".example", upstream_f, "not a valid host name"},
      {"upstream", "", upstream_f, "is empty"},
      {"connect_to", "127.0.0.1", connect_f, "has no :port", "host:port"},
      {"connect_to", "127.0.0.1:0", connect_f, "1 to 65535"},
      {"connect_to", "127.0.0.1:70000", connect_f, "1 to 65535"},
      {"connect_to", "127.0.0.1:", connect_f, "1 to 65535"},
      {"connect_to", ":443", connect_f, "no host"},
      {"connect_to", "::1:443", connect_f, "without brackets"},
      {"connect_to", "[::1]", connect_f, "has no :port"},
      {"connect_to", "[::1]443", connect_f, "after the IPv6 address"},
      {"connect_to", "host:abc", connect_f, "'abc'"},
      {"connect_to", "https://host:443", connect_f, "'https://host:443' is a URL"},
      {"connect_to", "", connect_f, "''"},
      {"ca_file", "/nonexistent/vp-ca.pem", ca_f, "No such file or directory", "system store"},
      {"ca_file", "/", ca_f, "is a directory"},
      {"ca_file", "/dev/null", ca_f, "not a regular file"},
      {"ca_file", "", ca_f, "is empty"},
      {"user_agent", "", ua_f, "is empty"},
      {"user_agent", "ua\r\nX-Evil: 1", ua_f, "'ua\\x0d\\x0aX-Evil: 1'", "printable ASCII"},
      {"user_agent", "ua\nx", ua_f, "control or non-ASCII"},
      {"user_agent", "tab\there", ua_f, "control or non-ASCII"},
      {"user_agent", "caf\xc3\xa9", ua_f, "'caf\\xc3\\xa9'"},
      {"user_agent", "del\x7f", ua_f, "control or non-ASCII"},
      {"threads", "257", threads_f, "'257' is not a thread count", "0 to 256"},
      {"threads", "-1", threads_f, "'-1'"},
      {"threads", "many", threads_f, "'many'"},
      {"pool_size", "100001", pool_f, "'100001'", "0 to 100000"},
      {"pool_size", "1.5", pool_f, "'1.5'"},
      {"max_connections", "0", maxc_f, "'0'", "1 to 1000000"},
      {"max_connections", "1000001", maxc_f, "'1000001'"},
      {"log_format", "JSON", lf_f, "'JSON' is not a log format", "text or json"},
      {"log_format", "xml", lf_f, "'xml'"},
      {"log_format", "", lf_f, "''"},
      {"log_level", "warning", ll_f, "'warning' is not a log level", "critical"},
      {"log_level", "INFO", ll_f, "'INFO'"},
      {"log_level", "", ll_f, "''"},
      {"pid_file", "", pid_f, "is empty"},
      {"pid_file", "/run/a\nb.pid", pid_f, "control character"},
      {"unix_socket", "", sock_f, "is empty"},
      {"unix_socket", "/" + std::string(107, 's'), sock_f, "not a usable socket path", "107 bytes"},
      {"unix_socket", "/run/a\nb.sock", sock_f, "not a usable socket path"},
      {"unix_socket_mode", "0800", mode_f, "'0800' is not an octal file mode"},
      {"unix_socket_mode", "01000", mode_f, "'01000'"},
      {"unix_socket_mode", "rw", mode_f, "'rw'"},
      {"unix_socket_mode", "", mode_f, "''"},
      {"capability", "yes", cap_f, "'yes' is not a boolean", "true or false"},
      {"capability", "", cap_f, "''"},
      {"capability_file", "", capf_f, "is empty"},
      {"capability_file", "/run/a\x01b", capf_f, "control character"},
      {"allowed_hosts", "good.internal,bad host", hosts_f, "'bad host' is not a host name"},
      {"allowed_hosts", "host:8080", hosts_f, "'host:8080'"},
      {"allowed_hosts", "http://host", hosts_f, "'http://host'"},
  };
}

TEST(ConfigValidation, EachBadValueIsOneIssueNamingTheField) {
  for (const auto& row : bad_rows()) {
    SCOPED_TRACE("value: " + row.value);
    Flags flags;
    flags.values[row.flag] = row.value;
    auto r = load_flags(flags);
    EXPECT_FALSE(r.config);
    ASSERT_EQ(r.issues.size(), 1u) << all_text(r.issues);
    const Issue& i = r.issues[0];
    EXPECT_EQ(i.field, row.field);
    EXPECT_NE(i.problem.find(row.problem_has), std::string::npos) << i.problem;
    EXPECT_NE(i.problem.find("(from --"), std::string::npos) << i.problem;
    EXPECT_FALSE(i.fix.empty());
    EXPECT_NE(i.fix.find(row.fix_has), std::string::npos) << i.fix;
  }
}

TEST(ConfigValidation, ProblemNamesTheEnvVariableThatSupplied) {
  auto r = load_flags({}, {{"VAULT_PROXY_THREADS", "300"}});
  ASSERT_EQ(r.issues.size(), 1u);
  EXPECT_EQ(r.issues[0].field, threads_f);
  EXPECT_NE(r.issues[0].problem.find("'300'"), std::string::npos);
  EXPECT_NE(r.issues[0].problem.find("(from VAULT_PROXY_THREADS)"), std::string::npos);
}

TEST(ConfigValidation, QuotedValuesAreEscapedAndTruncated) {
  Flags flags;
  flags.values["log_level"] = "\x1b[2J" + std::string(500, 'x');
  auto r = load_flags(flags);
  ASSERT_EQ(r.issues.size(), 1u);
  std::string text = all_text(r.issues);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_NE(text.find("\\x1b[2J"), std::string::npos);
  EXPECT_EQ(text.find(std::string(200, 'x')), std::string::npos);
  EXPECT_NE(text.find("(504 bytes)"), std::string::npos);
}

struct GoodRow {
  std::string flag;  // setting key
  std::string value;
  std::function<std::string(const Config&)> get;
  std::string want;
};

TEST(ConfigValidation, AcceptedValuesAreNormalised) {
  TempDir dir;
  std::string ca = dir.file("ca.pem");
  write_file(ca, "-----BEGIN CERTIFICATE-----\n");
  auto port = [](const Config& c) { return std::to_string(c.port); };
  auto listen = [](const Config& c) { return c.listen; };
  auto up = [](const Config& c) { return c.upstream.host + "|" + std::to_string(c.upstream.port); };
  auto ct = [](const Config& c) { return c.connect_to->host + "|" + std::to_string(c.connect_to->port); };
  auto num = [](auto member) {
    return [member](const Config& c) { return std::to_string(c.*member); };
  };
  auto fmt = [](const Config& c) { return std::string(c.log_format == LogFormat::json ? "json" : "text"); };
  auto lvl = [](const Config& c) { return c.log_level; };
  std::vector<GoodRow> rows{
      {"port", "0", port, "0"},
      {"port", "65535", port, "65535"},
      {"port", "08080", port, "8080"},
      {"listen", "localhost", listen, "127.0.0.1"},
      {"listen", "LocalHost", listen, "127.0.0.1"},
      {"listen", "0.0.0.0", listen, "0.0.0.0"},
      {"listen", "::1", listen, "::1"},
      {"listen", "[::1]", listen, "::1"},
      {"listen", "::", listen, "::"},
      {"upstream", "https://vault.raxx.app", up, "vault.raxx.app|443"},
      {"upstream", "https://vault.raxx.app/", up, "vault.raxx.app|443"},
      {"upstream", "HTTPS://Vault.Raxx.APP:8443", up, "vault.raxx.app|8443"},
      {"upstream", "https://[::1]:8443", up, "::1|8443"},
      {"upstream", "https://[::1]/", up, "::1|443"},
      {"upstream", "https://127.0.0.1:1", up, "127.0.0.1|1"},
      {"upstream", "https://my_host.internal", up, "my_host.internal|443"},
      {"connect_to", "127.0.0.1:8443", ct, "127.0.0.1|8443"},
      {"connect_to", "[::1]:443", ct, "::1|443"},
      {"connect_to", "Backend.Internal:65535", ct, "backend.internal|65535"},
      {"ca_file", ca, [](const Config& c) { return *c.ca_file; }, ca},
      {"user_agent", "my agent/2 (x; y)", [](const Config& c) { return c.user_agent; }, "my agent/2 (x; y)"},
      {"threads", "0", num(&Config::threads), "0"},
      {"threads", "256", num(&Config::threads), "256"},
      {"pool_size", "0", num(&Config::pool_size), "0"},
      {"pool_size", "100000", num(&Config::pool_size), "100000"},
      {"max_connections", "1", num(&Config::max_connections), "1"},
      {"max_connections", "1000000", num(&Config::max_connections), "1000000"},
      {"log_format", "json", fmt, "json"},
      {"log_format", "text", fmt, "text"},
      {"pid_file", "/run/vp.pid", [](const Config& c) { return *c.pid_file; }, "/run/vp.pid"},
      {"unix_socket", "/run/vp.sock", [](const Config& c) { return *c.unix_socket; }, "/run/vp.sock"},
      {"unix_socket_mode", "0660", num(&Config::unix_socket_mode), std::to_string(0660)},
      {"unix_socket_mode", "600", num(&Config::unix_socket_mode), std::to_string(0600)},
      {"capability", "true", num(&Config::capability), "1"},
      {"capability", "on", num(&Config::capability), "1"},
      {"capability", "0", num(&Config::capability), "0"},
      {"capability_file", "/run/vp.cap", [](const Config& c) { return *c.capability_file; }, "/run/vp.cap"},
      {"allowed_hosts", " a.internal , b.internal,,",
       [](const Config& c) {
         std::string out;
         for (const auto& h : c.allowed_hosts) out += h + "|";
         return out;
       },
       "a.internal|b.internal|"},
  };
  for (std::string level : {"trace", "debug", "info", "warn", "error", "critical", "off"})
    rows.push_back({"log_level", level, lvl, level});
  for (const auto& row : rows) {
    SCOPED_TRACE("value: " + row.value);
    Flags flags;
    flags.values[row.flag] = row.value;
    auto r = load_flags(flags);
    ASSERT_TRUE(r.config) << all_text(r.issues);
    EXPECT_EQ(row.get(*r.config), row.want);
  }
}

TEST(ConfigValidation, UnreadableCaFileIsAnIssue) {
  TempDir dir;
  std::string ca = dir.file("ca.pem");
  write_file(ca, "pem", 0000);
  if (::access(ca.c_str(), R_OK) == 0) GTEST_SKIP() << "running with CAP_DAC_OVERRIDE (root)";
  Flags flags;
  flags.values["ca_file"] = ca;
  auto r = load_flags(flags);
  ASSERT_EQ(r.issues.size(), 1u);
  EXPECT_EQ(r.issues[0].field, ca_f);
  EXPECT_NE(r.issues[0].problem.find("Permission denied"), std::string::npos);
}

TEST(ConfigValidation, EmptyCaFileIsAnIssue) {
  TempDir dir;
  Flags flags;
  flags.values["ca_file"] = dir.file("empty.pem");
  write_file(flags.values["ca_file"], "");
  auto r = load_flags(flags);
  ASSERT_EQ(r.issues.size(), 1u);
  EXPECT_EQ(r.issues[0].field, ca_f);
  EXPECT_NE(r.issues[0].problem.find("is empty"), std::string::npos);
}

TEST(ConfigValidation, EveryIssueIsReportedTogether) {
  TempDir dir;
  Flags flags;
  flags.config_file = toml_file(dir,
                                "ready_probe_path = \"api/status\"\n"
                                "ready_cache_ms = 0\n"
                                "[timeouts]\n"
                                "connect_ms = 0\n"
                                "shutdown_grace_ms = -5\n");
  flags.values["port"] = "70000";
  flags.values["upstream"] = "http://vault.raxx.app";
  flags.values["log_format"] = "yaml";
  auto r = load_flags(flags, {{"VAULT_PROXY_THREADS", "999"},
                              {"VAULT_PROXY_LISTEN", "nowhere"},
                              {"VAULT_PROXY_CONNECT_TO", "x"},
                              {"VAULT_PROXY_CA_FILE", dir.file("missing.pem")},
                              {"VAULT_PROXY_USER_AGENT", ""},
                              {"VAULT_PROXY_POOL_SIZE", "-1"},
                              {"VAULT_PROXY_MAX_CONNECTIONS", "0"},
                              {"VAULT_PROXY_LOG_LEVEL", "loud"}});
  EXPECT_FALSE(r.config);
  std::vector<std::string> fields;
  for (const auto& i : r.issues) fields.push_back(i.field);
  std::vector<std::string> want{listen_f,
                                port_f,
                                upstream_f,
                                connect_f,
                                ca_f,
                                ua_f,
                                threads_f,
                                pool_f,
                                maxc_f,
                                lf_f,
                                ll_f,
                                "ready_probe_path (TOML file only)",
                                "ready_cache_ms (TOML file only)",
                                "timeouts.connect_ms (TOML file only)",
                                "timeouts.shutdown_grace_ms (TOML file only)"};
  EXPECT_EQ(fields, want) << all_text(r.issues);
}

// ---------------------------------------------------------------------------------------------------
// The TOML file

TEST(ConfigToml, EveryKeyIsRead) {
  TempDir dir;
  std::string ca = dir.file("ca.pem");
  write_file(ca, "pem");
  Flags flags;
  flags.config_file = toml_file(dir, "listen = \"::1\"\n"
                                     "port = 0\n"
                                     "upstream = \"https://up.example:9443/\"\n"
                                     "connect_to = \"[::1]:9443\"\n"
                                     "ca_file = \"" + ca + "\"\n"
                                     "user_agent = \"ua/9\"\n"
                                     "threads = 4\n"
                                     "pool_size = 7\n"
                                     "max_connections = 99\n"
                                     "log_format = \"json\"\n"
                                     "log_level = \"trace\"\n"
                                     "access_log = false\n"
                                     "pid_file = \"/run/x.pid\"\n"
                                     "ready_probe_path = \"/v1/sys/health?standbyok=true\"\n"
                                     "ready_cache_ms = 2500\n"
                                     "[timeouts]\n"
                                     "connect_ms = 1\n"
                                     "tls_handshake_ms = 2\n"
                                     "request_header_ms = 3\n"
                                     "upstream_header_ms = 4\n"
                                     "idle_keepalive_ms = 5\n"
                                     "body_inactivity_ms = 6\n"
                                     "upstream_idle_ms = 7\n"
                                     "shutdown_grace_ms = 86400000\n");
  auto r = load_flags(flags);
  ASSERT_TRUE(r.config) << all_text(r.issues);
  const Config& c = *r.config;
  EXPECT_EQ(c.listen, "::1");
  EXPECT_EQ(c.port, 0);
  EXPECT_EQ(c.upstream.host, "up.example");
  EXPECT_EQ(c.upstream.port, 9443);
  ASSERT_TRUE(c.connect_to);
  EXPECT_EQ(c.connect_to->host, "::1");
  EXPECT_EQ(c.connect_to->port, 9443);
  EXPECT_EQ(c.ca_file, ca);
  EXPECT_EQ(c.user_agent, "ua/9");
  EXPECT_EQ(c.threads, 4u);
  EXPECT_EQ(c.pool_size, 7u);
  EXPECT_EQ(c.max_connections, 99u);
  EXPECT_EQ(c.log_format, LogFormat::json);
  EXPECT_EQ(c.log_level, "trace");
  EXPECT_FALSE(c.access_log);
  EXPECT_EQ(c.pid_file, "/run/x.pid");
  EXPECT_EQ(c.ready_probe_path, "/v1/sys/health?standbyok=true");
  EXPECT_EQ(c.ready_cache.count(), 2500);
  EXPECT_EQ(c.timeouts.connect.count(), 1);
  EXPECT_EQ(c.timeouts.tls_handshake.count(), 2);
  EXPECT_EQ(c.timeouts.request_header.count(), 3);
  EXPECT_EQ(c.timeouts.upstream_header.count(), 4);
  EXPECT_EQ(c.timeouts.idle_keepalive.count(), 5);
  EXPECT_EQ(c.timeouts.body_inactivity.count(), 6);
  EXPECT_EQ(c.timeouts.upstream_idle.count(), 7);
  EXPECT_EQ(c.timeouts.shutdown_grace.count(), 86'400'000);
  EXPECT_EQ(c.config_file, flags.config_file);
}

TEST(ConfigToml, BadTomlValuesAreIssuesWithLine) {
  struct Row {
    std::string toml, field, problem_has;
  };
  std::vector<Row> rows{
      {"port = 70000", port_f, "'70000' is not a port number (from port in "},
      {"port = -1", port_f, "'-1'"},
      {"port = \"2019\"", port_f, "expected an integer, found a string"},
      {"port = 20.19", port_f, "found a floating-point number"},
      {"listen = 127", listen_f, "expected a string, found an integer"},
      {"listen = \"127.0.0.1\\u0000junk\"", listen_f, "not an IP address"},
      {"upstream = [\"https://a\"]", upstream_f, "found an array"},
      {"access_log = \"yes\"", "access_log (VAULT_PROXY_ACCESS_LOG / access_log)", "expected true or false"},
      {"access_log = 1", "access_log (VAULT_PROXY_ACCESS_LOG / access_log)", "found an integer"},
      {"ready_probe_path = \"\"", "ready_probe_path (TOML file only)", "not an absolute request path"},
      {"ready_probe_path = \"/a b\"", "ready_probe_path (TOML file only)", "not an absolute request path"},
      {"ready_probe_path = \"http://x/\"", "ready_probe_path (TOML file only)", "not an absolute"},
      {"ready_cache_ms = 0", "ready_cache_ms (TOML file only)", "'0' is not a duration"},
      {"pid_file = \"/run/a\\u0000b\"", pid_f, "control character"},
      {"timeouts = 5", "timeouts (TOML file only)", "expected a table, found an integer"},
      {"[timeouts]\nconnect_ms = 0", "timeouts.connect_ms (TOML file only)", "'0' is not a duration"},
      {"[timeouts]\nidle_keepalive_ms = 86400001", "timeouts.idle_keepalive_ms (TOML file only)", "'86400001'"},
      {"[timeouts]\nupstream_idle_ms = -1", "timeouts.upstream_idle_ms (TOML file only)", "'-1'"},
      {"[timeouts]\ntls_handshake_ms = \"5s\"", "timeouts.tls_handshake_ms (TOML file only)", "expected an integer"},
      {"timeouts.body_inactivity_ms = 1.5", "timeouts.body_inactivity_ms (TOML file only)", "floating-point"},
  };
  TempDir dir;
  for (const auto& row : rows) {
    SCOPED_TRACE(row.toml);
    Flags flags;
    flags.config_file = toml_file(dir, "# comment\n" + row.toml + "\n");
    auto r = load_flags(flags);
    EXPECT_FALSE(r.config);
    ASSERT_EQ(r.issues.size(), 1u) << all_text(r.issues);
    EXPECT_EQ(r.issues[0].field, row.field);
    EXPECT_NE(r.issues[0].problem.find(row.problem_has), std::string::npos) << r.issues[0].problem;
    EXPECT_FALSE(r.issues[0].fix.empty());
  }
}

TEST(ConfigToml, ProblemPointsAtFileAndLine) {
  TempDir dir;
  Flags flags;
  flags.config_file = toml_file(dir, "\n\nport = 70000\n");
  auto r = load_flags(flags);
  ASSERT_EQ(r.issues.size(), 1u);
  EXPECT_NE(r.issues[0].problem.find("port in " + *flags.config_file + " line 3"), std::string::npos)
      << r.issues[0].problem;
}

TEST(ConfigToml, UnknownKeysAreNamedWithTheKnownOnes) {
  struct Row {
    std::string toml, field, fix_has;
  };
  std::vector<Row> rows{
      {"prot = 1", "'prot' (TOML file)", "did you mean port?"},
      {"Listen = \"::1\"", "'Listen' (TOML file)", "did you mean listen?"},
      {"upstream_url = \"https://x\"", "'upstream_url' (TOML file)", "known keys at the top level: listen, port"},
      {"[timeouts]\nconect_ms = 5", "'timeouts.conect_ms' (TOML file)", "did you mean connect_ms?"},
      {"[timeouts]\nconnect = 5", "'timeouts.connect' (TOML file)", "known keys in [timeouts]: connect_ms"},
      {"[timeout]\nconnect_ms = 5", "'timeout' (TOML file)", "did you mean [timeouts]?"},
      {"[tls]\nverify = false", "'tls' (TOML file)", "[timeouts]"},
      {"\"we\\u001bird\" = 1", "'we\\x1bird' (TOML file)", "remove it"},
  };
  TempDir dir;
  for (const auto& row : rows) {
    SCOPED_TRACE(row.toml);
    Flags flags;
    flags.config_file = toml_file(dir, row.toml + "\n");
    auto r = load_flags(flags);
    EXPECT_FALSE(r.config);
    ASSERT_EQ(r.issues.size(), 1u) << all_text(r.issues);
    EXPECT_EQ(r.issues[0].field, row.field);
    EXPECT_NE(r.issues[0].problem.find("unknown key"), std::string::npos);
    EXPECT_NE(r.issues[0].fix.find(row.fix_has), std::string::npos) << r.issues[0].fix;
  }
}

TEST(ConfigToml, UnknownKeyFixListsEveryKnownKey) {
  TempDir dir;
  Flags flags;
  flags.config_file = toml_file(dir, "zzz = 1\n");
  auto r = load_flags(flags);
  ASSERT_EQ(r.issues.size(), 1u);
  for (std::string key : {"listen", "port", "upstream", "connect_to", "ca_file", "user_agent", "threads",
                          "pool_size", "max_connections", "log_format", "log_level", "access_log", "pid_file",
                          "ready_probe_path", "ready_cache_ms", "[timeouts]"})
    EXPECT_NE(r.issues[0].fix.find(key), std::string::npos) << key;
  EXPECT_EQ(r.issues[0].fix.find("did you mean"), std::string::npos);
}

TEST(ConfigToml, SecretKeysAreRefusedWithoutEchoingTheValue) {
  const std::string secret = "Zq7-very-SECRET-bytes-9d1";
  struct Row {
    std::string toml, field;
  };
  std::vector<Row> rows{
      {"cf_access_client_secret = \"" + secret + "\"", "'cf_access_client_secret' (TOML file)"},
      {"cf_access_client_id = \"" + secret + "\"", "'cf_access_client_id' (TOML file)"},
      {"CF_ACCESS_CLIENT_SECRET = \"" + secret + "\"", "'CF_ACCESS_CLIENT_SECRET' (TOML file)"},
      {"my_Secret_thing = \"" + secret + "\"", "'my_Secret_thing' (TOML file)"},
      {"api_token = \"" + secret + "\"", "'api_token' (TOML file)"},
      {"password = \"" + secret + "\"", "'password' (TOML file)"},
      {"[timeouts]\nclient_secret = \"" + secret + "\"", "'timeouts.client_secret' (TOML file)"},
      {"[auth]\nsecret = \"" + secret + "\"", "'auth.secret' (TOML file)"},
      {"[[creds]]\ntoken = \"" + secret + "\"", "'creds[0].token' (TOML file)"},
      {"[secrets]\nid = \"" + secret + "\"", "'secrets' (TOML file)"},
  };
  TempDir dir;
  for (const auto& row : rows) {
    SCOPED_TRACE(row.field);
    Flags flags;
    flags.config_file = toml_file(dir, row.toml + "\n");
    auto r = load_flags(flags);
    EXPECT_FALSE(r.config);
    ASSERT_FALSE(r.issues.empty());
    bool found = false;
    for (const auto& i : r.issues) {
      if (i.field != row.field) continue;
      found = true;
      EXPECT_NE(i.problem.find("value not shown"), std::string::npos);
      EXPECT_NE(i.fix.find("CF_ACCESS_CLIENT_SECRET_FILE"), std::string::npos);
      EXPECT_NE(i.fix.find("$CREDENTIALS_DIRECTORY"), std::string::npos);
    }
    EXPECT_TRUE(found) << all_text(r.issues);
    std::string text = all_text(r.issues);
    EXPECT_EQ(text.find(secret), std::string::npos) << text;
    EXPECT_EQ(text.find("Zq7"), std::string::npos) << text;
  }
}

TEST(ConfigToml, SecretKeyDoesNotHideOtherIssues) {
  TempDir dir;
  Flags flags;
  flags.config_file = toml_file(dir, "cf_access_client_secret = \"s3cr3t\"\nport = 70000\n");
  auto r = load_flags(flags);
  ASSERT_EQ(r.issues.size(), 2u) << all_text(r.issues);
  EXPECT_EQ(r.issues[0].field, "'cf_access_client_secret' (TOML file)");
  EXPECT_EQ(r.issues[1].field, port_f);
  EXPECT_EQ(all_text(r.issues).find("s3cr3t"), std::string::npos);
}

TEST(ConfigToml, SyntaxErrorGivesLineAndColumn) {
  TempDir dir;
  Flags flags;
  flags.config_file = toml_file(dir, "port = 1\nlisten = \n");
  auto r = load_flags(flags);
  EXPECT_FALSE(r.config);
  ASSERT_EQ(r.issues.size(), 1u);
  EXPECT_EQ(r.issues[0].field, "config file (--config / VAULT_PROXY_CONFIG)");
  EXPECT_NE(r.issues[0].problem.find("not valid TOML at line 2, column"), std::string::npos)
      << r.issues[0].problem;
  EXPECT_NE(r.issues[0].problem.find(*flags.config_file), std::string::npos);
  EXPECT_NE(r.issues[0].problem.find("(from --config)"), std::string::npos);
}

TEST(ConfigToml, SyntaxErrorNearASecretWithholdsTheParserMessage) {
  // toml++ quotes the text it failed on ("'<digits>' is not representable"); that text could be a secret.
  const std::string secret = "918273645546372819283746";
  TempDir dir;
  for (std::string body : {"cf_access_client_secret = " + secret + "\n",
                           "cf_access_client_secret = \"" + secret + "\\q\"\n", "token = " + secret + "\n"}) {
    SCOPED_TRACE(body);
    Flags flags;
    flags.config_file = toml_file(dir, body);
    auto r = load_flags(flags);
    ASSERT_EQ(r.issues.size(), 1u);
    std::string text = all_text(r.issues);
    EXPECT_NE(text.find("line 1, column"), std::string::npos) << text;
    EXPECT_NE(text.find("parser message withheld"), std::string::npos) << text;
    EXPECT_EQ(text.find(secret.substr(0, 6)), std::string::npos) << text;
  }
}

TEST(ConfigToml, SecretWordInACommentKeepsTheParserMessage) {
  TempDir dir;
  Flags flags;
  flags.config_file = toml_file(dir, "# never put a secret or token here\nport = 99999999999999999999999\n");
  auto r = load_flags(flags);
  ASSERT_EQ(r.issues.size(), 1u);
  EXPECT_NE(r.issues[0].problem.find("line 2, column"), std::string::npos) << r.issues[0].problem;
  EXPECT_NE(r.issues[0].problem.find("not representable"), std::string::npos) << r.issues[0].problem;
}

TEST(ConfigToml, DuplicateKeyIsASyntaxError) {
  TempDir dir;
  Flags flags;
  flags.config_file = toml_file(dir, "port = 1\nport = 2\n");
  auto r = load_flags(flags);
  ASSERT_EQ(r.issues.size(), 1u);
  EXPECT_NE(r.issues[0].problem.find("line 2"), std::string::npos);
  EXPECT_NE(r.issues[0].problem.find("port"), std::string::npos);
}

TEST(ConfigToml, FileThatCannotBeReadIsNeverSkipped) {
  TempDir dir;
  std::string fifo = dir.file("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string big = dir.file("big.toml");
  write_file(big, "# " + std::string(2 << 20, 'x') + "\n");
  struct Row {
    std::string path, problem_has;
  };
  for (const auto& row : {Row{dir.file("missing.toml"), "No such file or directory"},
                          Row{dir.path(), "is a directory"}, Row{fifo, "not a regular file"},
                          Row{big, "larger than 1 MiB"}, Row{"", "is empty"}}) {
    SCOPED_TRACE(row.path);
    for (bool via_env : {false, true}) {
      Flags flags;
      std::map<std::string, std::string> env;
      if (via_env)
        env["VAULT_PROXY_CONFIG"] = row.path;
      else
        flags.config_file = row.path;
      auto r = load_flags(flags, env);
      EXPECT_FALSE(r.config);
      ASSERT_EQ(r.issues.size(), 1u) << all_text(r.issues);
      EXPECT_EQ(r.issues[0].field, "config file (--config / VAULT_PROXY_CONFIG)");
      EXPECT_NE(r.issues[0].problem.find(row.problem_has), std::string::npos) << r.issues[0].problem;
      EXPECT_NE(r.issues[0].problem.find(via_env ? "VAULT_PROXY_CONFIG" : "--config"), std::string::npos);
    }
  }
}

TEST(ConfigToml, UnreadableFileIsAnIssue) {
  TempDir dir;
  std::string path = toml_file(dir, "port = 1\n");
  ::chmod(path.c_str(), 0000);
  if (::access(path.c_str(), R_OK) == 0) GTEST_SKIP() << "running with CAP_DAC_OVERRIDE (root)";
  Flags flags;
  flags.config_file = path;
  auto r = load_flags(flags);
  ASSERT_EQ(r.issues.size(), 1u);
  EXPECT_NE(r.issues[0].problem.find("Permission denied"), std::string::npos);
}

TEST(ConfigToml, FileIssueDoesNotHideFlagIssues) {
  Flags flags;
  flags.config_file = "/nonexistent/vault-proxy.toml";
  flags.values["port"] = "x";
  auto r = load_flags(flags);
  ASSERT_EQ(r.issues.size(), 2u) << all_text(r.issues);
  EXPECT_EQ(r.issues[0].field, "config file (--config / VAULT_PROXY_CONFIG)");
  EXPECT_EQ(r.issues[1].field, port_f);
}

TEST(ConfigToml, EmptyFileGivesDefaults) {
  TempDir dir;
  Flags flags;
  flags.config_file = toml_file(dir, "");
  auto r = load_flags(flags);
  ASSERT_TRUE(r.config) << all_text(r.issues);
  EXPECT_EQ(r.config->port, 2019);
  EXPECT_EQ(r.config->config_file, flags.config_file);
}

// ---------------------------------------------------------------------------------------------------
// The example file and the docs stay in step with the code

std::string slurp(const std::string& path) { return test::read_file(path); }

TEST(ConfigExample, LoadsCleanlyAndStatesTheDefaults) {
  Flags flags;
  flags.config_file = VP_SOURCE_DIR "/examples/vault-proxy.toml";
  auto r = load_flags(flags);
  ASSERT_TRUE(r.config) << format_issues(r.issues);
  const Config& c = *r.config;
  const Config d;
  EXPECT_EQ(c.listen, d.listen);
  EXPECT_EQ(c.port, d.port);
  EXPECT_EQ(c.upstream.url(), d.upstream.url());
  EXPECT_EQ(c.user_agent, d.user_agent);
  EXPECT_EQ(c.threads, d.threads);
  EXPECT_EQ(c.pool_size, d.pool_size);
  EXPECT_EQ(c.max_connections, d.max_connections);
  EXPECT_EQ(c.log_format, d.log_format);
  EXPECT_EQ(c.log_level, d.log_level);
  EXPECT_EQ(c.access_log, d.access_log);
  EXPECT_EQ(c.ready_probe_path, d.ready_probe_path);
  EXPECT_EQ(c.ready_cache, d.ready_cache);
  EXPECT_EQ(c.timeouts.connect, d.timeouts.connect);
  EXPECT_EQ(c.timeouts.tls_handshake, d.timeouts.tls_handshake);
  EXPECT_EQ(c.timeouts.request_header, d.timeouts.request_header);
  EXPECT_EQ(c.timeouts.upstream_header, d.timeouts.upstream_header);
  EXPECT_EQ(c.timeouts.idle_keepalive, d.timeouts.idle_keepalive);
  EXPECT_EQ(c.timeouts.body_inactivity, d.timeouts.body_inactivity);
  EXPECT_EQ(c.timeouts.upstream_idle, d.timeouts.upstream_idle);
  EXPECT_EQ(c.timeouts.shutdown_grace, d.timeouts.shutdown_grace);
}

TEST(ConfigExample, CommentedOutSettingsAreValidWhenEnabled) {
  // The example shows optional settings as "# key = value"; enabling them must not produce an error.
  std::string example = slurp(VP_SOURCE_DIR "/examples/vault-proxy.toml");
  ASSERT_FALSE(example.empty());
  TempDir dir;
  std::string ca = dir.file("ca.pem");
  write_file(ca, "-----BEGIN CERTIFICATE-----\n");
  std::string out;
  int enabled = 0;
  std::size_t pos = 0;
  while (pos < example.size()) {
    std::size_t eol = example.find('\n', pos);
    if (eol == std::string::npos) eol = example.size();
    std::string line = example.substr(pos, eol - pos);
    pos = eol + 1;
    auto eq = line.find(" = ");
    bool is_setting = line.rfind("# ", 0) == 0 && eq != std::string::npos &&
                      line.find_first_not_of("abcdefghijklmnopqrstuvwxyz_", 2) == eq;
    if (is_setting) {
      line = line.substr(2);
      if (line.rfind("ca_file = ", 0) == 0) line = "ca_file = \"" + ca + "\"";
      ++enabled;
    }
    out += line + "\n";
  }
  EXPECT_GE(enabled, 3);
  Flags flags;
  flags.config_file = toml_file(dir, out);
  auto r = load_flags(flags);
  ASSERT_TRUE(r.config) << format_issues(r.issues) << "\n" << out;
  ASSERT_TRUE(r.config->connect_to);
  EXPECT_EQ(r.config->ca_file, ca);
  EXPECT_TRUE(r.config->pid_file);
}

TEST(ConfigExample, MentionsEveryKeyAndTheDocsEveryEnvVariable) {
  std::string example = slurp(VP_SOURCE_DIR "/examples/vault-proxy.toml");
  std::string docs = slurp(VP_SOURCE_DIR "/docs/configuration.md");
  ASSERT_FALSE(example.empty());
  ASSERT_FALSE(docs.empty());
  for (std::string key : {"listen", "port", "upstream", "connect_to", "ca_file", "user_agent", "threads",
                          "pool_size", "max_connections", "log_format", "log_level", "access_log", "pid_file",
                          "ready_probe_path", "ready_cache_ms", "[timeouts]", "connect_ms", "tls_handshake_ms",
                          "request_header_ms", "upstream_header_ms", "idle_keepalive_ms", "body_inactivity_ms",
                          "upstream_idle_ms", "shutdown_grace_ms"}) {
    EXPECT_NE(example.find(key), std::string::npos) << key;
    EXPECT_NE(docs.find(key), std::string::npos) << key;
  }
  for (std::string var : {"VAULT_PROXY_LISTEN", "VAULT_PROXY_PORT", "VAULT_PROXY_UPSTREAM",
                          "VAULT_PROXY_CONNECT_TO", "VAULT_PROXY_CA_FILE", "VAULT_PROXY_USER_AGENT",
                          "VAULT_PROXY_THREADS", "VAULT_PROXY_POOL_SIZE", "VAULT_PROXY_MAX_CONNECTIONS",
                          "VAULT_PROXY_LOG_FORMAT", "VAULT_PROXY_LOG_LEVEL", "VAULT_PROXY_PID_FILE",
                          "VAULT_PROXY_ACCESS_LOG", "VAULT_PROXY_CONFIG", "CF_ACCESS_CLIENT_ID", "CF_ACCESS_CLIENT_SECRET",
                          "CF_ACCESS_CLIENT_ID_FILE", "CF_ACCESS_CLIENT_SECRET_FILE", "CREDENTIALS_DIRECTORY"})
    EXPECT_NE(docs.find(var), std::string::npos) << var;
}

// ---------------------------------------------------------------------------------------------------
// Upstream parsing and rendering

TEST(ConfigUpstream, HostHeaderAndUrl) {
  struct Row {
    Upstream up;
    std::string host_header, url;
  };
  for (const auto& row : {Row{{"vault.raxx.app", 443}, "vault.raxx.app", "https://vault.raxx.app"},
                          Row{{"vault.raxx.app", 8443}, "vault.raxx.app:8443", "https://vault.raxx.app:8443"},
                          Row{{"::1", 443}, "[::1]", "https://[::1]"},
                          Row{{"2001:db8::1", 80}, "[2001:db8::1]:80", "https://[2001:db8::1]:80"},
                          Row{{"127.0.0.1", 1}, "127.0.0.1:1", "https://127.0.0.1:1"}}) {
    EXPECT_EQ(row.up.host_header(), row.host_header);
    EXPECT_EQ(row.up.url(), row.url);
  }
}

TEST(ConfigUpstream, ParseRoundTripsThroughUrl) {
  for (std::string url : {"https://vault.raxx.app", "https://vault.raxx.app:8443", "https://[::1]",
                          "https://[2001:db8::1]:9000", "https://10.1.2.3:1"}) {
    std::string problem;
    auto up = parse_upstream(url, problem);
    ASSERT_TRUE(up) << url << ": " << problem;
    EXPECT_TRUE(problem.empty());
    EXPECT_EQ(up->url(), url);
  }
}

TEST(ConfigUpstream, UserinfoIsRefusedWithoutShowingThePassword) {
  for (std::string url : {"https://user:hunter2pw@vault.raxx.app", "https://hunter2pw@vault.raxx.app/",
                          "http://user:hunter2pw@vault.raxx.app", "user:hunter2pw@vault.raxx.app",
                          "https://user:hunter2pw@[::1]:443", "https://u:hunter2pw\x01@vault.raxx.app"}) {
    SCOPED_TRACE(url);
    std::string problem;
    EXPECT_FALSE(parse_upstream(url, problem));
    EXPECT_NE(problem.find("user:password@"), std::string::npos) << problem;
    EXPECT_EQ(problem.find("hunter2pw"), std::string::npos) << problem;

    Flags flags;
    flags.values["upstream"] = url;
    auto r = load_flags(flags);
    ASSERT_EQ(r.issues.size(), 1u);
    EXPECT_EQ(all_text(r.issues).find("hunter2pw"), std::string::npos) << all_text(r.issues);
  }
}

TEST(ConfigUpstream, AtSignInPathIsAPathProblemNotUserinfo) {
  std::string problem;
  EXPECT_FALSE(parse_upstream("https://vault.raxx.app/@x", problem));
  EXPECT_NE(problem.find("path"), std::string::npos) << problem;
}

// ---------------------------------------------------------------------------------------------------
// Rendering and environments

TEST(ConfigFormat, OneBlockPerIssue) {
  std::vector<Issue> issues{{"port (--port / VAULT_PROXY_PORT / port)", "'70000' is not a port number",
                             "use a whole number from 0 to 65535"},
                            {"log_format (--log-format)", "'xml' is not a log format", "use text or json"}};
  EXPECT_EQ(format_issues(issues),
            "  - port (--port / VAULT_PROXY_PORT / port): '70000' is not a port number\n"
            "    fix: use a whole number from 0 to 65535\n"
            "  - log_format (--log-format): 'xml' is not a log format\n"
            "    fix: use text or json\n");
  EXPECT_EQ(format_issues({}), "");
}

TEST(ConfigEnv, MapEnvReturnsOnlyWhatItHolds) {
  Env env = map_env({{"A", "1"}, {"EMPTY", ""}});
  EXPECT_EQ(env("A"), "1");
  EXPECT_EQ(env("EMPTY"), "");
  EXPECT_FALSE(env("B"));
  EXPECT_FALSE(env("a"));
}

TEST(ConfigEnv, ProcessEnvReadsTheEnvironment) {
  ASSERT_EQ(::setenv("VP_CONFIG_TEST_VAR", "hello", 1), 0);
  Env env = process_env();
  EXPECT_EQ(env("VP_CONFIG_TEST_VAR"), "hello");
  ::unsetenv("VP_CONFIG_TEST_VAR");
  EXPECT_FALSE(env("VP_CONFIG_TEST_VAR"));
}

}  // namespace
}  // namespace vp::config
