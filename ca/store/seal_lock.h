#pragma once
// SealLock: the lock that serialises audit sealing across every process and node sharing a
// store (AuditAnchor). For SQLite, a file lock on state_dir/audit.lock; for PostgreSQL, an
// advisory lock held by a connection of its own, so that nodes on different machines exclude
// each other too. Released when the SealLock ends.

#include <functional>
#include <memory>
#include <optional>

#include "common/error.h"
#include "common/file_lock.h"
#include "common/sql/database.h"

namespace imprint::ca {

class SealLock {
 public:
  explicit SealLock(FileLock file) : file_(std::move(file)) {}
  // `holder` holds a session-level lock: closing it releases the lock.
  explicit SealLock(std::unique_ptr<sql::Database> holder) : holder_(std::move(holder)) {}

 private:
  std::optional<FileLock> file_;
  std::unique_ptr<sql::Database> holder_;
};

// Takes the seal lock: exclusive (whoever may seal) or shared (readers who want the store and
// the anchor from one moment). A shared lock may be NOT_FOUND when nothing was ever sealed.
using SealLocker = std::function<Result<SealLock>(bool exclusive)>;

}  // namespace imprint::ca
