#include "cli/hardening.hpp"

#include "config/credentials.hpp"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

extern char** environ;

namespace vp::cli {

void harden_process() {
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  struct rlimit no_core {0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
}

void scrub_credential_env() {
  for (const auto& name : config::credential_env_names()) {
    const std::string prefix = name + "=";
    std::vector<std::pair<char*, std::size_t>> entries;  // every copy, should the name repeat
    for (char** e = environ; *e != nullptr; ++e)
      if (std::strncmp(*e, prefix.c_str(), prefix.size()) == 0) entries.emplace_back(*e, std::strlen(*e));
    ::unsetenv(name.c_str());  // drops every copy from environ; the bytes stay where they are
    for (auto [entry, len] : entries) ::explicit_bzero(entry, len);
  }
}

}  // namespace vp::cli
