#include "ca/cli.h"

#include <CLI/CLI.hpp>

#include "ca/admin_cli.h"
#include "ca/allowance/cli.h"
#include "ca/audit/cli.h"
#include "ca/cli_util.h"
#include "ca/console/cli.h"
#include "ca/handover/cli.h"
#include "ca/matter/cli.h"
#include "ca/revocation/cli.h"
#include "common/process_guard.h"

namespace imprint::ca {

int RunCli(int argc, char** argv) {
  // Every subcommand reads the PIN; none may leave it in a core file.
  if (auto guarded = ForbidCoreDumps(); !guarded) return Report(guarded);
  CLI::App app{"imprint-ca: HSM-backed device identity CA"};
  app.require_subcommand(1);
  std::string config_path;
  // Each group adds its subcommands in this order, which --help shows.
  AdminCommands admin(app, config_path);
  RevocationCommands revocation(app, admin.device(), config_path);
  AllowanceCommands allowance(app, config_path);
  HandoverCommands handover(app, config_path);
  ConsoleCommands console(app, config_path);
  AuditCommands audit(app, config_path);
  MatterCommands matter(app, config_path);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (auto rc = admin.Run()) return *rc;
  if (auto rc = revocation.Run()) return *rc;
  if (auto rc = allowance.Run()) return *rc;
  if (auto rc = handover.Run()) return *rc;
  if (auto rc = console.Run()) return *rc;
  if (auto rc = audit.Run()) return *rc;
  if (auto rc = matter.Run()) return *rc;
  return 2;
}

}  // namespace imprint::ca
