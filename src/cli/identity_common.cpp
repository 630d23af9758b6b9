// What the identity subcommands share: the RULES' checks, names and places, the step table, finding
// an identity by name, and issuing a client secret that is stored before anything else happens.

#include "cli/identity_cmd.hpp"
#include "cli/identity_support.hpp"

#include <fmt/format.h>

#include <cctype>
#include <ctime>

namespace vp::cli {

using json = nlohmann::json;

std::string glob_problem(std::string_view glob, bool allow_broad) {
  if (glob.empty() || glob.front() != '/') return fmt::format("the path glob '{}' must start with '/'", glob);
  for (char c : glob)
    if (c == '\n' || c == '\r' || c == '"' || c == '\\') return "the path glob holds a character that is not allowed";
  const auto first = glob.substr(1, glob.find('/', 1) == std::string_view::npos ? glob.size() : glob.find('/', 1) - 1);
  const bool wild = first.empty() || first.find_first_of("*?[{") != std::string_view::npos;
  if (wild && !allow_broad)
    return fmt::format("the path glob '{}' is broad: its first folder is a wildcard. The RULES ask for the narrowest "
                       "scope (e.g. /MooseQuest/<scope>/**); pass --allow-broad only if this is really meant",
                       glob);
  return {};
}

std::string identity_name_problem(std::string_view name) {
  if (name.empty() || name.size() > 64) return "the identity name must have 1 to 64 characters";
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
      return fmt::format("the identity name '{}' may hold only letters, digits, '-' and '_' (it is also a folder name)",
                         name);
  return {};
}

std::string credentials_path(std::string_view name) { return "/MooseQuest/identities/" + std::string(name); }

std::string privilege_slug(std::string_view name) {
  std::string out;
  for (char c : name) out += c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out + "-read";
}

void print_steps(std::ostream& out, const std::string& title, const std::vector<StepResult>& steps, bool as_json,
                 json extra) {
  if (as_json) {
    json j = std::move(extra);
    j["steps"] = json::array();
    for (auto& s : steps) j["steps"].push_back({{"step", s.step}, {"status", s.status}, {"detail", s.detail}});
    out << j.dump(2) << "\n";
    return;
  }
  out << title << "\n";
  for (auto& s : steps) out << fmt::format("  {:<16} {:<9} {}\n", s.step, s.status, s.detail);
}

net::awaitable<FoundIdentity> find_identity(infisical::Admin& admin, infisical::IdentityAdmin& ids,
                                            const std::string& project_id, const std::string& name,
                                            std::string& org_id, std::chrono::steady_clock::time_point dl) {
  FoundIdentity f;
  if (org_id.empty()) {
    auto o = co_await admin.workspace_org(project_id, org_id, dl);
    if (!o.ok) {
      f.problem = o.problem;
      co_return f;
    }
  }
  std::vector<infisical::IdentityInfo> all;
  auto o = co_await ids.list_identities(org_id, all, dl);
  if (!o.ok) {
    f.problem = o.problem;
    co_return f;
  }
  for (auto& i : all) {
    if (i.name != name) continue;
    if (f.identity) {
      f.problem = fmt::format("several identities are named '{}'; resolve that in the admin UI first", name);
      co_return f;
    }
    f.identity = i;
  }
  if (f.identity)
    for (auto& [k, v] : f.identity->metadata) f.owned = f.owned || (k == owner_key && v == owner_value);
  co_return f;
}

net::awaitable<Issued> issue_and_store(infisical::Admin& admin, infisical::IdentityAdmin& ids,
                                       const CredentialPlace& at, const std::string& identity_id,
                                       const std::string& client_id, const std::string& description,
                                       std::chrono::steady_clock::time_point dl) {
  Issued out;
  std::vector<std::string> folders;
  // The folders first: once the secret exists, the only next step is to store it.
  out.outcome = co_await admin.ensure_folders(at.place, folders, dl);
  if (!out.outcome.ok) {
    out.state = "no client secret was created";
    co_return out;
  }
  auto made = co_await ids.create_client_secret(identity_id, description, dl);
  if (!made.outcome.ok) {
    out.outcome = made.outcome;
    out.state = "no client secret was created";
    co_return out;
  }
  out.secret_id = made.id;
  // The client id first: it does not change on a rotation, so if the secret's write then fails,
  // the stored pair is still the old, working one.
  const core::Secret id_value(client_id);
  auto stored = co_await admin.put_secret(at.place, at.id_key, id_value, dl);
  out.id_version = stored.version;
  if (stored.outcome.ok) {
    stored = co_await admin.put_secret(at.place, at.secret_key, *made.secret, dl);
    out.secret_version = stored.version;
  }
  if (stored.outcome.ok) {
    out.value = std::move(made.secret);
    co_return out;
  }
  out.outcome = stored.outcome;
  // Never an orphan: a secret that could not be stored is revoked at once.
  auto revoked = co_await ids.revoke_client_secret(identity_id, made.id, dl + std::chrono::seconds(5));
  out.state = revoked.ok ? fmt::format("the new client secret {} could not be stored and was revoked", made.id)
                         : fmt::format("the new client secret {} could not be stored, and revoking it failed too ({}): "
                                       "revoke it now in the admin UI or with 'vault-proxy identity revoke'",
                                       made.id, revoked.problem);
  out.orphan_left = !revoked.ok;
  co_return out;
}

std::string today_utc() {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

}  // namespace vp::cli
