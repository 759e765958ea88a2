#include "common/sqlite/checkpointer.h"

#include "common/log.h"

namespace imprint::sql {

Result<std::unique_ptr<Checkpointer>> Checkpointer::Start(const std::string& path,
                                                          std::chrono::milliseconds period) {
  DatabaseOptions options;
  options.auto_checkpoint = false;
  IMPRINT_ASSIGN_OR_RETURN(auto db, Database::Open(path, options));
  return std::unique_ptr<Checkpointer>(new Checkpointer(std::move(db), period));
}

Checkpointer::Checkpointer(std::unique_ptr<Database> db, std::chrono::milliseconds period)
    : db_(std::move(db)), period_(period), thread_([this] { Run(); }) {}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  if (auto last = CheckpointNow(); !last)
    LogWarning("final WAL checkpoint: " + last.error().message());
}

Result<int> Checkpointer::CheckpointNow() {
  std::lock_guard lock(mu_);
  int wal_frames = 0;
  int copied = 0;
  int rc = sqlite3_wal_checkpoint_v2(db_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_frames,
                                     &copied);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
    return std::unexpected(SqliteError(db_->handle(), "sqlite3_wal_checkpoint_v2", rc));
  }
  return wal_frames > copied ? wal_frames - copied : 0;
}

void Checkpointer::Run() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (wake_.wait_for(lock, period_, [&] { return stopping_; })) return;
    }
    // A failed checkpoint loses nothing (the pages stay in the WAL); log it and try again.
    if (auto left = CheckpointNow(); !left) LogWarning("WAL checkpoint: " + left.error().message());
  }
}

}  // namespace imprint::sql
