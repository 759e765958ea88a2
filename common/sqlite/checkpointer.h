#pragma once
// Checkpointer: copies a WAL database's committed pages into the main file on its own thread
// and connection. Without it SQLite checkpoints inside the COMMIT that takes the WAL past 1000
// pages, and that commit (with every answer waiting on it) also waits for the database file to
// be written and fsync'd. Open the committing connection with
// DatabaseOptions::auto_checkpoint = false and start a Checkpointer beside it.
//
// Checkpoints are PASSIVE (sqlite3_wal_checkpoint_v2): they never block writers or readers and copy
// what no reader still needs; SQLite restarts the WAL from its start once all of it has been copied
// and no reader still uses it. Under sustained load some reader always does, and with PASSIVE
// checkpoints only (what SQLite does on its own too) the WAL grew without bound (284 MB after
// 16,000 issuances in a row). So once the WAL holds `restart_frames` frames, the checkpoint is
// RESTART: it waits (up to 100 ms) for the readers of old snapshots to finish, briefly holding off
// the writer, and the WAL starts over (71 MB after the same run). Durability is unchanged: a commit
// is durable in the WAL when it returns.
//
// Thread-safe; the destructor stops the thread after one last checkpoint.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/error.h"
#include "common/sqlite/database.h"

namespace imprint::sql {

// The WAL after a checkpoint: its length in frames and how many of them are not yet copied.
struct WalState {
  int frames = 0;
  int left = 0;
};

class Checkpointer {
 public:
  static Result<std::unique_ptr<Checkpointer>> Start(
      const std::string& path, std::chrono::milliseconds period = std::chrono::milliseconds(100),
      int restart_frames = 16384);
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Runs a checkpoint now, on the caller's thread.
  Result<WalState> CheckpointNow();

 private:
  Checkpointer(std::unique_ptr<SqliteDatabase> db, std::chrono::milliseconds period,
               int restart_frames);
  void Run();

  std::unique_ptr<SqliteDatabase> db_;
  std::chrono::milliseconds period_;
  int restart_frames_;
  int restarted_at_ = -1;  // WAL length at the last RESTART; guarded by mu_
  std::mutex mu_;          // serialises use of db_ and guards stopping_
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace imprint::sql
