#pragma once
// ConnectionPool: N connections to one store, lent one per caller. Lets many threads read
// concurrently (SQLite under WAL, or PostgreSQL) while a single writer commits.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "common/sql/database.h"

namespace imprint::sql {

class ConnectionPool {
 public:
  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<Database> db) : pool_(pool), db_(std::move(db)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (db_) pool_->Return(std::move(db_));
    }
    Database& operator*() const { return *db_; }
    Database* operator->() const { return db_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Database> db_;
  };

  using Connect = std::function<Result<std::unique_ptr<Database>>()>;
  // Opens `size` connections with `connect`; fails if any fails.
  static Result<std::unique_ptr<ConnectionPool>> Open(const Connect& connect, size_t size);
  // Blocks until a connection is free.
  Lease Acquire();

 private:
  ConnectionPool() = default;
  void Return(std::unique_ptr<Database> db);

  std::mutex mu_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Database>> idle_;  // guarded by mu_
};

}  // namespace imprint::sql
