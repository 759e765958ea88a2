#include "common/postgres/database.h"

#include <cstring>
#include <vector>

#include "common/postgres/cursor.h"

namespace imprint::sql {
namespace {

// The store's write lock: one advisory lock key for every imprint writer of a database.
constexpr int64_t kWriteLockKey = 0x696d7072696e7401;  // "imprint" 01

std::string SqlState(const PGresult* result) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  return state != nullptr ? state : "";
}

}  // namespace

bool ConnectionLost(PGconn* conn, const PGresult* result) {
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) return true;
  // Every error the server sends has a SQLSTATE; one without is libpq's own. libpq reports
  // "server closed the connection unexpectedly" that way while PQstatus still says
  // CONNECTION_OK (seen when a primary was SIGKILLed under load, tests/e2e nodes pg-failover).
  std::string state = SqlState(result);
  return state.empty() || state.starts_with("08") || state.starts_with("57P");
}

Error PgError(PGconn* conn, const PGresult* result, std::string_view call) {
  std::string state = SqlState(result);
  Code code = Code::kInternal;
  if (ConnectionLost(conn, result) || state.starts_with("53") || state == "40001" ||
      state == "40P01" || state == "55P03" || state == "25P03") {
    code = Code::kUnavailable;
  } else if (state == "23505") {
    code = Code::kAlreadyExists;
  } else if (state == "23503") {
    code = Code::kFailedPrecondition;
  }
  std::string message(call);
  message += ": ";
  const char* text = result != nullptr ? PQresultErrorMessage(result) : nullptr;
  if ((text == nullptr || *text == '\0') && conn != nullptr) text = PQerrorMessage(conn);
  std::string detail = text != nullptr ? text : "no connection";
  // libpq's messages run over several lines (a hint after "\n\t"): one line for the log.
  std::string line;
  for (char c : detail) {
    if (c == '\n' || c == '\t') {
      if (!line.empty() && line.back() != ' ') line += ' ';
    } else {
      line += c;
    }
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  detail = std::move(line);
  message += detail.empty() ? "unknown error" : detail;
  if (!state.empty()) message += " (SQLSTATE " + state + ")";
  return Error(code, std::move(message));
}

std::string NumberPlaceholders(std::string_view sql, int* count) {
  std::string out;
  out.reserve(sql.size() + 8);
  int n = 0;
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
      out += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      size_t end = sql.find('\n', i);
      if (end == std::string_view::npos) end = sql.size();
      out.append(sql.substr(i, end - i));
      i = end - 1;
    } else if (c == '?') {
      out += '$';
      out += std::to_string(++n);
    } else {
      out += c;
    }
  }
  if (count != nullptr) *count = n;
  return out;
}

Result<std::unique_ptr<PgDatabase>> PgDatabase::Open(const PgOptions& options) {
  std::unique_ptr<PgDatabase> db(new PgDatabase(options));
  IMPRINT_RETURN_IF_ERROR(db->Connect());
  return db;
}

PgDatabase::~PgDatabase() {
  if (conn_ != nullptr) PQfinish(conn_);
}

// libpq's message for a connection string it cannot parse quotes the string (a URI whole, a
// keyword's value), password included: the message keeps its words, every quoted part goes.
Status CheckConninfo(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options != nullptr) {
    PQconninfoFree(options);
    return {};
  }
  std::string text = error != nullptr ? error : "out of memory";
  PQfreemem(error);
  std::string redacted;
  bool quoted = false;
  for (char c : text) {
    if (c == '"') {
      redacted += quoted ? "\"" : "\"...";
      quoted = !quoted;
    } else if (!quoted && c != '\n') {
      redacted += c;
    }
  }
  return Fail(Code::kInvalidArgument,
              "the PostgreSQL connection string does not parse: " + redacted +
                  " (quoted parts withheld: they may hold the password)");
}

Status PgDatabase::Connect() {
  DropConnection();
  IMPRINT_RETURN_IF_ERROR(CheckConninfo(options_.conninfo));
  in_transaction_ = false;
  std::string timeout = std::to_string(options_.connect_timeout_s);
  // Earlier keywords are defaults the connection string may override; the password file's
  // password comes last and wins.
  std::vector<const char*> keys = {"connect_timeout", "application_name", "dbname"};
  std::vector<const char*> values = {timeout.c_str(), "imprint-ca", options_.conninfo.c_str()};
  if (options_.password != nullptr) {
    keys.push_back("password");
    // Secret keeps its bytes in a std::string, so the view ends in a NUL; no copy is made.
    values.push_back(options_.password->Reveal().data());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  conn_ = PQconnectdbParams(keys.data(), values.data(), 1);
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    return std::unexpected(PgError(conn_, nullptr, "connecting to PostgreSQL"));  // UNAVAILABLE
  }
  // Notices (e.g. "there is no transaction in progress") are not errors; keep them off stderr.
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
  IMPRINT_RETURN_IF_ERROR(Exec("SET lock_timeout = " + std::to_string(options_.lock_timeout_ms)));
  if (options_.read_only) IMPRINT_RETURN_IF_ERROR(Exec("SET default_transaction_read_only = on"));
  return {};
}

Error PgDatabase::Failed(const PGresult* result, std::string_view call) {
  Error error = PgError(conn_, result, call);
  if (ConnectionLost(conn_, result)) DropConnection();
  return error;
}

Status PgDatabase::EnsureConnected() {
  if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) return {};
  if (in_transaction_) {
    return Fail(Code::kUnavailable, "connection to PostgreSQL lost inside a transaction");
  }
  return Connect();
}

Result<PgResultPtr> PgDatabase::Command(std::string_view sql) {
  std::string text(sql);
  if (queued_ > 0) {
    // One command joins the queued statements; a script (several commands) cannot.
    if (text.find(';') == std::string::npos) {
      return Pipeline(
          [&](PGconn* c) {
            return PQsendQueryParams(c, text.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0);
          },
          true);
    }
    IMPRINT_RETURN_IF_ERROR(Drain());
  }
  IMPRINT_RETURN_IF_ERROR(EnsureConnected());
  PgResultPtr result(PQexec(conn_, text.c_str()), PQclear);
  ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return std::unexpected(Failed(result.get(), "PQexec"));
  }
  return result;
}

Result<PgResultPtr> PgDatabase::Execute(const std::string& name, int count,
                                        const char* const* values, const int* lengths,
                                        const int* formats, bool wait) {
  if (!wait || queued_ > 0) {
    return Pipeline(
        [&](PGconn* c) {
          return PQsendQueryPrepared(c, name.c_str(), count, values, lengths, formats, 0);
        },
        wait);
  }
  // Prepared on this connection: a new one would not know the statement, so no reconnect.
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    return std::unexpected(PgError(conn_, nullptr, "PQexecPrepared"));
  }
  PgResultPtr result(PQexecPrepared(conn_, name.c_str(), count, values, lengths, formats, 0),
                     PQclear);
  ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return std::unexpected(Failed(result.get(), "PQexecPrepared"));
  }
  changes_ = std::atoi(PQcmdTuples(result.get()));  // also INSERT ... RETURNING
  return result;
}

Status PgDatabase::Exec(std::string_view sql) {
  IMPRINT_ASSIGN_OR_RETURN(auto result, Command(sql));
  return {};
}

Status PgDatabase::TakeSessionLock(int64_t key, bool exclusive) {
  return Exec(
      std::string(exclusive ? "SELECT pg_advisory_lock(" : "SELECT pg_advisory_lock_shared(") +
      std::to_string(key) + ")");
}

Status PgDatabase::ReleaseSessionLock(int64_t key, bool exclusive) {
  return Exec(
      std::string(exclusive ? "SELECT pg_advisory_unlock(" : "SELECT pg_advisory_unlock_shared(") +
      std::to_string(key) + ")");
}

Result<Statement> PgDatabase::Prepare(std::string_view sql) {
  IMPRINT_RETURN_IF_ERROR(EnsureConnected());
  std::string key(sql);
  auto it = prepared_.find(key);
  if (it == prepared_.end()) {
    IMPRINT_RETURN_IF_ERROR(Drain());  // PQprepare waits, which pipeline mode does not allow
    int params = 0;
    std::string numbered = NumberPlaceholders(sql, &params);
    std::string name = "s" + std::to_string(++next_name_);
    PgResultPtr result(PQprepare(conn_, name.c_str(), numbered.c_str(), 0, nullptr), PQclear);
    if (!result || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
      return std::unexpected(Failed(result.get(), "PQprepare"));
    }
    it = prepared_.emplace(std::move(key), std::make_pair(std::move(name), params)).first;
  }
  return Statement(std::make_unique<PgCursor>(this, it->second.first, it->second.second));
}

Status PgDatabase::Begin(Lock lock) {
  IMPRINT_RETURN_IF_ERROR(EnsureConnected());
  // A reader sees one snapshot, as in SQLite. A writer holds the store's write lock, so READ
  // COMMITTED sees every commit before it and nothing can commit beside it. Both are queued:
  // they go with the transaction's first read, and a lock timeout is that read's error.
  in_transaction_ = true;
  const char* begin = lock == Lock::kWrite ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ";
  std::string take_lock = "SELECT pg_advisory_xact_lock(" + std::to_string(kWriteLockKey) + ")";
  auto queue = [&](const char* sql) {
    return Pipeline(
        [&](PGconn* c) {
          return PQsendQueryParams(c, sql, 0, nullptr, nullptr, nullptr, nullptr, 0);
        },
        false);
  };
  auto begun = queue(begin);
  if (begun && lock == Lock::kWrite) begun = queue(take_lock.c_str());
  if (!begun) {
    (void)Rollback();
    return std::unexpected(begun.error());
  }
  return {};
}

Status PgDatabase::Commit() {
  auto result = Command("COMMIT");
  if (!result) return std::unexpected(result.error());
  // COMMIT of a transaction that an error had aborted succeeds as a ROLLBACK: say so.
  if (std::strcmp(PQcmdStatus(result->get()), "COMMIT") != 0) {
    in_transaction_ = false;
    return Fail(Code::kAborted, "PostgreSQL rolled the transaction back instead of committing");
  }
  in_transaction_ = false;
  return {};
}

Status PgDatabase::Rollback() {
  in_transaction_ = false;
  // Queued statements are answered first: after a failed one, a queued ROLLBACK would be skipped.
  (void)Drain();
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) return {};  // gone with the connection
  return Exec("ROLLBACK");
}

Result<int> PgDatabase::SchemaVersion() {
  IMPRINT_ASSIGN_OR_RETURN(auto exists,
                           Command("SELECT to_regclass('imprint_schema') IS NOT NULL"));
  if (PQntuples(exists.get()) != 1 || std::strcmp(PQgetvalue(exists.get(), 0, 0), "t") != 0) {
    return 0;
  }
  IMPRINT_ASSIGN_OR_RETURN(auto version, Command("SELECT version FROM imprint_schema"));
  if (PQntuples(version.get()) != 1) {
    return Fail(Code::kDataLoss, "imprint_schema must hold exactly one row");
  }
  return std::atoi(PQgetvalue(version.get(), 0, 0));
}

Status PgDatabase::SetSchemaVersion(int version) {
  IMPRINT_RETURN_IF_ERROR(
      Exec("CREATE TABLE IF NOT EXISTS imprint_schema (version INTEGER NOT NULL)"));
  IMPRINT_RETURN_IF_ERROR(Exec("DELETE FROM imprint_schema"));
  // Our own integer, not input.
  return Exec("INSERT INTO imprint_schema (version) VALUES (" + std::to_string(version) + ")");
}

}  // namespace imprint::sql
