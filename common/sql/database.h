#pragma once
// Database: one connection to the store, SQLite (common/sqlite) or PostgreSQL
// (common/postgres). Callers write one SQL text for both (see Statement) and never ask which
// backend they have; what differs (locking, schema version, types) is behind these calls.
//
// Thread safety: a Database is used by one thread at a time (or guarded by its owner).

#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/sql/statement.h"

namespace imprint::sql {

class Database {
 public:
  enum class Lock {
    kNone,   // reads one snapshot of the store from its first read to its end
    kWrite,  // every writer of this store, in every process and on every node, waits for it
  };

  virtual ~Database() = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs SQL text without parameters: schema only. Values always go through Prepare + Bind.
  virtual Status Exec(std::string_view sql) = 0;
  // A prepared statement for one SQL statement, cached per connection.
  virtual Result<Statement> Prepare(std::string_view sql) = 0;
  // Rows changed by the last INSERT, UPDATE or DELETE.
  virtual int Changes() const = 0;
  // "sqlite" or "postgres", for messages.
  virtual std::string_view backend() const = 0;

  // Transactions (use Transaction); kWrite is taken at BEGIN, so a read-then-write transaction
  // cannot fail halfway on a lock, and writers are serialised across every node of the store.
  virtual Status Begin(Lock lock) = 0;
  virtual Status Commit() = 0;
  virtual Status Rollback() = 0;

  // The schema version (0 for an empty store) and setting it inside a migration.
  virtual Result<int> SchemaVersion() = 0;
  virtual Status SetSchemaVersion(int version) = 0;

  // Prepare + Run for a single statement without parameters (SAVEPOINT, ...).
  Status Run(std::string_view sql);

 protected:
  Database() = default;
};

}  // namespace imprint::sql
