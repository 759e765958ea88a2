#pragma once
// Writer: the CA's single writer with group commit. Callers submit write operations and block;
// a background thread runs everything queued in one transaction holding the store's write lock
// (each operation in its own savepoint, so one failure rolls back only its own changes), seals
// an audit checkpoint when one is due, commits once (one fsync on SQLite, one commit round trip
// on PostgreSQL, for the whole batch), and only then wakes the callers: no answer leaves before
// its commit.
//
// RunBatch is the same path without the thread, used by the admin commands.

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "ca/audit/seal.h"
#include "ca/audit/write_context.h"
#include "common/sql/database.h"
#include "common/x509/signer.h"

namespace imprint::ca {

// Returns an error to roll back its own changes; that error then goes to its caller.
using WriteOp = std::function<Status(WriteContext&)>;

// Runs `ops` in one transaction as described above; `force_seal` writes a checkpoint at the
// head even if none is due (SealIfDue). Returns one Status per op; a failed commit, or a due
// checkpoint that cannot be written (UNAVAILABLE, detail in the log), fails them all.
// A committed checkpoint is anchored in the token before RunBatch returns, unless `unanchored`
// is given: then it is moved there, still holding the seal lock, for the caller to anchor
// (AnchorNow) once it has answered its callers.
std::vector<Status> RunBatch(sql::Database& db, std::vector<WriteOp*>& ops, const SealPolicy& seal,
                             bool force_seal, std::optional<PendingSeal>* unanchored = nullptr);
// Writes a committed checkpoint to the token and releases the seal lock. A failure is logged:
// the anchor then stays one checkpoint behind, which the next seal or start repairs.
void AnchorNow(std::optional<PendingSeal>& pending);

// Runs one op with a checkpoint afterwards (admin commands leave the log sealed).
Status RunSealed(sql::Database& db, const WriteOp& op, const SealPolicy& seal);

class Writer {
 public:
  Writer(std::unique_ptr<sql::Database> db, SealPolicy seal, size_t max_batch = 512);
  ~Writer();  // finishes queued work, seals the log, stops the thread
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Blocks until `op` is committed or failed.
  Status Submit(WriteOp op);

 private:
  struct Pending {
    WriteOp op;
    Status result;
    bool done = false;
  };
  void Run();

  std::unique_ptr<sql::Database> db_;
  SealPolicy seal_;
  size_t max_batch_;
  std::mutex mu_;
  std::condition_variable work_;
  std::condition_variable done_;
  std::deque<Pending*> queue_;  // guarded by mu_
  bool stopping_ = false;       // guarded by mu_
  std::thread thread_;
};

}  // namespace imprint::ca
