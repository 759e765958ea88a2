#pragma once
// imprint-ca's audit subcommands: audit verify (of the store, or of an export with the audit
// key), audit export, audit anchor export and adopt (docs/audit-format.md).

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace imprint::ca {

class AuditCommands {
 public:
  // Adds the subcommands to `app`; `config_path` is filled by parsing.
  AuditCommands(CLI::App& app, std::string& config_path);
  // After parsing: the exit code of the subcommand that ran, or nullopt if none of these did.
  std::optional<int> Run();

 private:
  int RunVerify();

  std::string& config_path_;
  CLI::App* verify_;
  CLI::App* export_;
  CLI::App* anchor_export_;
  CLI::App* anchor_adopt_;
  std::string export_path_, key_path_, anchor_path_, out_path_;
};

}  // namespace imprint::ca
