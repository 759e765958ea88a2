#pragma once
// The station's label commands (docs/labels.md): `label print` (labels left waiting),
// `label reprint` (one device's label again, logged), `label bind` (scan-back) and
// `label status`.

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "factory_station/labels/bind.h"

namespace imprint::station {

class LabelCommands {
 public:
  explicit LabelCommands(CLI::App& app);
  // The exit code when one of these commands was chosen; nullopt otherwise.
  std::optional<int> Run();

 private:
  int Print();
  int Reprint();
  int Status();

  CLI::App* print_ = nullptr;
  CLI::App* reprint_ = nullptr;
  CLI::App* bind_ = nullptr;
  CLI::App* status_ = nullptr;
  std::string state_dir_, order_, printer_, template_, device_, reason_, pairs_;
  int printer_wait_s_ = 10;
  BindOptions bind_options_;
};

}  // namespace imprint::station
