#pragma once
// SealLock: the lock that serialises audit sealing across every process and node sharing a
// store (AuditAnchor). For SQLite, a file lock on state_dir/audit.lock; for PostgreSQL, a
// session-level advisory lock, so that nodes on different machines exclude each other too:
// held by a connection of its own (the serving CA, whose connections other threads use), or
// by the one connection of an admin command (which then opens the store once). Released when
// the SealLock ends.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "common/error.h"
#include "common/file_lock.h"
#include "common/sql/database.h"

namespace imprint::sql {
class PgDatabase;
}

namespace imprint::ca {

class SealLock {
 public:
  explicit SealLock(FileLock file) : file_(std::move(file)) {}
  // `holder` holds a session-level lock: closing it releases the lock.
  explicit SealLock(std::unique_ptr<sql::Database> holder) : holder_(std::move(holder)) {}
  // `connection` (which outlives this lock) holds the advisory lock `key`; released here.
  SealLock(sql::PgDatabase& connection, int64_t key, bool exclusive)
      : borrowed_(&connection), key_(key), exclusive_(exclusive) {}
  SealLock(SealLock&& other) noexcept;
  SealLock& operator=(SealLock&&) = delete;
  ~SealLock();

 private:
  void Release();

  std::optional<FileLock> file_;
  std::unique_ptr<sql::Database> holder_;
  sql::PgDatabase* borrowed_ = nullptr;
  int64_t key_ = 0;
  bool exclusive_ = false;
};

// Takes the seal lock: exclusive (whoever may seal) or shared (readers who want the store and
// the anchor from one moment). A shared lock may be NOT_FOUND when nothing was ever sealed.
using SealLocker = std::function<Result<SealLock>(bool exclusive)>;

}  // namespace imprint::ca
