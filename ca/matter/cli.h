#pragma once
// imprint-ca's Matter subcommands (docs/matter.md): `matter pai create|import`,
// `matter paa create-test`, and the options `order create --matter` takes.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "ca/matter/order.h"
#include "common/error.h"

namespace imprint::ca {

// "FFF1", "0xfff1": a 16-bit vendor or product id. INVALID_ARGUMENT otherwise.
Result<uint16_t> ParseMatterId(const std::string& text, const char* what);

// `order create --matter ...` as typed; Spec reads the files and checks the forms.
struct MatterOrderOptions {
  bool enabled = false;
  std::string pai, pid, cd_path, cd_signer_path;
  std::string discriminator = "random";
  uint32_t iterations = 1000;

  Result<MatterOrderSpec> Spec() const;
};

class MatterCommands {
 public:
  // Adds the subcommands to `app`; `config_path` is filled by parsing.
  MatterCommands(CLI::App& app, std::string& config_path);
  // After parsing: the exit code of the subcommand that ran, or nullopt if none of these did.
  std::optional<int> Run();

 private:
  std::string& config_path_;
  CLI::App* pai_create_;
  CLI::App* pai_import_;
  CLI::App* paa_create_test_;
  CLI::App* crl_;
  std::string label_, vid_, pid_, out_, cert_path_, paa_path_;
};

}  // namespace imprint::ca
