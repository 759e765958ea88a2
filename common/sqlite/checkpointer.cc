#include "common/sqlite/checkpointer.h"

#include "common/log.h"

namespace imprint::sql {

Result<std::unique_ptr<Checkpointer>> Checkpointer::Start(const std::string& path,
                                                          std::chrono::milliseconds period,
                                                          int restart_frames) {
  DatabaseOptions options;
  options.auto_checkpoint = false;
  options.busy_timeout_ms = 100;  // how long a RESTART may hold off the writer
  IMPRINT_ASSIGN_OR_RETURN(auto db, SqliteDatabase::Open(path, options));
  return std::unique_ptr<Checkpointer>(new Checkpointer(std::move(db), period, restart_frames));
}

Checkpointer::Checkpointer(std::unique_ptr<SqliteDatabase> db, std::chrono::milliseconds period,
                           int restart_frames)
    : db_(std::move(db)),
      period_(period),
      restart_frames_(restart_frames),
      thread_([this] { Run(); }) {}

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

Result<WalState> Checkpointer::CheckpointNow() {
  std::lock_guard lock(mu_);
  int mode = SQLITE_CHECKPOINT_PASSIVE;
  for (;;) {
    int wal_frames = 0;
    int copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(db_->handle(), nullptr, mode, &wal_frames, &copied);
    // BUSY: readers or the writer held on past the busy timeout; the next round tries again.
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      return std::unexpected(SqliteError(db_->handle(), "sqlite3_wal_checkpoint_v2", rc));
    }
    WalState state{wal_frames, wal_frames > copied ? wal_frames - copied : 0};
    if (mode == SQLITE_CHECKPOINT_RESTART) {
      if (rc == SQLITE_OK) restarted_at_ = wal_frames;
      return state;
    }
    // Copied or not, a long WAL has not started over: readers of old snapshots kept it going.
    // Once restarted it stays this long until the next commit; no need to restart it again.
    if (wal_frames < restart_frames_ || wal_frames == restarted_at_) return state;
    mode = SQLITE_CHECKPOINT_RESTART;
  }
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
