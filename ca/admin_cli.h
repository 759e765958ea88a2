#pragma once
// imprint-ca's line subcommands: init, import-chain, serve, station add|revoke, order
// create|show|close and device reset (docs/operations.md).

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "ca/admin.h"

namespace imprint::ca {

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
};

}  // namespace imprint::ca
