#pragma once
// `imprint-bench scale`: how the registry's size changes the CA. On a scratch CA (state from
// `init`), measures in-process issuance with an empty registry (median of 3 rounds of --count),
// bulk-loads N devices (each with a certificate-sized row and a hash-chained audit record),
// measures issuance again the same way, and reports registry bytes per device, resident memory and
// `audit verify` records per second.

#include <string>

#include "common/error.h"

namespace imprint::bench {

struct ScaleOptions {
  std::string config;
  int devices = 1000000;
  int count = 2000;
  int threads = 2;
};

Status RunScale(const ScaleOptions& options);

}  // namespace imprint::bench
