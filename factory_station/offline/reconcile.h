#pragma once
// `imprint-station reconcile` (docs/offline.md): once the CA is in reach again, each allowance's
// log under DIR/offline is sealed (its head signed in the token) and uploaded in parts that end
// at signed checkpoints, from where the CA says it stands. Resumable: a run cut short starts
// again where the CA's progress is. The CA records the devices, or refuses a part and names
// its violations. When the CA asks (it serves OCSP and holds no delegate for the allowance),
// the subordinate key first certifies the CA's OCSP responder key (common/offline/ocsp_delegate.h).
// Before the logs, the reports of online devices that waited for the CA are sent.

#include <ostream>
#include <string>
#include <vector>

#include "common/error.h"
#include "factory_station/journal.h"
#include "factory_station/pending_reports.h"

namespace imprint::station {

struct ReconcileOptions {
  std::string state_dir;
  std::string ca_address;
  // An online run's own reconcile (provision, once the CA answers): logs the CA refused before,
  // and those of revoked allowances, are left for `imprint-station reconcile` (standing.h).
  bool automatic = false;
  Journal* journal = nullptr;  // the run's; opened from state_dir when null
};

struct ReconciledAllowance {
  std::string id;
  int64_t entries = 0;         // in the station's log
  int64_t reconciled_seq = 0;  // recorded at the CA
  int64_t recorded_now = 0;
  std::vector<std::string> violations;  // from the CA; nothing of that part was recorded
  bool ocsp_delegated = false;          // the CA asked for, and kept, the OCSP delegate in this run
  bool revoked = false;  // by the brand owner: marked here, and the log was not uploaded
};

struct ReconcileOutcome {
  std::vector<ReconciledAllowance> allowances;
  SentReports reports;  // of online devices whose report waited for the CA (pending_reports.h)
};

// FAILED_PRECONDITION when the station holds no offline log and no pending report.
Result<ReconcileOutcome> ReconcileLogs(const ReconcileOptions& options);
// What reconcile did, one line per allowance and per refusal; returns whether all was taken.
bool PrintReconciled(const ReconcileOutcome& outcome, std::ostream& out);

}  // namespace imprint::station
