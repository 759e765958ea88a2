#pragma once
// imprint-ca's hand-over subcommands: export, manifest verify, cloud verification-cert and
// evidence (docs/handover.md).

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace imprint::ca {

class HandoverCommands {
 public:
  HandoverCommands(CLI::App& app, std::string& config_path);
  // After parsing: the exit code of the subcommand that ran, or nullopt if none of these did.
  std::optional<int> Run();

 private:
  std::string& config_path_;
  CLI::App* export_;
  CLI::App* manifest_verify_;
  CLI::App* verification_cert_;
  CLI::App* evidence_;
  std::string order_, format_, out_, root_, signer_, signer_sha256_, manifest_, code_, matter_paa_;
  bool force_ = false;
};

}  // namespace imprint::ca
