#include "cli/app.hpp"

#include "cli/audit_cmd.hpp"
#include "cli/doctor.hpp"
#include "cli/exit_codes.hpp"
#include "cli/identity_cmd.hpp"
#include "cli/help_export.hpp"
#include "cli/mcp_config.hpp"
#include "cli/run.hpp"
#include "cli/secret_cmd.hpp"
#include "cli/serve.hpp"
#include "cli/status.hpp"
#include "cli/stop.hpp"

#include <CLI/CLI.hpp>
#include <openssl/crypto.h>
#include <vault_proxy/build_info.hpp>
#include <vault_proxy/version.hpp>

#include <iostream>

namespace vp::cli {
namespace {

// --version (issue 16): what a bug report needs, the release, the exact source and the TLS
// library the binary runs with (which may differ from the one it was built against).
std::string version_text() {
  return std::string("vault-proxy ") + vp::version + "\ngit revision " + vp::git_revision + "\n" +
         OpenSSL_version(OPENSSL_VERSION);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vault-proxy: a local reverse proxy that adds a Cloudflare Access service token to "
               "every request for one HTTPS upstream (an Infisical vault)",
               "vault-proxy"};
  app.set_version_flag("-V,--version", version_text());
  app.require_subcommand(1);
  app.footer("Exit codes: 0 ok, 1 failure, 2 usage or configuration error, 3 cannot listen, "
             "4 no proxy running. Run 'vault-proxy <command> --help' for a command's options.");
  int exit_code = exit_ok;
  add_serve(app, exit_code);
  add_run(app, exit_code);
  add_stop(app, exit_code);
  add_status(app, exit_code);
  add_mcp_config(app, exit_code);
  add_doctor(app, exit_code);
  add_secret(app, exit_code);
  add_identity(app, exit_code);
  add_audit(app, exit_code);
  add_help_export(app, exit_code);  // last: it renders the subcommands added above
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? exit_ok : exit_usage;
  }
  return exit_code;
}

}  // namespace vp::cli
