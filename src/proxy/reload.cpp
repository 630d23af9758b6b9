#include "proxy/reload.hpp"

#include "core/redact.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace vp::proxy {

namespace {

std::string issues_text(const std::vector<config::Issue>& issues) {
  std::string out;
  for (const auto& i : issues) out += fmt::format("{}{}: {}", out.empty() ? "" : "; ", i.field, i.problem);
  return out;
}

std::string in_use(const core::ServiceToken* current) {
  return current ? fmt::format("the token in use (version {}, fingerprint {}) stays", current->version,
                               current->fingerprint())
                 : std::string("there is still no token: proxied requests get 503 credentials_missing");
}

}  // namespace

std::string_view reload_action_name(ReloadAction a) noexcept {
  switch (a) {
    case ReloadAction::install: return "installed";
    case ReloadAction::unchanged: return "unchanged";
    case ReloadAction::refused: return "refused";
    case ReloadAction::nothing_configured: return "nothing configured";
  }
  return "?";
}

ReloadDecision decide_reload(const config::CredentialLoad& load, const core::ServiceToken* current) {
  if (load.token) {
    if (current && current->fingerprint() == load.token->fingerprint() && current->source == load.token->source)
      return {ReloadAction::unchanged, fmt::format("the service token is unchanged (version {}, fingerprint {})",
                                                   current->version, current->fingerprint())};
    return {ReloadAction::install, fmt::format("new service token from {} (fingerprint {})", load.token->source,
                                               load.token->fingerprint())};
  }
  if (!load.issues.empty())
    return {ReloadAction::refused,
            fmt::format("the service token was not reloaded: {}; {}", issues_text(load.issues), in_use(current))};
  return {ReloadAction::nothing_configured,
          fmt::format("no credential file is configured (a value from the environment cannot change while the "
                      "proxy runs; use CF_ACCESS_CLIENT_ID_FILE / _SECRET_FILE or $CREDENTIALS_DIRECTORY to "
                      "rotate without a restart); {}",
                      current ? "the token in use stays" : "there is still no token")};
}

CredentialReloader::CredentialReloader(config::Env file_env, Shared& shared)
    : env_(std::move(file_env)), shared_(shared), dirs_(config::credential_watch_dirs(env_)) {}

ReloadDecision CredentialReloader::reload(std::string_view trigger) {
  auto load = config::load_credentials(env_);
  auto current = shared_.creds.current();
  auto decision = decide_reload(load, current.get());
  auto& stats = shared_.reloads;
  if (decision.action == ReloadAction::install) {
    core::RedactionSet::global().add(load.token->client_id.reveal());
    core::RedactionSet::global().add(load.token->client_secret.reveal());
    load.token->loaded_at = std::chrono::system_clock::now();
    shared_.creds.replace(std::move(*load.token));
    auto now = shared_.creds.current();
    // The decision could not know the version the store gives the token.
    decision.message = fmt::format("service token version {} from {} (fingerprint {})", now->version, now->source,
                                   now->fingerprint());
    stats.applied.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("{} (installed): {}", trigger, decision.message);
  } else if (decision.action == ReloadAction::refused) {
    stats.refused.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("{}: {}", trigger, decision.message);
  } else {
    spdlog::info("{}: {}", trigger, decision.message);
  }
  std::lock_guard lock(stats.mutex);
  stats.last_trigger = std::string(trigger);
  stats.last_outcome = std::string(reload_action_name(decision.action));
  stats.last_message = decision.message;
  stats.last_at = std::chrono::system_clock::now();
  return decision;
}

}  // namespace vp::proxy
