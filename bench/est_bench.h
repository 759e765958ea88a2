#pragma once
// `imprint-bench est`: EST simpleenroll (RFC 7030, docs/est.md) through the CA's EST listener
// with C concurrent clients, each a kept-alive HTTPS connection authenticated by the station's
// certificate, with CSRs made up front; the same report as `imprint-bench issue`, so one run
// gives the ratio of the two paths (scripts/bench-est.sh).

#include <string>
#include <vector>

#include "common/error.h"

namespace imprint::bench {

struct EstOptions {
  std::string est;  // HOST:PORT of [est] listen
  std::string station_dir;
  std::string order;
  int clients = 16;
  int count = 2000;
  std::vector<int> ca_pids;
};
Status RunEst(const EstOptions& options);

}  // namespace imprint::bench
