#pragma once
// The station's offline commands: `token set` (its own token), `allowance fetch` and
// `reconcile`.

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "factory_station/offline/fetch.h"
#include "factory_station/offline/token.h"

namespace imprint::station {

// Adds --token-module, --token-uri and --token-pin-file to `enroll`; all three or none.
void AddTokenOptions(CLI::App* enroll, TokenConfig& token);

class OfflineCommands {
 public:
  explicit OfflineCommands(CLI::App& app);
  // The exit code when one of these commands was chosen; nullopt otherwise.
  std::optional<int> Run();

 private:
  CLI::App* token_set_ = nullptr;
  CLI::App* fetch_ = nullptr;
  CLI::App* reconcile_ = nullptr;
  std::string state_dir_;
  TokenConfig token_;
  FetchOptions fetch_options_;
};

}  // namespace imprint::station
