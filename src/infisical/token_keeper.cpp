#include "infisical/token_keeper.hpp"

#include "core/redact.hpp"
#include "infisical/client.hpp"
#include "net/tls.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace vp::infisical {

namespace {

using clock = std::chrono::steady_clock;
using core::TokenStep;

// One login or renew: connect, TLS, one exchange. The upstream's own timeouts bound it further.
constexpr std::chrono::seconds call_timeout{15};
// A token the upstream refused is replaced at most this often: a vault that refuses every token
// must not turn each request into a login.
constexpr std::chrono::seconds relogin_interval{10};

// A token whose answer gives no expiresIn is taken to last a day; a refusal replaces it sooner.
constexpr std::chrono::seconds unknown_ttl{86'400};

core::TokenTimes times_of(const LoginReply& r, clock::time_point now) {
  core::TokenTimes t;
  t.present = true;
  t.ttl = r.expires_in > 0 ? std::chrono::seconds(r.expires_in) : unknown_ttl;
  t.expires_at = now + t.ttl;
  if (r.max_ttl > 0) t.max_expires_at = now + std::chrono::seconds(r.max_ttl);
  return t;
}

// What went wrong with a call, for the log and ready: never a token.
std::string failure_text(const LoginReply& r) {
  if (!r.reply.ok()) return fmt::format("{} failed: {}", failure_name(r.reply.failure), r.reply.error);
  std::string diagnosis(core::diagnosis_name(r.reply.diagnosis()));
  return fmt::format("HTTP {}{}{}", r.reply.status, r.message.empty() ? "" : ": " + r.message,
                     diagnosis.empty() || diagnosis == "none" ? "" : " (" + diagnosis + ")");
}

}  // namespace

TokenKeeper::TokenKeeper(const config::Config& cfg, core::CredentialStore& service_token, net_token::AutoAuth& auth)
    : cfg_(cfg),
      service_token_(service_token),
      auth_(auth),
      tls_(net_tls::make_client_context(cfg.ca_file)),
      rng_(std::random_device{}()) {
  auth_.token.on_need([this] { wake(); });
}

TokenKeeper::~TokenKeeper() { stop(); }

void TokenKeeper::start() {
  net::co_spawn(ioc_, run(), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      spdlog::error("auto-auth: the token keeper stopped on an internal error: {}", x.what());
    }
  });
  thread_ = std::thread([this] { ioc_.run(); });
}

void TokenKeeper::stop() {
  // A call in flight is abandoned: its frame is destroyed with the io_context.
  ioc_.stop();
  if (thread_.joinable()) thread_.join();
}

void TokenKeeper::wake() {
  net::post(ioc_, [this] {
    woken_ = true;
    sleep_.cancel();
  });
}

void TokenKeeper::count(std::uint64_t net_token::KeeperStatus::*field) {
  auto s = auth_.token.status();
  ++(s.*field);
  auth_.token.set_status(std::move(s));
}

void TokenKeeper::set_state(std::string state, std::string reason, bool stalled) {
  auto s = auth_.token.status();
  s.state = std::move(state);
  s.reason = std::move(reason);
  s.stalled = stalled;
  auth_.token.set_status(std::move(s));
}

net_http::Endpoint TokenKeeper::endpoint() const {
  net_http::Endpoint e;
  e.scheme = net_http::Endpoint::Scheme::https;
  e.host = cfg_.upstream.host;
  e.port = cfg_.upstream.port;
  e.dial = cfg_.connect_to;
  e.tls = tls_;
  e.user_agent = cfg_.user_agent;
  e.service_token = service_token_.current();
  return e;
}

net::awaitable<void> TokenKeeper::sleep_until(clock::time_point t) {
  if (woken_) {
    woken_ = false;
    co_return;
  }
  sleep_.expires_at(t);
  co_await sleep_.async_wait(net::as_tuple(net::use_awaitable));
  woken_ = false;
}

net::awaitable<void> TokenKeeper::run() {
  for (;;) co_await step();
}

// One turn of the loop: what is missing, what core::next_token_step says, or a wait.
net::awaitable<void> TokenKeeper::step() {
  constexpr auto forever = clock::time_point::max();
  auto identity = auth_.identity.current();
  if (!identity) {
    set_state("no identity", "no machine identity credentials: set INFISICAL_MCP_CLIENT_ID and "
                             "INFISICAL_MCP_CLIENT_SECRET (or their _FILE variants, or $CREDENTIALS_DIRECTORY)",
              true);
    co_return co_await sleep_until(forever);
  }
  if (!service_token_.current()) {
    set_state("no service token", "the Cloudflare Access service token is not loaded yet", true);
    co_return co_await sleep_until(forever);
  }
  // A 401 at login: no more attempts with this secret; a new one (file change, SIGHUP) wakes us.
  if (identity->version == refused_identity_) co_return co_await sleep_until(forever);
  if (auto refused = auth_.token.take_refused(); refused != 0) refused_token_ = refused;
  auto token = auth_.token.current();
  if (refused_token_ != 0 && token && token->version == refused_token_) {
    // At most one such login per interval, so a vault that refuses every token is not hammered.
    if (clock::now() < last_refusal_login_ + relogin_interval)
      co_return co_await sleep_until(last_refusal_login_ + relogin_interval);
    spdlog::warn("auto-auth: the vault refused access token version {}; logging in again", refused_token_);
    auth_.token.drop(refused_token_);
    last_refusal_login_ = clock::now();
    token = nullptr;
  }
  refused_token_ = 0;
  const auto now = clock::now();
  auto next = core::next_token_step(token ? token->times : core::TokenTimes{}, now);
  if (next.kind == TokenStep::Kind::wait) {
    set_state("ready");
    co_return co_await sleep_until(next.at);
  }
  if (now < retry_at_) co_return co_await sleep_until(retry_at_);
  bool ok = false;
  if (next.kind == TokenStep::Kind::renew) ok = co_await renew(*token);
  // A failed renew of any kind means "log in again" (infisical-api.md §5).
  if (!ok && identity->version != refused_identity_) ok = co_await login(*identity);
  failures_ = ok ? 0 : failures_ + 1;
  if (!ok && identity->version != refused_identity_) {
    auto wait = core::backoff(failures_, std::uniform_real_distribution<double>(0.0, 1.0)(rng_));
    retry_at_ = clock::now() + wait;
    auto s = auth_.token.status();
    set_state("backing off", fmt::format("{}; next attempt in {} ms", s.reason, wait.count()));
  }
}

net::awaitable<bool> TokenKeeper::login(const core::ServiceToken& identity) {
  set_state("logging in", auth_.token.status().reason);
  count(&net_token::KeeperStatus::login_attempts);
  Client client(ioc_.get_executor(), endpoint());
  auto r = co_await client.login(identity.client_id, identity.client_secret, clock::now() + call_timeout);
  const auto now = clock::now();
  if (r.access_token && !r.access_token->empty()) {
    core::RedactionSet::global().add(r.access_token->reveal());
    auto times = times_of(r, now);
    auth_.token.install(std::move(*r.access_token), times);
    count(&net_token::KeeperStatus::logins);
    set_state("ready");
    spdlog::info("auto-auth: logged in (identity credentials version {}, fingerprint {}); token version {} "
                 "expires in {} s, max TTL {} s",
                 identity.version, identity.fingerprint(), auth_.token.current()->version, r.expires_in, r.max_ttl);
    co_return true;
  }
  count(&net_token::KeeperStatus::failures);
  if (r.reply.ok() && r.reply.status == 401) {
    refused_identity_ = identity.version;
    auto reason = fmt::format("the vault refused the identity's login ({}); no further attempt is made until the "
                              "client secret changes (Infisical locks an identity out after 3 wrong secrets)",
                              failure_text(r));
    set_state(r.locked ? "locked out" : "login refused", reason, true);
    spdlog::error("auto-auth: {}", reason);
    co_return false;
  }
  auto reason = "login failed: " + failure_text(r);
  set_state("login failed", reason);
  spdlog::warn("auto-auth: {}", reason);
  co_return false;
}

net::awaitable<bool> TokenKeeper::renew(const net_token::AccessToken& token) {
  set_state("renewing");
  count(&net_token::KeeperStatus::renew_attempts);
  Client client(ioc_.get_executor(), endpoint());
  auto r = co_await client.renew(token.value, clock::now() + call_timeout);
  const auto now = clock::now();
  // Infisical answers a renew with the same token; a different one is taken as a new login's.
  if (r.access_token) {
    auto times = times_of(r, now);
    times.max_expires_at = token.times.max_expires_at;  // the max TTL counts from the login, not the renew
    const bool same = r.access_token->reveal() == token.value.reveal();
    if (!same) core::RedactionSet::global().add(r.access_token->reveal());
    auth_.token.install(std::move(*r.access_token), times, same);
    count(&net_token::KeeperStatus::renews);
    set_state("ready");
    spdlog::info("auto-auth: renewed token version {}; it expires in {} s", token.version, r.expires_in);
    co_return true;
  }
  count(&net_token::KeeperStatus::failures);
  spdlog::warn("auto-auth: renew failed ({}); logging in again", failure_text(r));
  co_return false;
}

}  // namespace vp::infisical
