#pragma once
// What the station learns of its allowances whenever it reaches the CA (docs/offline.md, "When
// things go wrong"): an allowance the brand owner revoked is marked in its directory
// (DIR/offline/ID/revoked), and from then on the station issues nothing under it
// (OfflineIssuer::Open refuses). Offline, a station cannot learn: it finds out at its next
// contact (an online run or reconcile), and reconcile refuses what it issued after the
// revocation whole.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "common/error.h"

namespace imprint::station {

// DIR is the allowance's directory (DIR/offline/ID).
bool IsMarkedRevoked(const std::string& dir);
Status MarkRevoked(const std::string& dir);

// A log the CA refused at reconcile (its violations are in the file): an online run's own
// reconcile leaves it alone, so it is not refused (and its violations recorded) again at every
// run; `imprint-station reconcile` uploads it whenever asked, and clears the mark once it is
// taken.
bool IsMarkedRefused(const std::string& dir);
Status MarkRefused(const std::string& dir, const std::vector<std::string>& violations);
Status ClearRefused(const std::string& dir);

// Asks the CA (an empty reconcile request: no violation) whether the order's current allowance
// still stands, and marks it when it does not. Nothing to do when the station holds none.
// Returns whether it was revoked.
Result<bool> LearnStanding(const std::string& state_dir, const std::string& order,
                           const std::shared_ptr<grpc::Channel>& channel);

}  // namespace imprint::station
