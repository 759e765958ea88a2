#include "ca/audit/guard.h"

#include "common/audit/verifier.h"

namespace imprint::ca {
namespace {

Result<std::optional<audit::Checkpoint>> QueryOne(sql::Statement stmt) {
  IMPRINT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<audit::Checkpoint>();
  return std::optional<audit::Checkpoint>(CheckpointFromRow(stmt));
}

std::string Describe(const audit::Checkpoint& c) {
  return "the checkpoint sealing record " + std::to_string(c.seq);
}

constexpr const char* kRestoreHint =
    " Put back the newest copy of the database (docs/operations.md, \"Restoring from backup\");"
    " nothing will be sealed until the database and the anchor agree.";

}  // namespace

audit::Checkpoint CheckpointFromRow(sql::Statement& stmt) {
  return audit::Checkpoint{
      static_cast<uint64_t>(stmt.ColumnInt64(0)), stmt.ColumnInt64(1), stmt.ColumnBlob(2),
      static_cast<uint64_t>(stmt.ColumnInt64(3)), stmt.ColumnBlob(4),  stmt.ColumnBlob(5)};
}

audit::Record RecordFromRow(sql::Statement& stmt) {
  return audit::Record{static_cast<uint64_t>(stmt.ColumnInt64(0)),
                       stmt.ColumnInt64(1),
                       stmt.ColumnText(2),
                       stmt.ColumnText(3),
                       stmt.ColumnText(4),
                       stmt.ColumnBlob(5),
                       stmt.ColumnBlob(6)};
}

Result<std::optional<audit::Checkpoint>> NewestCheckpoint(sql::Database& db) {
  IMPRINT_ASSIGN_OR_RETURN(
      auto stmt, db.Prepare(std::string(kSelectCheckpoints) + "ORDER BY seq DESC LIMIT 1"));
  return QueryOne(std::move(stmt));
}

Result<std::optional<audit::Checkpoint>> CheckpointAt(sql::Database& db, uint64_t seq) {
  IMPRINT_ASSIGN_OR_RETURN(auto stmt,
                           db.Prepare(std::string(kSelectCheckpoints) + "WHERE seq = ?"));
  stmt.BindAll(static_cast<int64_t>(seq));
  return QueryOne(std::move(stmt));
}

Result<AnchorState> CompareWithAnchor(sql::Database& db,
                                      const std::optional<audit::Checkpoint>& newest,
                                      const std::optional<audit::Checkpoint>& anchor) {
  if (!anchor && !newest) return AnchorState::kMatches;  // nothing sealed yet (init)
  if (!anchor && newest->seq == 1 && newest->prev_seq == 0) {
    return AnchorState::kOneBehind;  // init died between sealing its genesis and anchoring it
  }
  if (!anchor) {
    return Fail(Code::kDataLoss,
                "the HSM token holds no audit anchor, but the database is sealed through record " +
                    std::to_string(newest->seq) +
                    ": this is not the token this database was sealed with, or the log predates "
                    "the anchor (imprint-audit-v1)");
  }
  std::string anchor_text = "the HSM's audit anchor is " + Describe(*anchor);
  if (!newest || newest->seq < anchor->seq) {
    return Fail(Code::kDataLoss,
                "the database is older than the HSM's audit anchor: " + anchor_text +
                    ", but the database's newest checkpoint seals record " +
                    std::to_string(newest ? newest->seq : 0) +
                    ". It was rolled back, restored from an older copy, or truncated." +
                    kRestoreHint);
  }
  Bytes anchor_hash = audit::CheckpointHash(*anchor);
  IMPRINT_ASSIGN_OR_RETURN(auto same_seq, CheckpointAt(db, anchor->seq));
  if (!same_seq || audit::CheckpointHash(*same_seq) != anchor_hash) {
    return Fail(Code::kDataLoss, "the database's checkpoints differ from the HSM's audit anchor (" +
                                     anchor_text + "): the database was replaced or forged." +
                                     kRestoreHint);
  }
  if (newest->seq == anchor->seq) return AnchorState::kMatches;
  if (newest->prev_seq == anchor->seq && newest->prev_hash == anchor_hash) {
    return AnchorState::kOneBehind;
  }
  return Fail(Code::kDataLoss,
              "the HSM's audit anchor is older than the database: " + anchor_text +
                  ", but the database is sealed through record " + std::to_string(newest->seq) +
                  ", more than one checkpoint later. The token was restored from an older copy "
                  "or its anchor rolled back; verify the database in full (imprint-ca audit "
                  "verify) and see docs/operations.md, \"Restoring from backup\".");
}

Result<TailCheck> VerifyTail(sql::Database& db, EVP_PKEY* audit_key,
                             const std::optional<audit::Checkpoint>& newest,
                             uint64_t max_unsealed) {
  audit::ChainVerifier verifier(audit_key);
  if (newest) IMPRINT_RETURN_IF_ERROR(verifier.ResumeAfter(*newest));
  IMPRINT_ASSIGN_OR_RETURN(auto records,
                           db.Prepare(std::string(kSelectRecords) + "WHERE seq >= ? ORDER BY seq"));
  records.BindAll(static_cast<int64_t>(newest ? newest->seq : 1));
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, records.Step());
    if (!row) break;
    audit::Record r = RecordFromRow(records);
    IMPRINT_RETURN_IF_ERROR(verifier.AddRecord(r));
  }
  if (!newest) {
    // Only init's own first transaction is ever unsealed from the start.
    if (verifier.records() > max_unsealed || verifier.records() == 0) {
      return Fail(Code::kDataLoss,
                  "audit record 1: the log has no checkpoint: its genesis was "
                  "never sealed, or every checkpoint was deleted");
    }
    return TailCheck{verifier.records(), verifier.records()};
  }
  IMPRINT_RETURN_IF_ERROR(verifier.Finish(max_unsealed));
  return TailCheck{verifier.records(), verifier.unsealed()};
}

}  // namespace imprint::ca
