#include "ca/writer.h"

#include "common/audit/record.h"
#include "common/log.h"
#include "common/sqlite/transaction.h"

namespace imprint::ca {
namespace {

Result<uint64_t> LastCheckpointSeq(sql::Database& db) {
  IMPRINT_ASSIGN_OR_RETURN(auto stmt, db.Prepare("SELECT coalesce(max(seq), 0) FROM audit_checkpoints"));
  IMPRINT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? static_cast<uint64_t>(stmt.ColumnInt64(0)) : 0;
}

Status WriteCheckpoint(WriteContext& ctx, const SealPolicy& seal, bool force) {
  const auto& head = ctx.head();
  if (head.seq == 0 || seal.audit_signer == nullptr) return {};
  IMPRINT_ASSIGN_OR_RETURN(uint64_t last, LastCheckpointSeq(ctx.db()));
  if (last >= head.seq) return {};
  if (!force && head.seq - last < seal.every) return {};
  IMPRINT_ASSIGN_OR_RETURN(Bytes signature,
                           seal.audit_signer->Sign(audit::CheckpointMessage(head.seq, head.hash)));
  IMPRINT_ASSIGN_OR_RETURN(
      auto insert, ctx.db().Prepare("INSERT INTO audit_checkpoints (seq, time_ms, hash, signature) "
                                    "VALUES (?, ?, ?, ?)"));
  insert.BindAll(static_cast<int64_t>(head.seq), ctx.now_ms(), head.hash, signature);
  return insert.Run();
}

}  // namespace

std::vector<Status> RunBatch(sql::Database& db, std::vector<WriteOp*>& ops,
                             const SealPolicy& seal, bool force_seal) {
  std::vector<Status> results(ops.size());
  auto fail_all = [&](const Error& e) {
    for (auto& r : results) r = std::unexpected(e);
    return results;
  };
  auto txn = sql::Transaction::Begin(db);
  if (!txn) return fail_all(txn.error());
  WriteContext ctx(db, NowMs());
  if (auto s = ctx.LoadHead(); !s) return fail_all(s.error());
  for (size_t i = 0; i < ops.size(); ++i) {
    WriteContext::Head before = ctx.head();
    if (auto s = db.Run("SAVEPOINT op"); !s) return fail_all(s.error());
    results[i] = (*ops[i])(ctx);
    if (results[i]) {
      if (auto s = db.Run("RELEASE op"); !s) return fail_all(s.error());
    } else {
      if (auto s = db.Run("ROLLBACK TO op"); !s) return fail_all(s.error());
      if (auto s = db.Run("RELEASE op"); !s) return fail_all(s.error());
      ctx.ResetHead(before);
    }
  }
  if (auto s = WriteCheckpoint(ctx, seal, force_seal); !s) {
    // A missing checkpoint is recoverable (the next batch or shutdown seals); losing the batch
    // is not. Log and commit the records unsealed.
    LogWarning("audit checkpoint not written: " + s.error().message());
  }
  if (auto s = txn->Commit(); !s) return fail_all(Error(Code::kUnavailable, "commit failed"));
  return results;
}

Status RunSealed(sql::Database& db, const WriteOp& op, const SealPolicy& seal) {
  WriteOp copy = op;
  std::vector<WriteOp*> ops{&copy};
  return RunBatch(db, ops, seal, true).front();
}

Writer::Writer(std::unique_ptr<sql::Database> db, SealPolicy seal, size_t max_batch)
    : db_(std::move(db)), seal_(seal), max_batch_(max_batch), thread_([this] { Run(); }) {}

Writer::~Writer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_.notify_one();
  thread_.join();
  WriteOp nothing = [](WriteContext&) -> Status { return {}; };
  std::vector<WriteOp*> ops{&nothing};
  auto results = RunBatch(*db_, ops, seal_, true);
  if (!results.front()) LogWarning("final audit seal failed: " + results.front().error().message());
}

Status Writer::Submit(WriteOp op) {
  Pending pending;
  pending.op = std::move(op);
  std::unique_lock lock(mu_);
  if (stopping_) return Fail(Code::kUnavailable, "CA is shutting down");
  queue_.push_back(&pending);
  work_.notify_one();
  done_.wait(lock, [&] { return pending.done; });
  return pending.result;
}

void Writer::Run() {
  for (;;) {
    std::vector<Pending*> batch;
    {
      std::unique_lock lock(mu_);
      work_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping with nothing left
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    std::vector<WriteOp*> ops;
    for (Pending* p : batch) ops.push_back(&p->op);
    auto results = RunBatch(*db_, ops, seal_, false);
    {
      std::lock_guard lock(mu_);
      for (size_t i = 0; i < batch.size(); ++i) {
        batch[i]->result = std::move(results[i]);
        batch[i]->done = true;
      }
    }
    done_.notify_all();
  }
}

}  // namespace imprint::ca
