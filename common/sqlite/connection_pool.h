#pragma once
// ConnectionPool: N connections to one database file, lent one per caller. Lets many threads
// read concurrently under WAL while a single writer commits.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "common/sqlite/database.h"

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

  static Result<std::unique_ptr<ConnectionPool>> Open(const std::string& path, size_t size,
                                                      const DatabaseOptions& options = {});
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
