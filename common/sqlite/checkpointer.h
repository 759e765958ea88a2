#pragma once
// Checkpointer: copies a WAL database's committed pages into the main file on its own thread
// and connection. Without it SQLite checkpoints inside the COMMIT that takes the WAL past 1000
// pages, and that commit (with every answer waiting on it) also waits for the database file to
// be written and fsync'd. Open the committing connection with
// DatabaseOptions::auto_checkpoint = false and start a Checkpointer beside it.
//
// Checkpoints are PASSIVE (sqlite3_wal_checkpoint_v2): they never block writers or readers and
// copy what no reader still needs; SQLite restarts the WAL from its start once all of it has
// been copied. Durability is unchanged: a commit is durable in the WAL when it returns.
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

class Checkpointer {
 public:
  static Result<std::unique_ptr<Checkpointer>> Start(
      const std::string& path, std::chrono::milliseconds period = std::chrono::milliseconds(100));
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Runs a checkpoint now, on the caller's thread. Returns the WAL frames still not copied.
  Result<int> CheckpointNow();

 private:
  Checkpointer(std::unique_ptr<Database> db, std::chrono::milliseconds period);
  void Run();

  std::unique_ptr<Database> db_;
  std::chrono::milliseconds period_;
  std::mutex mu_;  // serialises use of db_ and guards stopping_
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace imprint::sql
