#pragma once
// imprint-ca's line subcommands: init, import-chain, serve, station add|revoke, order
// create|show|close and device reset (docs/operations.md).

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "ca/admin.h"
#include "ca/config.h"
#include "ca/matter/cli.h"

namespace imprint::ca {

// The commands as the CLI runs them: each checks its input, opens one AdminSession (the store
// once, the token once) and runs the rule of ca/admin.h on its write. Tests call these too.
// Returns the station's one-time enrollment token.
Result<std::string> StationAddCommand(const CaConfig& config, const std::string& name);
Status StationRevokeCommand(const CaConfig& config, const std::string& name);
Status OrderCreateCommand(const CaConfig& config, const OrderSpec& spec);
Status OrderCloseCommand(const CaConfig& config, const std::string& id);
Status DeviceResetCommand(const CaConfig& config, const std::string& device_id);
// Reads only: the store read-only, no token.
Result<OrderStatus> OrderShowCommand(const CaConfig& config, const std::string& id);

class AdminCommands {
 public:
  // Adds the subcommands to `app`; `config_path` is filled by parsing.
  AdminCommands(CLI::App& app, std::string& config_path);
  // The `device` group, which the revocation commands add to.
  CLI::App& device() { return *device_; }
  // After parsing: the exit code of the subcommand that ran, or nullopt if none of these did.
  std::optional<int> Run();

 private:
  std::string& config_path_;
  CLI::App* init_;
  CLI::App* import_;
  CLI::App* serve_;
  CLI::App* station_add_;
  CLI::App* station_revoke_;
  CLI::App* order_create_;
  CLI::App* order_show_;
  CLI::App* order_close_;
  CLI::App* device_;
  CLI::App* device_reset_;
  bool external_root_ = false;
  std::string issuing_path_, root_path_, listen_, station_listen_, station_name_, device_id_;
  OrderSpec spec_;
  MatterOrderOptions matter_;
};

}  // namespace imprint::ca
