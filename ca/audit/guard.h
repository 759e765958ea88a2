#pragma once
// The checks that come before anything is sealed (docs/audit-format.md, "Anchor"): the
// database's newest checkpoint agrees with the HSM anchor, and the records after it verify.
// `serve` runs them at start, every writing admin command before it writes, and the writer
// again before each checkpoint it signs. Errors are DATA_LOSS with a message that names the
// sequence numbers and what the operator can do.

#include <optional>

#include "common/audit/record.h"
#include "common/error.h"
#include "common/sql/database.h"
#include "common/x509/openssl_types.h"

namespace imprint::ca {

// "SELECT <the checkpoint columns> FROM audit_checkpoints " and the row it reads.
inline constexpr const char* kSelectCheckpoints =
    "SELECT seq, time_ms, hash, prev_seq, prev_hash, signature FROM audit_checkpoints ";
audit::Checkpoint CheckpointFromRow(sql::Statement& stmt);
// The same for audit_log rows.
inline constexpr const char* kSelectRecords =
    "SELECT seq, time_ms, actor, event, detail, prev_hash, hash FROM audit_log ";
audit::Record RecordFromRow(sql::Statement& stmt);

// The checkpoint sealing the highest record, and the one sealing exactly `seq`.
Result<std::optional<audit::Checkpoint>> NewestCheckpoint(sql::Database& db);
Result<std::optional<audit::Checkpoint>> CheckpointAt(sql::Database& db, uint64_t seq);

enum class AnchorState {
  kMatches,    // the anchor is the database's newest checkpoint
  kOneBehind,  // it is the one just before (or none before the genesis seal): a process died
               // between its commit and its anchor write
};

// Compares the database's newest checkpoint with the token's anchor. DATA_LOSS when the
// database is older than the anchor (rolled back, restored, truncated), differs from it
// (replaced), or is newer by more than one checkpoint (the token's anchor was rolled back).
Result<AnchorState> CompareWithAnchor(sql::Database& db,
                                      const std::optional<audit::Checkpoint>& newest,
                                      const std::optional<audit::Checkpoint>& anchor);

struct TailCheck {
  uint64_t head = 0;      // the last record
  uint64_t unsealed = 0;  // records after the newest checkpoint
};
// Verifies the newest checkpoint's signature and the records after it (from the one it seals).
// Without a checkpoint, verifies the whole log, which must then be only an unsealed genesis.
// More than `max_unsealed` records after the checkpoint is DATA_LOSS.
Result<TailCheck> VerifyTail(sql::Database& db, EVP_PKEY* audit_key,
                             const std::optional<audit::Checkpoint>& newest, uint64_t max_unsealed);

}  // namespace imprint::ca
