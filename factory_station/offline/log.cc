#include "factory_station/offline/log.h"

#include "common/sql/migrations.h"
#include "common/sql/transaction.h"

namespace imprint::station {
namespace {

constexpr sql::Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE entries (
  seq INTEGER PRIMARY KEY CHECK (seq > 0),
  device TEXT NOT NULL UNIQUE,
  serial_hex TEXT NOT NULL,
  certificate_der BLOB NOT NULL,
  challenge BLOB NOT NULL,
  issued_ms INTEGER NOT NULL,
  hash BLOB NOT NULL
);
CREATE TABLE proofs (
  device TEXT PRIMARY KEY REFERENCES entries(device),
  signature BLOB NOT NULL
);
CREATE TABLE checkpoints (
  seq INTEGER PRIMARY KEY,
  hash BLOB NOT NULL,
  signature BLOB NOT NULL
);
)sql"},
    // Each device's password sealed to the CA, with the subordinate key's signature over it.
    {2, R"sql(
CREATE TABLE sealed_passwords (
  device TEXT PRIMARY KEY REFERENCES entries(device),
  sealed BLOB NOT NULL,
  signature BLOB NOT NULL
);
)sql"},
};

constexpr const char* kEntryColumns =
    "seq, device, serial_hex, certificate_der, challenge, issued_ms, hash";

offline::LogEntry ReadEntry(sql::Statement& row) {
  offline::LogEntry e;
  e.seq = row.ColumnInt64(0);
  e.device = row.ColumnText(1);
  e.serial_hex = row.ColumnText(2);
  e.certificate_der = row.ColumnBlob(3);
  e.challenge = row.ColumnBlob(4);
  e.issued_ms = row.ColumnInt64(5);
  e.hash = row.ColumnBlob(6);
  return e;
}

}  // namespace

Result<std::unique_ptr<OfflineLog>> OfflineLog::Open(const std::string& path,
                                                     std::string allowance_id,
                                                     x509::Signer& signer) {
  sql::DatabaseOptions options;
  options.synchronous = "FULL";  // the count must survive a power cut, not only a crash
  IMPRINT_ASSIGN_OR_RETURN(auto db, sql::SqliteDatabase::Open(path, options));
  IMPRINT_RETURN_IF_ERROR(sql::Migrate(*db, kMigrations));
  return std::unique_ptr<OfflineLog>(
      new OfflineLog(std::move(db), std::move(allowance_id), signer));
}

Result<std::optional<offline::LogEntry>> OfflineLog::Find(const std::string& device) {
  std::lock_guard lock(mu_);
  IMPRINT_ASSIGN_OR_RETURN(auto row, db_->Prepare(std::string("SELECT ") + kEntryColumns +
                                                  " FROM entries WHERE device = ?"));
  row.BindAll(device);
  IMPRINT_ASSIGN_OR_RETURN(bool found, row.Step());
  if (!found) return std::optional<offline::LogEntry>();
  return std::optional<offline::LogEntry>(ReadEntry(row));
}

Result<int64_t> OfflineLog::CountLocked() {
  IMPRINT_ASSIGN_OR_RETURN(auto count, db_->Prepare("SELECT count(*) FROM entries"));
  IMPRINT_ASSIGN_OR_RETURN(bool row, count.Step());
  (void)row;
  return count.ColumnInt64(0);
}

Result<int64_t> OfflineLog::Count() {
  std::lock_guard lock(mu_);
  return CountLocked();
}

Result<offline::LogEntry> OfflineLog::Append(offline::LogEntry entry, int64_t limit) {
  std::lock_guard lock(mu_);
  IMPRINT_ASSIGN_OR_RETURN(auto txn, sql::Transaction::Begin(*db_));
  IMPRINT_ASSIGN_OR_RETURN(auto head,
                           db_->Prepare("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1"));
  IMPRINT_ASSIGN_OR_RETURN(bool any, head.Step());
  int64_t last = any ? head.ColumnInt64(0) : 0;
  Bytes previous = any ? head.ColumnBlob(1) : Bytes(32, 0);
  if (last >= limit) {
    return Fail(Code::kResourceExhausted, "the allowance is used up: " + std::to_string(last) +
                                              " of " + std::to_string(limit) +
                                              " certificates issued");
  }
  IMPRINT_ASSIGN_OR_RETURN(auto twice, db_->Prepare("SELECT seq FROM entries WHERE device = ?"));
  twice.BindAll(entry.device);
  IMPRINT_ASSIGN_OR_RETURN(bool logged, twice.Step());
  if (logged) {
    return Fail(Code::kAlreadyExists, "device " + entry.device + " is already in the log");
  }
  entry.seq = last + 1;
  entry.hash = offline::ChainHash(allowance_id_, previous, entry);
  IMPRINT_ASSIGN_OR_RETURN(auto insert,
                           db_->Prepare(std::string("INSERT INTO entries (") + kEntryColumns +
                                        ") VALUES (?, ?, ?, ?, ?, ?, ?)"));
  insert.BindAll(entry.seq, entry.device, entry.serial_hex, entry.certificate_der, entry.challenge,
                 entry.issued_ms, entry.hash);
  IMPRINT_RETURN_IF_ERROR(insert.Run());
  if (entry.seq % kCheckpointEvery == 0) IMPRINT_RETURN_IF_ERROR(SignHeadLocked());
  IMPRINT_RETURN_IF_ERROR(txn.Commit());
  return entry;
}

Status OfflineLog::SignHeadLocked() {
  IMPRINT_ASSIGN_OR_RETURN(
      auto head, db_->Prepare("SELECT e.seq, e.hash, (SELECT count(*) FROM checkpoints c WHERE "
                              "c.seq = e.seq) FROM entries e ORDER BY e.seq DESC LIMIT 1"));
  IMPRINT_ASSIGN_OR_RETURN(bool any, head.Step());
  if (!any || head.ColumnInt64(2) > 0) return {};
  int64_t seq = head.ColumnInt64(0);
  Bytes hash = head.ColumnBlob(1);
  IMPRINT_ASSIGN_OR_RETURN(Bytes signature,
                           signer_.Sign(offline::CheckpointMessage(allowance_id_, seq, hash)));
  IMPRINT_ASSIGN_OR_RETURN(
      auto insert, db_->Prepare("INSERT INTO checkpoints (seq, hash, signature) VALUES (?, ?, ?)"));
  insert.BindAll(seq, hash, signature);
  return insert.Run();
}

Status OfflineLog::RecordProof(const std::string& device, const Bytes& signature) {
  std::lock_guard lock(mu_);
  IMPRINT_ASSIGN_OR_RETURN(
      auto insert,
      db_->Prepare("INSERT INTO proofs (device, signature) VALUES (?, ?) "
                   "ON CONFLICT (device) DO UPDATE SET signature = excluded.signature"));
  insert.BindAll(device, signature);
  return insert.Run();
}

Result<bool> OfflineLog::HasProof(const std::string& device) {
  std::lock_guard lock(mu_);
  IMPRINT_ASSIGN_OR_RETURN(auto row, db_->Prepare("SELECT 1 FROM proofs WHERE device = ?"));
  row.BindAll(device);
  return row.Step();
}

Result<std::map<std::string, Bytes>> OfflineLog::Proofs() {
  std::lock_guard lock(mu_);
  IMPRINT_ASSIGN_OR_RETURN(auto rows, db_->Prepare("SELECT device, signature FROM proofs"));
  std::map<std::string, Bytes> out;
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, rows.Step());
    if (!row) return out;
    out[rows.ColumnText(0)] = rows.ColumnBlob(1);
  }
}

Status OfflineLog::RecordSealedPassword(const std::string& device, const Bytes& sealed,
                                        const Bytes& signature) {
  std::lock_guard lock(mu_);
  IMPRINT_ASSIGN_OR_RETURN(
      auto insert,
      db_->Prepare("INSERT INTO sealed_passwords (device, sealed, signature) VALUES (?, ?, ?) "
                   "ON CONFLICT (device) DO UPDATE SET sealed = excluded.sealed, "
                   "signature = excluded.signature"));
  insert.BindAll(device, sealed, signature);
  return insert.Run();
}

Result<std::map<std::string, SealedPassword>> OfflineLog::SealedPasswords() {
  std::lock_guard lock(mu_);
  IMPRINT_ASSIGN_OR_RETURN(auto rows,
                           db_->Prepare("SELECT device, sealed, signature FROM sealed_passwords"));
  std::map<std::string, SealedPassword> out;
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, rows.Step());
    if (!row) return out;
    out[rows.ColumnText(0)] = {rows.ColumnBlob(1), rows.ColumnBlob(2)};
  }
}

Status OfflineLog::Seal() {
  std::lock_guard lock(mu_);
  IMPRINT_ASSIGN_OR_RETURN(auto txn, sql::Transaction::Begin(*db_));
  IMPRINT_RETURN_IF_ERROR(SignHeadLocked());
  return txn.Commit();
}

Result<std::vector<offline::LogEntry>> OfflineLog::Entries() {
  std::lock_guard lock(mu_);
  IMPRINT_ASSIGN_OR_RETURN(auto rows, db_->Prepare(std::string("SELECT ") + kEntryColumns +
                                                   " FROM entries ORDER BY seq"));
  std::vector<offline::LogEntry> out;
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, rows.Step());
    if (!row) return out;
    out.push_back(ReadEntry(rows));
  }
}

Result<std::vector<offline::LogCheckpoint>> OfflineLog::Checkpoints() {
  std::lock_guard lock(mu_);
  IMPRINT_ASSIGN_OR_RETURN(
      auto rows, db_->Prepare("SELECT seq, hash, signature FROM checkpoints ORDER BY seq"));
  std::vector<offline::LogCheckpoint> out;
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, rows.Step());
    if (!row) return out;
    out.push_back({rows.ColumnInt64(0), rows.ColumnBlob(1), rows.ColumnBlob(2)});
  }
}

}  // namespace imprint::station
