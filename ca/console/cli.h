#pragma once
// imprint-ca's console subcommands: `console user add` (docs/console.md).

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace imprint::ca {

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
