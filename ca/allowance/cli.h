#pragma once
// imprint-ca's allowance subcommands: grant, show, revoke (docs/offline.md).

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ca/allowance/allowance.h"
#include "ca/config.h"

namespace imprint::ca {

// The commands as the CLI runs them: grant and revoke open one AdminSession (verified before
// writing); show reads the store read-only.
Result<Allowance> AllowanceGrantCommand(const CaConfig& config, const AllowanceGrant& grant);
Result<Allowance> AllowanceRevokeCommand(const CaConfig& config, const std::string& order_id,
                                         const std::string& station, const std::string& reason);
Result<std::vector<Allowance>> AllowanceShowCommand(const CaConfig& config,
                                                    const std::string& order_id);

class AllowanceCommands {
 public:
  // Adds the subcommands to `app`; `config_path` is filled by parsing.
  AllowanceCommands(CLI::App& app, std::string& config_path);
  // After parsing: the exit code of the subcommand that ran, or nullopt if none of these did.
  std::optional<int> Run();

 private:
  std::string& config_path_;
  CLI::App* grant_;
  CLI::App* show_;
  CLI::App* revoke_;
  CLI::App* renew_;
  AllowanceGrant grant_args_;
  std::string valid_for_, reason_;
};

}  // namespace imprint::ca
