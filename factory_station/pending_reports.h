#pragma once
// The reports a run could not give the CA because it was lost after the device committed
// (Journal::DeferReport), sent once it answers again: by `reconcile` and at the start of an
// online run. The CA checks each device's proof over its challenge as it would have then.

#include <string>
#include <vector>

#include "common/error.h"
#include "factory_station/journal.h"
#include "factory_station/retry.h"
#include "imprint/v1/ca.grpc.pb.h"

namespace imprint::station {

struct SentReports {
  int64_t taken = 0;
  std::vector<std::string> refused;  // "DEVICE: the CA's reason"; those devices end failed
};

// Stops at the first report the CA does not answer (UNAVAILABLE or DEADLINE_EXCEEDED after the
// retries): the rest stay pending.
Result<SentReports> SendPendingReports(Journal& journal,
                                       imprint::v1::CertificateAuthority::Stub& ca,
                                       grpc::ChannelInterface& channel, const RetryPolicy& retry);

}  // namespace imprint::station
