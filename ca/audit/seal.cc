#include "ca/audit/seal.h"

#include "common/log.h"

namespace imprint::ca {

Result<TailCheck> VerifyAgainstAnchor(sql::Database& db, const SealPolicy& seal,
                                      const std::optional<audit::Checkpoint>& newest,
                                      uint64_t max_unsealed) {
  IMPRINT_ASSIGN_OR_RETURN(auto anchor, seal.anchor->Read());
  IMPRINT_ASSIGN_OR_RETURN(AnchorState state, CompareWithAnchor(db, newest, anchor));
  // Also verifies the newest checkpoint's signature: only then may the anchor name it.
  IMPRINT_ASSIGN_OR_RETURN(TailCheck tail,
                           VerifyTail(db, seal.audit_signer->public_key(), newest, max_unsealed));
  if (state == AnchorState::kOneBehind) {
    IMPRINT_RETURN_IF_ERROR(seal.anchor->Write(*newest));
    LogWarning(
        "audit anchor was one checkpoint behind the database (a stop between commit and "
        "anchor write); brought up to record " +
        std::to_string(newest->seq));
  }
  return tail;
}

Result<std::optional<PendingSeal>> SealIfDue(WriteContext& ctx, const SealPolicy& seal,
                                             bool force) {
  const auto& head = ctx.head();
  if (head.seq == 0 || seal.audit_signer == nullptr || seal.anchor == nullptr) {
    return std::optional<PendingSeal>();
  }
  // The cheap test first: most batches are not due, and need not read the checkpoint.
  if (ctx.sealed_seq() >= head.seq || (!force && head.seq - ctx.sealed_seq() < seal.every)) {
    return std::optional<PendingSeal>();
  }
  IMPRINT_ASSIGN_OR_RETURN(auto newest, NewestCheckpoint(ctx.db()));
  uint64_t last = newest ? newest->seq : 0;
  if (last >= head.seq) return std::optional<PendingSeal>();
  // Lock order: the database's write lock (held by our transaction), then the seal lock. A
  // holder of the seal lock only reads the database and never waits for its write lock, so
  // this cannot deadlock.
  IMPRINT_ASSIGN_OR_RETURN(SealLock lock, seal.anchor->LockExclusive());
  IMPRINT_RETURN_IF_ERROR(VerifyAgainstAnchor(ctx.db(), seal, newest, UINT64_MAX));

  audit::Checkpoint checkpoint;
  checkpoint.seq = head.seq;
  checkpoint.time_ms = ctx.now_ms();
  checkpoint.hash = head.hash;
  checkpoint.prev_seq = last;
  checkpoint.prev_hash = newest ? audit::CheckpointHash(*newest) : audit::GenesisHash();
  IMPRINT_ASSIGN_OR_RETURN(checkpoint.signature,
                           seal.audit_signer->Sign(audit::CheckpointMessage(checkpoint)));
  IMPRINT_ASSIGN_OR_RETURN(
      auto insert,
      ctx.db().Prepare(
          "INSERT INTO audit_checkpoints (seq, time_ms, hash, prev_seq, prev_hash, signature) "
          "VALUES (?, ?, ?, ?, ?, ?)"));
  insert.BindAll(static_cast<int64_t>(checkpoint.seq), checkpoint.time_ms, checkpoint.hash,
                 static_cast<int64_t>(checkpoint.prev_seq), checkpoint.prev_hash,
                 checkpoint.signature);
  IMPRINT_RETURN_IF_ERROR(insert.Queue());
  return std::optional<PendingSeal>(std::in_place, std::move(lock), seal.anchor,
                                    std::move(checkpoint));
}

}  // namespace imprint::ca
