// PgDatabase's pipeline: statements queued without waiting, sent and answered in one round
// trip at the next call that waits (libpq pipeline mode, PostgreSQL 14+ client library).

#include <cstdlib>
#include <optional>

#include "common/postgres/database.h"

namespace imprint::sql {

void PgDatabase::DropConnection() {
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
  queued_ = 0;
  prepared_.clear();
}

Result<PgResultPtr> PgDatabase::Pipeline(const std::function<int(PGconn*)>& send, bool wait) {
  // No reconnect here: a statement prepared on a lost connection does not exist on a new one.
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    return std::unexpected(PgError(conn_, nullptr, "sending a statement"));
  }
  if (queued_ == 0 && PQenterPipelineMode(conn_) != 1) {
    return std::unexpected(Failed(nullptr, "PQenterPipelineMode"));
  }
  if (send(conn_) != 1) {
    Error e = PgError(conn_, nullptr, "sending a statement");
    DropConnection();
    return std::unexpected(std::move(e));
  }
  ++queued_;
  if (!wait) return PgResultPtr(nullptr, PQclear);
  return Drain();
}

Result<PgResultPtr> PgDatabase::Drain() {
  PgResultPtr last(nullptr, PQclear);
  if (queued_ == 0) return last;
  const int expected = queued_;
  std::optional<Error> first_error;
  bool lost = false;  // the first error says the connection is gone
  auto broken = [&](const PGresult* r, std::string_view what) -> Result<PgResultPtr> {
    Error e = first_error.value_or(PgError(conn_, r, what));
    DropConnection();
    return std::unexpected(std::move(e));
  };
  if (PQpipelineSync(conn_) != 1) return broken(nullptr, "PQpipelineSync");
  // Each statement's answer ends with a null; after the last comes the sync point. A statement
  // after a failed one is skipped (PIPELINE_ABORTED); the transaction is then aborted too.
  int answers = 0, nulls = 0;
  for (;;) {
    PgResultPtr r(PQgetResult(conn_), PQclear);
    if (r == nullptr) {
      if (PQstatus(conn_) != CONNECTION_OK || ++nulls > expected) {
        return broken(nullptr, "reading pipelined answers");
      }
      continue;
    }
    ExecStatusType status = PQresultStatus(r.get());
    if (status == PGRES_PIPELINE_SYNC) break;
    ++answers;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      changes_ = std::atoi(PQcmdTuples(r.get()));
      last = std::move(r);
    } else if (status != PGRES_PIPELINE_ABORTED && !first_error) {
      first_error = PgError(conn_, r.get(), "pipelined statement");
      lost = ConnectionLost(conn_, r.get());
    }
  }
  queued_ = 0;
  if (answers != expected || PQexitPipelineMode(conn_) != 1) {
    return broken(nullptr, "ending a pipeline");
  }
  if (lost) DropConnection();
  if (first_error) return std::unexpected(std::move(*first_error));
  return last;
}

}  // namespace imprint::sql
