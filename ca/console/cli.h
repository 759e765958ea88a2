#pragma once
// imprint-ca's console subcommands: `console user add` (docs/console.md).

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ca/config.h"
#include "ca/console/users.h"
#include "common/secret.h"

namespace imprint::ca {

// The `console user` commands as the CLI runs them: each opens its world once (one
// AdminSession; the store read-only for `list`) and runs the rule of ca/console/users.h. Add
// and reset return the one-time password: 16 symbols from the token's generator.
Result<Secret> ConsoleUserAddCommand(const CaConfig& config, const std::string& name,
                                     const std::string& role);
Result<Secret> ConsoleUserResetCommand(const CaConfig& config, const std::string& name);
Status ConsoleUserRemoveCommand(const CaConfig& config, const std::string& name);
Result<std::vector<ConsoleUser>> ConsoleUserListCommand(const CaConfig& config);

class ConsoleCommands {
 public:
  ConsoleCommands(CLI::App& app, std::string& config_path);
  // After parsing: the exit code of the subcommand that ran, or nullopt if none of these did.
  std::optional<int> Run();

 private:
  std::string& config_path_;
  CLI::App* user_add_;
  CLI::App* user_reset_;
  CLI::App* user_remove_;
  CLI::App* user_list_;
  std::string name_, role_ = "viewer";
};

}  // namespace imprint::ca
