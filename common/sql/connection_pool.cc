#include "common/sql/connection_pool.h"

namespace imprint::sql {

Result<std::unique_ptr<ConnectionPool>> ConnectionPool::Open(const Connect& connect, size_t size) {
  std::unique_ptr<ConnectionPool> pool(new ConnectionPool());
  for (size_t i = 0; i < size; ++i) {
    IMPRINT_ASSIGN_OR_RETURN(auto db, connect());
    pool->idle_.push_back(std::move(db));
  }
  return pool;
}

ConnectionPool::Lease ConnectionPool::Acquire() {
  std::unique_lock lock(mu_);
  available_.wait(lock, [&] { return !idle_.empty(); });
  auto db = std::move(idle_.back());
  idle_.pop_back();
  return Lease(this, std::move(db));
}

void ConnectionPool::Return(std::unique_ptr<Database> db) {
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(db));
  available_.notify_one();
}

}  // namespace imprint::sql
