#include "ca/store/seal_lock.h"

#include <utility>

#include "common/log.h"
#include "common/postgres/database.h"

namespace imprint::ca {

SealLock::SealLock(SealLock&& other) noexcept
    : file_(std::move(other.file_)),
      holder_(std::move(other.holder_)),
      borrowed_(std::exchange(other.borrowed_, nullptr)),
      key_(other.key_),
      exclusive_(other.exclusive_) {}

SealLock::~SealLock() { Release(); }

void SealLock::Release() {
  if (borrowed_ == nullptr) return;
  // A failure leaves the lock with the connection, which releases it when it closes (the
  // admin command ends); other nodes wait for it until then.
  if (auto released = borrowed_->ReleaseSessionLock(key_, exclusive_); !released) {
    LogWarning("audit seal lock not released: " + released.error().message());
  }
  borrowed_ = nullptr;
}

}  // namespace imprint::ca
