#pragma once
// PgDatabase: one libpq connection to PostgreSQL behind sql::Database, so that every CA node
// of a store shares one database. The one place libpq results become imprint Errors (PgError).
//
// - Statements are prepared on the server once per connection (named s1, s2, ...) with the
//   `?` placeholders numbered; parameters go as text, bytea as binary; results come as text.
// - Lock::kWrite is a transaction-scoped advisory lock that every writer of the store takes
//   (pg_advisory_xact_lock): writers on all nodes are serialised as SQLite's are, which keeps
//   one audit hash chain and exact quotas without re-checking anything per node.
// - Statement::Queue and Begin send without waiting (libpq's pipeline mode); what is queued
//   goes to the server with the next call that waits, in one round trip, and the first error
//   among them is that call's. An issuance is then three round trips, not eight.
// - A lost connection answers UNAVAILABLE; the next Begin (or any call outside a transaction)
//   reconnects, so a node survives a database restart without restarting itself. Inside a
//   transaction it never reconnects: the transaction is gone and its caller must know.

#include <libpq-fe.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/error.h"
#include "common/secret.h"
#include "common/sql/database.h"

namespace imprint::sql {

using PgResultPtr = std::unique_ptr<PGresult, void (*)(PGresult*)>;

struct PgOptions {
  std::string conninfo;  // libpq connection string: "host=/run/postgresql dbname=imprint ..."
  // null: libpq's own means (.pgpass, peer). Shared: every reconnect needs it again.
  std::shared_ptr<const Secret> password;
  bool read_only = false;       // default_transaction_read_only: a reader cannot write by mistake
  int lock_timeout_ms = 10000;  // how long a writer waits for the store's write lock
  int connect_timeout_s = 5;
};

class PgDatabase final : public Database {
 public:
  // UNAVAILABLE with libpq's reason (never the password) when the server cannot be reached.
  static Result<std::unique_ptr<PgDatabase>> Open(const PgOptions& options);
  ~PgDatabase() override;

  Status Exec(std::string_view sql) override;
  Result<Statement> Prepare(std::string_view sql) override;
  int Changes() const override { return changes_; }
  std::string_view backend() const override { return "postgres"; }
  Status Begin(Lock lock) override;
  Status Commit() override;
  Status Rollback() override;
  Result<int> SchemaVersion() override;
  Status SetSchemaVersion(int version) override;

  // A session-level advisory lock on this connection (PostgreSQL 15, 9.27.10
  // pg_advisory_lock / pg_advisory_lock_shared): held across transactions until released or
  // until the connection closes. Waits up to lock_timeout_ms. `key` is the caller's constant,
  // never input. A connection that breaks loses the lock with it.
  Status TakeSessionLock(int64_t key, bool exclusive);
  Status ReleaseSessionLock(int64_t key, bool exclusive);

 private:
  friend class PgCursor;
  explicit PgDatabase(PgOptions options) : options_(std::move(options)) {}
  Status Connect();
  // PgError for a failed call on conn_; a lost connection (ConnectionLost) is also dropped, so
  // the next call outside a transaction opens a new one instead of failing on the dead one.
  Error Failed(const PGresult* result, std::string_view call);
  // Outside a transaction: reconnects a broken connection.
  Status EnsureConnected();
  // Runs one command without parameters and checks its status; returns the result.
  Result<PgResultPtr> Command(std::string_view sql);
  // Executes a prepared statement. wait=false: queues it (the result is null).
  Result<PgResultPtr> Execute(const std::string& name, int count, const char* const* values,
                              const int* lengths, const int* formats, bool wait);

  // pipeline.cc: `send` puts one statement on the connection in pipeline mode. wait=true:
  // then sends everything queued and returns this statement's result (or the first error).
  Result<PgResultPtr> Pipeline(const std::function<int(PGconn*)>& send, bool wait);
  // Sends what is queued, reads every answer and leaves pipeline mode: the last statement's
  // result, or the first error among them.
  Result<PgResultPtr> Drain();
  // The connection's state is not known any more: close it (a transaction on it is gone).
  void DropConnection();

  PgOptions options_;
  PGconn* conn_ = nullptr;
  bool in_transaction_ = false;
  int queued_ = 0;  // statements sent in pipeline mode whose answers are not read yet
  int changes_ = 0;
  uint64_t next_name_ = 0;
  std::unordered_map<std::string, std::pair<std::string, int>> prepared_;  // sql -> name, params
};

// Whether a failed libpq call means the connection is gone: no connection, PQstatus not OK, a
// failure without a SQLSTATE (libpq's own: the server sends one with every error), or SQLSTATE
// class 08 (connection exception) or 57P (the server shut down or is starting).
bool ConnectionLost(PGconn* conn, const PGresult* result);

// Error for a failed libpq call: a lost connection or SQLSTATE class 53 -> UNAVAILABLE,
// 23505 -> ALREADY_EXISTS, 23503 -> FAILED_PRECONDITION, 40001/40P01/55P03 (serialisation,
// deadlock, lock timeout) -> UNAVAILABLE, others INTERNAL. `result` may be null. The message
// (libpq's text and the SQLSTATE) is for the log.
Error PgError(PGconn* conn, const PGresult* result, std::string_view call);

// `sql` with each `?` outside quotes and comments replaced by $1, $2, ...; `count` gets how many.
std::string NumberPlaceholders(std::string_view sql, int* count);

}  // namespace imprint::sql
