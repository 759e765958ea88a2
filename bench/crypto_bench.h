#pragma once
// `imprint-bench hsm` (the HSM ceiling: raw signatures with the CA's issuing key through the
// project's PKCS#11 layer) and `imprint-bench floor` (the unavoidable crypto per certificate:
// one CSR verification in process plus one HSM signature, on all cores).

#include <string>

#include "common/error.h"

namespace imprint::bench {

struct CryptoOptions {
  std::string config;
  int threads = 2;
  double seconds = 3;
};

Status RunHsm(const CryptoOptions& options);
Status RunFloor(const CryptoOptions& options);

}  // namespace imprint::bench
