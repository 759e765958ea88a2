#pragma once
// imprint-ca's revocation subcommands: revoke device|order|station, unrevoke, crl issue,
// device show, device rework (docs/operations.md "Revocation").

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ca/config.h"
#include "ca/revocation/crl_publisher.h"
#include "ca/revocation/device_history.h"
#include "ca/revocation/revocation.h"

namespace imprint::ca {

// The commands as the CLI runs them: each opens its world once (the store read-only for what
// only reads; else one AdminSession, verified before writing) and runs the rule on it.
Result<RevocationOutcome> RevokeCommand(const CaConfig& config, const RevocationRequest& r);
Status UnrevokeCommand(const CaConfig& config, const std::string& device_id);
// Publishes a new CRL of every list this CA publishes (issuing first) and writes their files.
struct IssuedCrl {
  CrlList list = CrlList::kIssuing;
  CrlInfo crl;
};
Result<std::vector<IssuedCrl>> IssueCrlCommand(const CaConfig& config);
Result<DeviceInfo> DeviceShowCommand(const CaConfig& config, const std::string& device_id);
Status DeviceReworkCommand(const CaConfig& config, const std::string& device_id);

class RevocationCommands {
 public:
  // Adds the subcommands to `app` (and `device`); `config_path` is filled by parsing.
  RevocationCommands(CLI::App& app, CLI::App& device, std::string& config_path);
  // After parsing: the exit code of the subcommand that ran, or nullopt if none of these did.
  std::optional<int> Run();

 private:
  int RunRevoke(RevocationRequest::Scope scope);

  std::string& config_path_;
  CLI::App* revoke_device_;
  CLI::App* revoke_order_;
  CLI::App* revoke_station_;
  CLI::App* unrevoke_;
  CLI::App* crl_issue_;
  CLI::App* device_show_;
  CLI::App* device_rework_;
  std::string id_, reason_, since_, until_, invalidity_;
  std::string evidence_dir_;  // device show --evidence-dir
  bool dry_run_ = false;
};

}  // namespace imprint::ca
