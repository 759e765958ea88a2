#pragma once
// WriteContext: what a write operation sees inside the CA's write transaction: the database
// and the audit log, whose hash chain it extends in the same transaction as its state change.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/audit/record.h"
#include "common/error.h"
#include "common/sql/database.h"

namespace imprint::ca {

class WriteContext {
 public:
  WriteContext(sql::Database& db, int64_t now_ms) : db_(db), now_ms_(now_ms) {}

  sql::Database& db() { return db_; }
  int64_t now_ms() const { return now_ms_; }

  // Reads the chain head (last seq and hash) and the newest checkpoint's seq from the database;
  // call once per transaction.
  Status LoadHead();
  // Appends a record hash-chained to the head and returns its sequence number. `detail` must
  // carry no secrets: only identifiers, hashes and fingerprints.
  Result<uint64_t> Audit(std::string_view actor, std::string_view event,
                         const nlohmann::json& detail);

  struct Head {
    uint64_t seq = 0;
    Bytes hash = audit::GenesisHash();
  };
  const Head& head() const { return head_; }
  // The seq of the newest checkpoint when LoadHead ran (0: none).
  uint64_t sealed_seq() const { return sealed_seq_; }
  // Restores the head after a savepoint rollback undid records.
  void ResetHead(Head head) { head_ = std::move(head); }

 private:
  sql::Database& db_;
  int64_t now_ms_;
  Head head_;
  uint64_t sealed_seq_ = 0;
};

}  // namespace imprint::ca
