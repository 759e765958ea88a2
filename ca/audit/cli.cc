#include "ca/audit/cli.h"

#include <fstream>
#include <iostream>

#include "ca/audit/commands.h"
#include "ca/cli_util.h"

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

Status WriteExport(const CaConfig& c, const std::string& out_path) {
  if (out_path.empty()) return AuditExport(c, std::cout);
  std::ofstream out(out_path, std::ios::trunc);
  if (!out) return Fail(Code::kUnavailable, "cannot write " + out_path);
  IMPRINT_RETURN_IF_ERROR(AuditExport(c, out));
  out.close();
  if (!out) return Fail(Code::kUnavailable, "cannot write " + out_path);
  return {};
}

}  // namespace

AuditCommands::AuditCommands(CLI::App& app, std::string& config_path) : config_path_(config_path) {
  auto config = [&](CLI::App* cmd) {
    cmd->add_option("--config", config_path_, "CA configuration (TOML)")->required();
  };
  auto* audit = app.add_subcommand("audit", "audit log");
  audit->require_subcommand(1);
  verify_ = audit->add_subcommand(
      "verify", "verify the hash chain, the checkpoints and the HSM anchor (exit 3 if not)");
  verify_->add_option("--config", config_path_, "CA configuration (TOML)");
  verify_->add_option("--export", export_path_,
                      "verify this export instead of the CA's database (needs --key)");
  verify_->add_option("--key", key_path_, "audit public key PEM (with --export)");
  verify_->add_option("--anchor", anchor_path_,
                      "also require this checkpoint (from audit anchor export)");
  export_ = audit->add_subcommand("export", "export as JSON Lines");
  config(export_);
  export_->add_option("--out", out_path_, "output file (default stdout)");
  auto* anchor = audit->add_subcommand("anchor", "the HSM's audit anchor");
  anchor->require_subcommand(1);
  anchor_export_ = anchor->add_subcommand(
      "export", "write the token's newest checkpoint to a file to keep off the machine");
  config(anchor_export_);
  anchor_export_->add_option("--out", out_path_, "anchor file to write")->required();
  anchor_adopt_ = anchor->add_subcommand(
      "adopt",
      "after a lost database or a restored token: anchor the database as it is "
      "(verified in full, and audited)");
  config(anchor_adopt_);
}

int AuditCommands::RunVerify() {
  if (export_path_.empty() == config_path_.empty() || export_path_.empty() != key_path_.empty()) {
    std::cerr << "imprint-ca: audit verify takes --config, or --export with --key\n";
    return 2;
  }
  if (!export_path_.empty()) {
    auto summary = AuditVerifyExport(export_path_, key_path_, anchor_path_);
    if (!summary) return Report(std::unexpected(summary.error()));
    PrintAuditSummary(*summary);
    return 0;
  }
  return WithConfig(config_path_, [&](const CaConfig& c) -> Status {
    IMPRINT_ASSIGN_OR_RETURN(AuditSummary s, AuditVerify(c, anchor_path_));
    PrintAuditSummary(s);
    return {};
  });
}

std::optional<int> AuditCommands::Run() {
  if (*verify_) return RunVerify();
  if (*anchor_adopt_) {
    return WithConfig(config_path_,
                      [&](const CaConfig& c) { return AuditAnchorAdopt(c, std::cout); });
  }
  if (*anchor_export_) {
    return WithConfig(config_path_, [&](const CaConfig& c) -> Status {
      IMPRINT_RETURN_IF_ERROR(AuditAnchorExport(c, out_path_));
      std::cout << "anchor written to " << out_path_ << std::endl;
      return {};
    });
  }
  if (*export_)
    return WithConfig(config_path_, [&](const CaConfig& c) { return WriteExport(c, out_path_); });
  return std::nullopt;
}

}  // namespace imprint::ca
