#pragma once
// `imprint-bench export`: the hand-over exports of a large order. On a scratch CA (state from
// `init`), bulk-loads N verified devices with a real certificate, then runs `imprint-ca export`
// for aws-iot, csv and manifest as a separate process (as an operator would) and reports each
// one's devices per second and peak resident memory; the manifest's rate is put beside the
// HSM ceiling for the manifest key, measured in the same run with as many threads as the
// export signs on.

#include <string>

#include "common/error.h"

namespace imprint::bench {

struct ExportBenchOptions {
  std::string config;
  std::string imprint_ca;  // path of the imprint-ca binary
  int devices = 1000000;
  double ceiling_seconds = 3;
};

Status RunExportBench(const ExportBenchOptions& options);

}  // namespace imprint::bench
