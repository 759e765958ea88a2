#pragma once
// Sealing the audit log: a checkpoint signed by the HSM audit key over the head of the chain,
// chained to the checkpoint before it, and then named by the HSM anchor (AuditAnchor).
// Nothing is sealed that was not verified first: before it signs, SealIfDue checks the anchor
// against the database and verifies every record since the last checkpoint.

#include <optional>

#include "ca/audit/anchor.h"
#include "ca/audit/guard.h"
#include "ca/audit/write_context.h"
#include "common/audit/record.h"
#include "common/error.h"
#include "common/file_lock.h"
#include "common/x509/signer.h"

namespace imprint::ca {

struct SealPolicy {
  x509::Signer* audit_signer = nullptr;  // signs checkpoints; not owned
  AuditAnchor* anchor = nullptr;         // the HSM anchor; not owned; null: never seal (bench)
  uint64_t every = 1000;                 // records between checkpoints
};

// A checkpoint inserted in the open write transaction. It holds the seal lock; once the
// transaction has committed, Anchor() writes the checkpoint to the token and the lock is
// released when the PendingSeal ends. If the transaction does not commit, drop it unanchored.
class PendingSeal {
 public:
  PendingSeal(SealLock lock, AuditAnchor* anchor, audit::Checkpoint checkpoint)
      : lock_(std::move(lock)), anchor_(anchor), checkpoint_(std::move(checkpoint)) {}

  Status Anchor() { return anchor_->Write(checkpoint_); }
  const audit::Checkpoint& checkpoint() const { return checkpoint_; }

 private:
  SealLock lock_;
  AuditAnchor* anchor_;
  audit::Checkpoint checkpoint_;
};

// With the seal lock held: compares `newest` (the database's newest checkpoint) with the
// anchor, verifies the records after it (and its signature), and only then brings a one-behind
// anchor up to it. DATA_LOSS when any of it fails; the anchor is then left as it was.
Result<TailCheck> VerifyAgainstAnchor(sql::Database& db, const SealPolicy& seal,
                                      const std::optional<audit::Checkpoint>& newest,
                                      uint64_t max_unsealed);

// Called inside the write transaction after the batch's operations. When a checkpoint is due
// (`seal.every` records since the last one, or `force`) and there is something to seal: takes
// the seal lock, checks the anchor (a one-behind anchor is brought up to date first), verifies
// the records since the last checkpoint, signs the head and inserts the checkpoint. nullopt
// when nothing was due. DATA_LOSS when the log or the anchor fails: nothing is then sealed.
Result<std::optional<PendingSeal>> SealIfDue(WriteContext& ctx, const SealPolicy& seal, bool force);

}  // namespace imprint::ca
