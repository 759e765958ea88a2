#include "ca/audit/writer.h"

#include "ca/audit/seal.h"
#include "common/log.h"
#include "common/sql/transaction.h"
#include "common/utc_time.h"

namespace imprint::ca {

void AnchorNow(std::optional<PendingSeal>& pending) {
  if (!pending) return;
  if (auto s = pending->Anchor(); !s)
    LogWarning("audit anchor not updated: " + s.error().message());
  pending.reset();  // releases the seal lock
}

std::vector<Status> RunBatch(sql::Database& db, std::vector<WriteOp*>& ops, const SealPolicy& seal,
                             bool force_seal, std::optional<PendingSeal>* unanchored) {
  std::vector<Status> results(ops.size());
  auto fail_all = [&](const Error& e) {
    for (auto& r : results) r = std::unexpected(e);
    return results;
  };
  auto txn = sql::Transaction::Begin(db);
  if (!txn) return fail_all(txn.error());
  WriteContext ctx(db, NowMs());
  if (auto s = ctx.LoadHead(); !s) return fail_all(s.error());
  if (ops.size() == 1) {
    // Alone in its transaction, an operation needs no savepoint: if it fails, the whole
    // transaction goes (two round trips fewer to a networked store).
    results[0] = (*ops[0])(ctx);
    if (!results[0]) return results;  // the transaction rolls back as it goes
  }
  for (size_t i = 0; i < ops.size() && ops.size() > 1; ++i) {
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
  auto sealed = SealIfDue(ctx, seal, force_seal);
  if (!sealed) {
    // A due checkpoint that cannot be written stops the batch: committing past it would leave
    // more records unsealed than `audit verify` accepts, and a log that failed verification
    // must never grow. The detail (sequence numbers) is for the operator's log only.
    LogError("audit log not sealed, batch rolled back: " + sealed.error().message());
    return fail_all(Error(Code::kUnavailable, "audit log cannot be sealed"));
  }
  if (auto s = txn->Commit(); !s) {
    LogError("write batch of " + std::to_string(ops.size()) +
             " not committed: " + s.error().ToString());
    return fail_all(Error(Code::kUnavailable, "commit failed"));
  }
  // Committed: now the anchor may name it.
  if (unanchored != nullptr) {
    if (*sealed) unanchored->emplace(std::move(**sealed));
  } else {
    AnchorNow(*sealed);
  }
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
    std::optional<PendingSeal> unanchored;
    auto results = RunBatch(*db_, ops, seal_, false, &unanchored);
    {
      std::lock_guard lock(mu_);
      for (size_t i = 0; i < batch.size(); ++i) {
        batch[i]->result = std::move(results[i]);
        batch[i]->done = true;
      }
    }
    done_.notify_all();
    // The answers needed only the commit; the token write comes after them. Requests that
    // arrive meanwhile wait in the queue and go into the next batch together.
    AnchorNow(unanchored);
  }
}

}  // namespace imprint::ca
