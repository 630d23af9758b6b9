#include "proxy/reload.hpp"

#include "core/redact.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace vp::proxy {

namespace {

std::string issues_text(const std::vector<config::Issue>& issues) {
  std::string out;
  for (const auto& i : issues) out += fmt::format("{}{}: {}", out.empty() ? "" : "; ", i.field, i.problem);
  return out;
}

std::string in_use(const core::ServiceToken* current, std::string_view noun) {
  if (current)
    return fmt::format("the {} in use (version {}, fingerprint {}) stays", noun, current->version,
                       current->fingerprint());
  return noun == service_token_noun ? "there is still no token: proxied requests get 503 credentials_missing"
                                    : fmt::format("there is still no {}", noun);
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

ReloadDecision decide_reload(const config::CredentialLoad& load, const core::ServiceToken* current, std::string_view noun) {
  const auto& names = noun == service_token_noun ? config::service_token_names() : config::identity_names();
  if (load.token) {
    if (current && current->fingerprint() == load.token->fingerprint() && current->source == load.token->source)
      return {ReloadAction::unchanged, fmt::format("the {} is unchanged (version {}, fingerprint {})", noun,
                                                   current->version, current->fingerprint())};
    return {ReloadAction::install, fmt::format("new {} from {} (fingerprint {})", noun, load.token->source,
                                               load.token->fingerprint())};
  }
  if (!load.issues.empty())
    return {ReloadAction::refused, fmt::format("the {} was not reloaded: {}; {}", noun, issues_text(load.issues),
                                               in_use(current, noun))};
  return {ReloadAction::nothing_configured,
          fmt::format("no credential file is configured (a value from the environment cannot change while the "
                      "proxy runs; use {} / {} or $CREDENTIALS_DIRECTORY to rotate without a restart); {}",
                      names.id.file_env, names.secret.file_env,
                      current ? fmt::format("the {} in use stays", noun) : fmt::format("there is still no {}", noun))};
}

CredentialReloader::CredentialReloader(config::Env file_env, Shared& shared)
    : env_(std::move(file_env)), shared_(shared), dirs_(config::credential_watch_dirs(env_)) {
  if (!shared_.auto_auth) return;
  for (auto& dir : config::credential_watch_dirs(env_, config::identity_names()))
    if (std::find(dirs_.begin(), dirs_.end(), dir) == dirs_.end()) dirs_.push_back(std::move(dir));
}

ReloadDecision CredentialReloader::reload(std::string_view trigger) {
  auto decision = reload_pair(trigger, config::service_token_names(), shared_.creds, service_token_noun);
  if (!shared_.auto_auth) return decision;
  auto identity = reload_pair(trigger, config::identity_names(), shared_.auto_auth->identity, identity_noun);
  // The keeper looks again: a new secret ends a lockout wait, and a login may be due.
  if (identity.action == ReloadAction::install) shared_.auto_auth->token.need();
  if (decision.action == ReloadAction::install) shared_.auto_auth->token.need();
  return decision;
}

ReloadDecision CredentialReloader::reload_pair(std::string_view trigger, const config::CredentialNames& names,
                                               core::CredentialStore& store, std::string_view noun) {
  auto load = config::load_credentials(env_, names);
  auto current = store.current();
  auto decision = decide_reload(load, current.get(), noun);
  auto& stats = shared_.reloads;
  if (decision.action == ReloadAction::install) {
    core::RedactionSet::global().add(load.token->client_id.reveal());
    core::RedactionSet::global().add(load.token->client_secret.reveal());
    load.token->loaded_at = std::chrono::system_clock::now();
    store.replace(std::move(*load.token));
    auto now = store.current();
    // The decision could not know the version the store gives the token.
    decision.message = fmt::format("{} version {} from {} (fingerprint {})", noun, now->version, now->source,
                                   now->fingerprint());
    stats.applied.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("{} (installed): {}", trigger, decision.message);
  } else if (decision.action == ReloadAction::refused) {
    stats.refused.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("{}: {}", trigger, decision.message);
  } else {
    spdlog::info("{}: {}", trigger, decision.message);
  }
  if (noun != service_token_noun) return decision;  // status shows the service token's reloads
  std::lock_guard lock(stats.mutex);
  stats.last_trigger = std::string(trigger);
  stats.last_outcome = std::string(reload_action_name(decision.action));
  stats.last_message = decision.message;
  stats.last_at = std::chrono::system_clock::now();
  return decision;
}

}  // namespace vp::proxy
