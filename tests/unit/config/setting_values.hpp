#pragma once
// Test values for every row of the settings table, shared by the config tests and the CLI flags
// tests (a row missing here fails SettingsTable.EveryRowHasTestValuesAndUniqueNames).

#include "config/settings.hpp"
#include "support/temp_dir.hpp"

#include <map>
#include <string>

namespace vp::config::test_values {

/// Two distinct valid values, each exactly as show() prints it back, and one invalid value.
struct Values {
  std::string a, b, bad;
};

/// Test values for every row; a row missing here fails EveryRowHasTestValues.
inline std::map<std::string, Values, std::less<>> values_for(const vp::test::TempDir& dir) {
  std::string ca_a = dir.file("a.pem"), ca_b = dir.file("b.pem");
  for (const auto& p : {ca_a, ca_b}) vp::test::write_file(p, "-----BEGIN CERTIFICATE-----\n");
  std::map<std::string, Values, std::less<>> v{
      {"listen", {"::1", "10.0.0.2", "example.com"}},
      {"port", {"1001", "1002", "70000"}},
      {"upstream", {"https://a.example", "https://[::1]:8443", "http://vault.raxx.app"}},
      {"connect_to", {"a.example:1", "[::1]:2", "no-port"}},
      {"ca_file", {ca_a, ca_b, dir.file("missing.pem")}},
      {"user_agent", {"ua-a", "ua b/2", "ua\r\nX-Evil: 1"}},
      {"threads", {"1", "256", "257"}},
      {"pool_size", {"0", "12", "100001"}},
      {"max_connections", {"1", "22", "0"}},
      {"log_format", {"json", "text", "xml"}},
      {"log_level", {"debug", "critical", "loud"}},
      {"access_log", {"false", "true", "yes"}},
      {"pid_file", {"/run/a.pid", "/run/b.pid", ""}},
      {"ready_probe_path", {"/a", "/v1/sys/health?standbyok=true", "api/status"}},
      {"ready_cache_ms", {"1", "86400000", "0"}},
      {"unix_socket", {"/run/a.sock", "/run/b.sock", ""}},
      {"unix_socket_mode", {"0660", "0640", "0800"}},
      {"capability", {"true", "false", "maybe"}},
      {"capability_file", {"/run/a.cap", "/run/b.cap", ""}},
      {"allowed_hosts", {"a.internal", "b.internal,c.internal", "bad host"}},
      {"auto_auth", {"universal-auth", "off", "oauth"}},
      {"local_token_file", {"/run/a.token", "/run/b.token", ""}},
      {"policy", {"read-only", "/etc/vault-proxy/policy.toml", "readonly"}},
      {"unix_socket_policy", {"read-only", "./unix-policy.toml", "strict"}},
      {"audit_log", {"/run/a.jsonl", "off", ""}},
      {"audit_log_max_bytes", {"65536", "1073741824", "65535"}},
  };
  // Every [timeouts] row is made by the same timeout<> helper: a duration from 1 ms to 24 h.
  for (const auto& row : settings())
    if (row.key.substr(0, 9) == "timeouts.") v.emplace(std::string(row.key), Values{"1", "86400000", "0"});
  return v;
}

}  // namespace vp::config::test_values
