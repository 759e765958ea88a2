#include "ca/cli_console.h"

#include <iostream>

#include "ca/cli_util.h"
#include "ca/console_auth.h"

namespace imprint::ca {

ConsoleCommands::ConsoleCommands(CLI::App& app, std::string& config_path)
    : config_path_(config_path) {
  auto* console = app.add_subcommand("console", "the supervisor's console");
  console->require_subcommand(1);
  auto* user = console->add_subcommand("user", "console users");
  user->require_subcommand(1);
  user_add_ = user->add_subcommand(
      "add", "add a user; prints a one-time password, alone on stdout (audited)");
  user_add_->add_option("--config", config_path_, "CA configuration (TOML)")->required();
  user_add_->add_option("NAME", name_, "user name")->required();
  user_add_->add_option("--role", role_, "viewer (reads) or operator (may also close orders "
                                         "and revoke)");
}

std::optional<int> ConsoleCommands::Run() {
  if (!*user_add_) return std::nullopt;
  return WithConfig(config_path_, [&](const CaConfig& c) -> Status {
    IMPRINT_ASSIGN_OR_RETURN(Secret password, ConsoleUserAdd(c, name_, role_));
    // The one-time password alone on stdout, for a script to pass on; the user replaces it at
    // first login.
    std::cout << password.Reveal() << std::endl;
    return {};
  });
}

}  // namespace imprint::ca
