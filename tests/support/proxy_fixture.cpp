#include "support/proxy_fixture.hpp"

#include "support/secrets.hpp"

#include <boost/asio.hpp>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>

namespace vp::test {

const Pki& shared_pki() {
  static const Pki pki(upstream_name);
  return pki;
}

void ProxyTest::start(ProxySetup setup) {
  dir_ = std::make_unique<TempDir>("vp-it-");
  client_id = random_token(16) + ".access";
  client_secret = random_token(32);

  std::string connect_to;
  if (setup.start_upstream) {
    FakeUpstream::Options o{setup.upstream_cert.value_or(shared_pki().valid)};
    o.store_body_limit = setup.store_body_limit;
    upstream_ = std::make_unique<FakeUpstream>(o, setup.handler);
    connect_to = upstream_->address();
  } else {
    dead_port_ = std::make_unique<ReservedPort>();
    connect_to = "127.0.0.1:" + std::to_string(dead_port_->port());
  }

  env_ = {
      {"VAULT_PROXY_UPSTREAM", std::string("https://") + upstream_name},
      {"VAULT_PROXY_CONNECT_TO", connect_to},
      {"VAULT_PROXY_CA_FILE", shared_pki().ca_pem},
      {"VAULT_PROXY_PORT", "0"},
      {"VAULT_PROXY_LISTEN", "127.0.0.1"},
      {"VAULT_PROXY_USER_AGENT", setup.user_agent},
  };
  if (setup.credentials) {
    env_["CF_ACCESS_CLIENT_ID"] = client_id;
    env_["CF_ACCESS_CLIENT_SECRET"] = client_secret;
  }
  if (!setup.toml.empty()) {
    std::string path = dir_->file("config.toml");
    write_file(path, setup.toml);
    env_["VAULT_PROXY_CONFIG"] = path;
  }
  for (auto& [k, v] : setup.env) env_[k] = v;

  ProxyProcess::Options po;
  po.env = env_;
  po.wait_ready = setup.wait_ready;
  po.launcher = setup.launcher;
  proxy_ = std::make_unique<ProxyProcess>(po);
}

std::string ProxyTest::redacted_stderr() const {
  if (!proxy_) return {};
  std::string s = proxy_->stderr_text();
  for (const std::string* secret : {&client_id, &client_secret}) {
    if (secret->empty()) continue;
    for (auto pos = s.find(*secret); pos != std::string::npos; pos = s.find(*secret, pos))
      s.replace(pos, secret->size(), "<redacted>");
  }
  return s;
}

void ProxyTest::expect_no_secrets_in_output() {
  if (!proxy_) return;
  const std::string err = proxy_->stderr_text();
  const std::string out = proxy_->stdout_text();
  EXPECT_TRUE(no_secret_in(err, client_secret, "proxy stderr")) << "(client secret)";
  EXPECT_TRUE(no_secret_in(out, client_secret, "proxy stdout")) << "(client secret)";
  EXPECT_TRUE(no_secret_in(err, client_id, "proxy stderr")) << "(client id)";
  EXPECT_TRUE(no_secret_in(out, client_id, "proxy stdout")) << "(client id)";
}

void ProxyTest::TearDown() {
  if (!proxy_) return;
  expect_no_secrets_in_output();
  if (!stopped_by_test_) {
    if (proxy_->running()) {
      proxy_->send_signal(SIGTERM);
      auto code = proxy_->wait_exit(std::chrono::seconds(15));
      EXPECT_TRUE(code.has_value()) << "proxy did not exit within 15 s of SIGTERM";
      if (code) {
        EXPECT_EQ(*code, 0) << "proxy exit code after SIGTERM";
      }
    } else {
      // It died on its own (a crash, a sanitizer report, an unexpected exit) during the test.
      auto code = proxy_->wait_exit(std::chrono::seconds(2));
      ADD_FAILURE() << "the proxy exited during the test, code " << (code ? std::to_string(*code) : "?");
    }
    expect_no_secrets_in_output();
  }
  if (HasFailure()) {
    std::string err = redacted_stderr();
    constexpr std::size_t tail = 6000;
    if (err.size() > tail) err = "...\n" + err.substr(err.size() - tail);
    std::fprintf(stderr, "---- proxy stderr (credentials masked) ----\n%s\n---- end proxy stderr ----\n",
                 err.c_str());
  }
  proxy_.reset();
  upstream_.reset();
  dead_port_.reset();
}

std::uint16_t unused_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

ReservedPort::ReservedPort() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int e = errno;
    ::close(fd_);
    throw std::runtime_error(std::string("bind 127.0.0.1:0: ") + std::strerror(e));
  }
  port_ = ntohs(addr.sin_port);
}

ReservedPort::~ReservedPort() {
  if (fd_ >= 0) ::close(fd_);
}

ErrorBody parse_error_body(const std::string& body) {
  ErrorBody e;
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return e;
  e.valid_json = true;
  if (j.contains("message") && j["message"].is_string()) e.message = j["message"].get<std::string>();
  if (j.contains("error") && j["error"].is_string()) e.error = j["error"].get<std::string>();
  return e;
}

}  // namespace vp::test
