#pragma once
// The load generator of `imprint-bench issue`: keeps one IssueDeviceCertificate call in flight
// per client, each started from the completion of the one before on gRPC's callback threads.
// Blocking clients, one thread each, cost the shared two cores about a quarter of the CA's own
// CPU per certificate in thread switches; this leaves more of the machine to the CA under test.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "bench/bench_report.h"
#include "common/bytes.h"
#include "common/error.h"

namespace imprint::bench {

struct IssueItem {
  Bytes csr;
  std::string device_id;
  std::string certificate_der;         // filled in on success
  std::vector<std::string> chain_der;  // filled in on success
};

// Issues every item under `order`, one client per channel, recording each call's latency.
// Returns the first error any call got (the other calls still finish).
Status DriveIssuance(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                     const std::string& order, std::vector<IssueItem>& items, Latencies& latencies);

// The same over the issuance stream (bench/issue_stream_load.cc): one stream per channel, each
// keeping `depth` requests in flight.
Status DriveIssuanceStreams(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                            const std::string& order, std::vector<IssueItem>& items, int depth,
                            Latencies& latencies);

}  // namespace imprint::bench
