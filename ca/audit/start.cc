#include "ca/audit/start.h"

#include "ca/audit/guard.h"
#include "ca/audit/writer.h"
#include "common/log.h"
#include "common/utc_time.h"

namespace imprint::ca {
namespace {

// Checks under the seal lock; keeps a refusal in the token when the check fails.
Result<StartCheck> CheckUnderLock(sql::Database& db, const SealPolicy& seal,
                                  std::string_view command) {
  IMPRINT_ASSIGN_OR_RETURN(SealLock lock, seal.anchor->LockExclusive());
  IMPRINT_ASSIGN_OR_RETURN(auto newest, NewestCheckpoint(db));
  // Committed batches leave fewer than `every` records unsealed (RunBatch seals or fails).
  uint64_t max_unsealed = seal.every > 0 ? seal.every - 1 : 0;
  auto tail = VerifyAgainstAnchor(db, seal, newest, max_unsealed);
  if (!tail) {
    if (tail.error().code() == Code::kDataLoss) {
      AuditAnchor::KeptEvent refusal{
          "audit.refused",
          {{"command", command}, {"time_ms", NowMs()}, {"reason", tail.error().message()}}};
      if (auto kept = seal.anchor->Keep(refusal); !kept) {
        LogWarning("could not keep the refusal in the token: " + kept.error().message());
      }
    }
    return std::unexpected(tail.error());
  }
  return StartCheck{tail->head, tail->unsealed};
}

}  // namespace

Result<StartCheck> VerifyBeforeWriting(sql::Database& db, const SealPolicy& seal,
                                       std::string_view command) {
  IMPRINT_ASSIGN_OR_RETURN(StartCheck check, CheckUnderLock(db, seal, command));
  IMPRINT_ASSIGN_OR_RETURN(auto kept, seal.anchor->ReadKept());
  if (check.unsealed == 0 && kept.events.empty()) return check;
  if (check.unsealed > 0) {
    std::string range =
        std::to_string(check.head - check.unsealed + 1) + ".." + std::to_string(check.head);
    if (command == "serve") {
      // Nothing else serves this state, so the tail is what a crash left.
      LogWarning("audit log: records " + range +
                 " were left unsealed by an earlier stop; verified, sealing them now");
    } else {
      LogInfo("audit log: records " + range +
              " written since the last checkpoint (by a serving "
              "CA, or left by a stop); verified, sealing them now");
    }
  }
  IMPRINT_RETURN_IF_ERROR(RunSealed(
      db,
      [&](WriteContext& ctx) -> Status {
        for (const auto& event : kept.events) {
          IMPRINT_RETURN_IF_ERROR(ctx.Audit("ca", event.event, event.detail));
        }
        return {};
      },
      seal));
  if (!kept.events.empty()) {
    // A crash before this leaves them in the token: they are audited again (a duplicate, never
    // a loss).
    IMPRINT_RETURN_IF_ERROR(seal.anchor->ClearKept(kept));
    LogWarning("audit log: recorded " + std::to_string(kept.events.size()) +
               " event(s) kept in the token (refusals to run on a database that failed "
               "verification, anchor adoptions)");
  }
  check.kept_audited = kept.events.size();
  return check;
}

}  // namespace imprint::ca
