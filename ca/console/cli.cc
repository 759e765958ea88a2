#include "ca/console/cli.h"

#include <iostream>

#include "ca/admin_session.h"
#include "ca/cli_util.h"
#include "ca/console/password.h"
#include "ca/secret_generator.h"

namespace imprint::ca {
namespace {

constexpr int kInitialPasswordLength = 16;

// A one-time password from the token's generator, and its hash for the store.
Result<std::pair<Secret, std::string>> DrawInitialPassword(CaHsm& hsm) {
  auto random = [&](size_t n) { return hsm.SecretRandom(n); };
  IMPRINT_ASSIGN_OR_RETURN(Secret password, DrawPassword(random, kInitialPasswordLength));
  IMPRINT_ASSIGN_OR_RETURN(std::string hash, HashPassword(password.Reveal()));
  return std::pair<Secret, std::string>(std::move(password), std::move(hash));
}

}  // namespace

Result<Secret> ConsoleUserAddCommand(const CaConfig& config, const std::string& name,
                                     const std::string& role) {
  IMPRINT_RETURN_IF_ERROR(CheckConsoleUserName(name));
  if (!ParseConsoleRole(role)) {
    return Fail(Code::kInvalidArgument, "--role must be viewer or operator");
  }
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::Open(config, "console user add"));
  IMPRINT_ASSIGN_OR_RETURN(auto password, DrawInitialPassword(*s.hsm));
  IMPRINT_RETURN_IF_ERROR(s.Write(
      config, [&](WriteContext& ctx) { return ConsoleUserAdd(ctx, name, role, password.second); }));
  return std::move(password.first);
}

Result<Secret> ConsoleUserResetCommand(const CaConfig& config, const std::string& name) {
  IMPRINT_RETURN_IF_ERROR(CheckConsoleUserName(name));
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::Open(config, "console user reset"));
  IMPRINT_ASSIGN_OR_RETURN(auto password, DrawInitialPassword(*s.hsm));
  IMPRINT_RETURN_IF_ERROR(s.Write(
      config, [&](WriteContext& ctx) { return ConsoleUserReset(ctx, name, password.second); }));
  return std::move(password.first);
}

Status ConsoleUserRemoveCommand(const CaConfig& config, const std::string& name) {
  IMPRINT_RETURN_IF_ERROR(CheckConsoleUserName(name));
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::Open(config, "console user remove"));
  return s.Write(config, [&](WriteContext& ctx) { return ConsoleUserRemove(ctx, name); });
}

Result<std::vector<ConsoleUser>> ConsoleUserListCommand(const CaConfig& config) {
  IMPRINT_ASSIGN_OR_RETURN(auto db, OpenCaDatabaseReadOnly(config));
  return ConsoleUserList(*db);
}

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
  user_add_->add_option("--role", role_,
                        "viewer (reads) or operator (may also close orders "
                        "and revoke)");
  user_reset_ = user->add_subcommand(
      "reset", "a new one-time password, alone on stdout; the user's sessions end (audited)");
  user_reset_->add_option("--config", config_path_, "CA configuration (TOML)")->required();
  user_reset_->add_option("NAME", name_, "user name")->required();
  user_remove_ = user->add_subcommand("remove", "remove a user; their sessions end (audited)");
  user_remove_->add_option("--config", config_path_, "CA configuration (TOML)")->required();
  user_remove_->add_option("NAME", name_, "user name")->required();
  user_list_ = user->add_subcommand("list", "users, their roles, who must change a password");
  user_list_->add_option("--config", config_path_, "CA configuration (TOML)")->required();
}

std::optional<int> ConsoleCommands::Run() {
  // The one-time password alone on stdout, for a script to pass on; the user replaces it at
  // the next login.
  if (*user_add_ || *user_reset_) {
    return WithConfig(config_path_, [&](const CaConfig& c) -> Status {
      IMPRINT_ASSIGN_OR_RETURN(Secret password, *user_add_ ? ConsoleUserAddCommand(c, name_, role_)
                                                           : ConsoleUserResetCommand(c, name_));
      std::cout << password.Reveal() << std::endl;
      return {};
    });
  }
  if (*user_remove_) {
    return WithConfig(config_path_, [&](const CaConfig& c) -> Status {
      IMPRINT_RETURN_IF_ERROR(ConsoleUserRemoveCommand(c, name_));
      std::cout << "console user " << name_ << " removed" << std::endl;
      return {};
    });
  }
  if (*user_list_) {
    return WithConfig(config_path_, [&](const CaConfig& c) -> Status {
      IMPRINT_ASSIGN_OR_RETURN(std::vector<ConsoleUser> users, ConsoleUserListCommand(c));
      for (const auto& u : users) {
        std::cout << u.name << " " << Name(u.role) << (u.must_change ? " must-change-password" : "")
                  << "\n";
      }
      std::cout << std::flush;
      return {};
    });
  }
  return std::nullopt;
}

}  // namespace imprint::ca
