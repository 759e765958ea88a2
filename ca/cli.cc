#include "ca/audit/commands.h"
#include "ca/cli.h"

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>

#include "ca/admin.h"
#include "ca/console/cli.h"
#include "ca/handover/cli.h"
#include "ca/revocation/cli.h"
#include "ca/cli_util.h"
#include "ca/server.h"
#include "common/process_guard.h"

namespace imprint::ca {
namespace {

void PrintAuditSummary(const AuditSummary& s) {
  std::cout << "audit log OK: " << s.records << " records, " << s.checkpoints
            << " checkpoints, sealed through " << s.last_sealed;
  if (s.anchor) std::cout << ", anchor at " << *s.anchor;
  std::cout << "\n";
  if (s.unsealed > 0) {
    std::cout << "unsealed tail: records " << s.last_sealed + 1 << ".." << s.records
              << " are hash-chained but not yet signed (a stop before the CA sealed them); the "
                 "next start verifies and seals them\n";
  }
  if (s.anchor_one_behind) {
    std::cout << "anchor: one checkpoint behind the database (a stop between commit and anchor "
                 "write); the next start brings it up to date\n";
  }
  std::cout << std::flush;
}

}  // namespace

int RunCli(int argc, char** argv) {
  // Every subcommand reads the PIN; none may leave it in a core file.
  if (auto guarded = ForbidCoreDumps(); !guarded) return Report(guarded);
  CLI::App app{"imprint-ca: HSM-backed device identity CA"};
  app.require_subcommand(1);
  std::string config_path;
  auto add_config = [&](CLI::App* cmd) {
    cmd->add_option("--config", config_path, "CA configuration (TOML)")->required();
  };

  auto* init = app.add_subcommand("init", "key ceremony: create keys and certificates");
  bool external_root = false;
  add_config(init);
  init->add_flag("--external-root", external_root, "write an issuing-CA CSR for an offline root");

  auto* import = app.add_subcommand("import-chain", "install an externally signed issuing CA");
  std::string issuing_path, root_path;
  add_config(import);
  import->add_option("--cert", issuing_path, "issuing CA certificate (PEM)")->required();
  import->add_option("--root", root_path, "root CA certificate (PEM)")->required();

  auto* serve = app.add_subcommand("serve", "run the gRPC service");
  std::string listen;
  std::string station_listen;
  add_config(serve);
  serve->add_option("--listen", listen, "HOST:PORT for enrollment (port 0 picks a free port)");
  serve->add_option("--station-listen", station_listen,
                    "HOST:PORT for stations (default: the next port after --listen)");

  auto* station = app.add_subcommand("station", "manage stations");
  station->require_subcommand(1);
  std::string station_name;
  auto* station_add = station->add_subcommand("add", "register a station; prints its token");
  add_config(station_add);
  station_add->add_option("NAME", station_name)->required();
  auto* station_revoke = station->add_subcommand("revoke", "revoke a station");
  add_config(station_revoke);
  station_revoke->add_option("NAME", station_name)->required();

  auto* order = app.add_subcommand("order", "manage production orders");
  order->require_subcommand(1);
  OrderSpec spec;
  auto* order_create = order->add_subcommand("create", "create an order");
  add_config(order_create);
  order_create->add_option("--id", spec.id)->required();
  order_create->add_option("--product", spec.product)->required();
  order_create->add_option("--quota", spec.quota)->required();
  order_create->add_option("--station", spec.stations)->required();
  auto* order_show = order->add_subcommand("show", "quota, issued, verified");
  add_config(order_show);
  order_show->add_option("--id", spec.id)->required();
  auto* order_close = order->add_subcommand("close", "close an order");
  add_config(order_close);
  order_close->add_option("--id", spec.id)->required();

  auto* device = app.add_subcommand("device", "devices");
  device->require_subcommand(1);
  std::string device_id;
  auto* device_reset = device->add_subcommand(
      "reset", "let the line try a failed or stuck device again (audited)");
  add_config(device_reset);
  device_reset->add_option("--id", device_id, "device id")->required();

  RevocationCommands revocation(app, *device, config_path);
  HandoverCommands handover(app, config_path);
  ConsoleCommands console(app, config_path);

  auto* audit = app.add_subcommand("audit", "audit log");
  audit->require_subcommand(1);
  auto* audit_verify = audit->add_subcommand(
      "verify", "verify the hash chain, the checkpoints and the HSM anchor (exit 3 if not)");
  std::string export_path, key_path, anchor_path;
  audit_verify->add_option("--config", config_path, "CA configuration (TOML)");
  audit_verify->add_option("--export", export_path,
                           "verify this export instead of the CA's database (needs --key)");
  audit_verify->add_option("--key", key_path, "audit public key PEM (with --export)");
  audit_verify->add_option("--anchor", anchor_path,
                           "also require this checkpoint (from audit anchor export)");
  auto* audit_export = audit->add_subcommand("export", "export as JSON Lines");
  std::string out_path;
  add_config(audit_export);
  audit_export->add_option("--out", out_path, "output file (default stdout)");
  auto* audit_anchor = audit->add_subcommand("anchor", "the HSM's audit anchor");
  audit_anchor->require_subcommand(1);
  auto* anchor_export = audit_anchor->add_subcommand(
      "export", "write the token's newest checkpoint to a file to keep off the machine");
  add_config(anchor_export);
  anchor_export->add_option("--out", out_path, "anchor file to write")->required();
  auto* anchor_adopt = audit_anchor->add_subcommand(
      "adopt", "after a lost database or a restored token: anchor the database as it is "
               "(verified in full, and audited)");
  add_config(anchor_adopt);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (*init) return WithConfig(config_path, [&](auto& c) { return Init(c, external_root, std::cout); });
  if (*import) {
    return WithConfig(config_path,
                      [&](auto& c) { return ImportChain(c, issuing_path, root_path, std::cout); });
  }
  if (*serve) return WithConfig(config_path, [&](auto& c) { return ServeUntilSignal(c, listen, station_listen); });
  if (*station_add) {
    return WithConfig(config_path, [&](auto& c) -> Status {
      IMPRINT_ASSIGN_OR_RETURN(std::string token, StationAdd(c, station_name));
      std::cout << token << std::endl;
      return {};
    });
  }
  if (*station_revoke) {
    return WithConfig(config_path, [&](auto& c) { return StationRevoke(c, station_name); });
  }
  if (*device_reset) {
    return WithConfig(config_path, [&](auto& c) -> Status {
      IMPRINT_RETURN_IF_ERROR(DeviceReset(c, device_id));
      std::cout << "device " << device_id << " reset" << std::endl;
      return {};
    });
  }
  if (auto rc = revocation.Run()) return *rc;
  if (auto rc = handover.Run()) return *rc;
  if (auto rc = console.Run()) return *rc;
  if (*order_create) return WithConfig(config_path, [&](auto& c) { return OrderCreate(c, spec); });
  if (*order_close) return WithConfig(config_path, [&](auto& c) { return OrderClose(c, spec.id); });
  if (*order_show) {
    return WithConfig(config_path, [&](auto& c) -> Status {
      IMPRINT_ASSIGN_OR_RETURN(OrderStatus s, OrderShow(c, spec.id));
      std::cout << "order " << s.id << "\nproduct " << s.product << "\nstatus " << Name(s.state)
                << "\nquota " << s.quota << "\nissued " << s.issued << "\nverified "
                << s.verified << "\nrevoked " << s.revoked << "\nstations";
      for (const auto& st : s.stations) std::cout << " " << st;
      std::cout << std::endl;
      return {};
    });
  }
  if (*audit_verify) {
    if (export_path.empty() == config_path.empty() || export_path.empty() != key_path.empty()) {
      std::cerr << "imprint-ca: audit verify takes --config, or --export with --key\n";
      return 2;
    }
    if (!export_path.empty()) {
      auto summary = AuditVerifyExport(export_path, key_path, anchor_path);
      if (!summary) return Report(std::unexpected(summary.error()));
      PrintAuditSummary(*summary);
      return 0;
    }
    return WithConfig(config_path, [&](auto& c) -> Status {
      IMPRINT_ASSIGN_OR_RETURN(AuditSummary s, AuditVerify(c, anchor_path));
      PrintAuditSummary(s);
      return {};
    });
  }
  if (*anchor_adopt) {
    return WithConfig(config_path, [&](auto& c) { return AuditAnchorAdopt(c, std::cout); });
  }
  if (*anchor_export) {
    return WithConfig(config_path, [&](auto& c) -> Status {
      IMPRINT_RETURN_IF_ERROR(AuditAnchorExport(c, out_path));
      std::cout << "anchor written to " << out_path << std::endl;
      return {};
    });
  }
  if (*audit_export) {
    return WithConfig(config_path, [&](auto& c) -> Status {
      if (out_path.empty()) return AuditExport(c, std::cout);
      std::ofstream out(out_path, std::ios::trunc);
      if (!out) return Fail(Code::kUnavailable, "cannot write " + out_path);
      IMPRINT_RETURN_IF_ERROR(AuditExport(c, out));
      out.close();
      if (!out) return Fail(Code::kUnavailable, "cannot write " + out_path);
      return {};
    });
  }
  return 2;
}

}  // namespace imprint::ca
