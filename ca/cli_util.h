#pragma once
// What every imprint-ca subcommand shares: exit codes and loading the configuration.

#include <iostream>
#include <string>

#include "ca/config.h"
#include "common/error.h"

namespace imprint::ca {

// Exit codes: 0 success, 1 failure, 2 usage, 3 the audit log or its anchor failed
// verification (DATA_LOSS): a state to investigate, not to retry.
inline int Report(const Status& status) {
  if (status) return 0;
  std::cerr << "imprint-ca: " << status.error().ToString() << "\n";
  return status.error().code() == Code::kDataLoss ? 3 : 1;
}

template <typename F>
int WithConfig(const std::string& path, F&& f) {
  auto config = CaConfig::Load(path);
  if (!config) return Report(std::unexpected(config.error()));
  return Report(f(*config));
}

}  // namespace imprint::ca
