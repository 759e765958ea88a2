#include "factory_station/journal.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "common/sql/migrations.h"
#include "common/utc_time.h"

namespace imprint::station {
namespace {

constexpr sql::Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE devices (
  order_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  address TEXT NOT NULL,
  step TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('in_progress', 'provisioned', 'failed', 'skipped')),
  serial_hex TEXT,
  certificate_der BLOB,
  error TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  started_ms INTEGER NOT NULL,
  finished_ms INTEGER,
  duration_ms INTEGER,
  PRIMARY KEY (order_id, device_id)
) WITHOUT ROWID;
)sql"},
    // The CA's challenge for an online certificate, and the device's proof over it while the
    // report waits for the CA (a run that lost the CA after the device committed).
    {2, R"sql(
ALTER TABLE devices ADD COLUMN challenge BLOB;
ALTER TABLE devices ADD COLUMN report_proof BLOB;
)sql"},
    // Labels (docs/labels.md): one a device, keyed like its transaction ('external': provisioned
    // by a run without a printer, its label made from labels.jsonl by other means); and the
    // events an operator caused (reprints, refused scans).
    {3, R"sql(
CREATE TABLE labels (
  order_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  label_code TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('waiting', 'sending', 'printed', 'external')),
  prints INTEGER NOT NULL DEFAULT 0,
  printed_ms INTEGER,
  bound_ms INTEGER,
  PRIMARY KEY (order_id, device_id)
) WITHOUT ROWID;
CREATE INDEX labels_code ON labels (order_id, label_code);
CREATE TABLE label_events (
  order_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  event TEXT NOT NULL,
  detail TEXT NOT NULL,
  time_ms INTEGER NOT NULL
);
)sql"},
};

std::atomic<StepObserver> g_step_observer{nullptr};

}  // namespace

void SetStepObserver(StepObserver observer) { g_step_observer = observer; }

void NotifyStep(const char* step) {
  if (StepObserver observer = g_step_observer.load()) observer(step);
}

Result<std::unique_ptr<Journal>> Journal::Open(const std::string& path) {
  sql::DatabaseOptions options;
  options.synchronous = "NORMAL";
  options.auto_checkpoint = false;  // a device's step never waits for a checkpoint
  IMPRINT_ASSIGN_OR_RETURN(auto db, sql::SqliteDatabase::Open(path, options));
  IMPRINT_RETURN_IF_ERROR(sql::Migrate(*db, kMigrations));
  IMPRINT_ASSIGN_OR_RETURN(auto checkpointer, sql::Checkpointer::Start(path));
  return std::unique_ptr<Journal>(new Journal(std::move(db), std::move(checkpointer)));
}

Status Journal::Begin(const std::string& order, const std::string& device,
                      const std::string& address) {
  std::lock_guard lock(mu_);
  IMPRINT_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare(
          "INSERT INTO devices (order_id, device_id, address, step, outcome, attempts, started_ms) "
          "VALUES (?, ?, ?, 'identified', 'in_progress', 1, ?) ON CONFLICT (order_id, device_id) "
          "DO "
          "UPDATE SET address = excluded.address, outcome = 'in_progress', error = NULL, "
          "attempts = attempts + 1, started_ms = excluded.started_ms"));
  stmt.BindAll(order, device, address, NowMs());
  IMPRINT_RETURN_IF_ERROR(stmt.Run());
  NotifyStep("identified");
  return {};
}

Status Journal::Step(const std::string& order, const std::string& device, const std::string& step) {
  std::lock_guard lock(mu_);
  IMPRINT_ASSIGN_OR_RETURN(
      auto stmt, db_->Prepare("UPDATE devices SET step = ? WHERE order_id = ? AND device_id = ?"));
  stmt.BindAll(step, order, device);
  IMPRINT_RETURN_IF_ERROR(stmt.Run());
  NotifyStep(step.c_str());
  return {};
}

Status Journal::RecordCertificate(const std::string& order, const std::string& device,
                                  const std::string& serial_hex, const Bytes& certificate_der,
                                  const Bytes& challenge) {
  std::lock_guard lock(mu_);
  IMPRINT_ASSIGN_OR_RETURN(auto stmt,
                           db_->Prepare("UPDATE devices SET step = 'issued', serial_hex = ?, "
                                        "certificate_der = ?, challenge = ?, report_proof = NULL "
                                        "WHERE order_id = ? AND device_id = ?"));
  stmt.BindAll(serial_hex, certificate_der, challenge, order, device);
  IMPRINT_RETURN_IF_ERROR(stmt.Run());
  NotifyStep("issued");
  return {};
}

Status Journal::Finish(const std::string& order, const std::string& device,
                       const std::string& outcome, const std::string& error, int64_t duration_ms) {
  std::lock_guard lock(mu_);
  IMPRINT_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare(
          "INSERT INTO devices (order_id, device_id, address, step, outcome, error, started_ms, "
          "finished_ms, duration_ms) VALUES (?, ?, '', 'identified', ?, ?, ?, ?, ?) "
          "ON CONFLICT (order_id, device_id) DO UPDATE SET "
          // A device our own transaction committed, found verified at the CA after we stopped
          // before recording it (killed between the report and this line), is ours: provisioned.
          "outcome = CASE WHEN excluded.outcome = 'skipped' AND devices.outcome = 'in_progress' "
          "AND devices.step = 'committed' THEN 'provisioned' ELSE excluded.outcome END, "
          "error = excluded.error, finished_ms = excluded.finished_ms, "
          "duration_ms = excluded.duration_ms "
          // A device we provisioned and later see committed stays "provisioned".
          "WHERE excluded.outcome != 'skipped' OR devices.outcome != 'provisioned'"));
  int64_t now = NowMs();
  stmt.BindAll(order, device, outcome, error, now, now, duration_ms);
  IMPRINT_RETURN_IF_ERROR(stmt.Run());
  if (outcome == "provisioned") NotifyStep("reported");
  return {};
}

Result<std::optional<JournalRecord>> Journal::Find(const std::string& order,
                                                   const std::string& device) {
  std::lock_guard lock(mu_);
  IMPRINT_ASSIGN_OR_RETURN(
      auto stmt, db_->Prepare("SELECT step, outcome, certificate_der, challenge FROM devices "
                              "WHERE order_id = ? AND device_id = ?"));
  stmt.BindAll(order, device);
  IMPRINT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<JournalRecord>();
  auto blob = [&](int column) {
    return stmt.ColumnIsNull(column) ? Bytes{} : stmt.ColumnBlob(column);
  };
  return std::optional<JournalRecord>(
      JournalRecord{stmt.ColumnText(0), stmt.ColumnText(1), blob(2), blob(3)});
}

Status Journal::DeferReport(const std::string& order, const std::string& device,
                            const Bytes& proof) {
  std::lock_guard lock(mu_);
  IMPRINT_ASSIGN_OR_RETURN(auto stmt, db_->Prepare("UPDATE devices SET step = 'report-pending', "
                                                   "report_proof = ? WHERE order_id = ? AND "
                                                   "device_id = ?"));
  stmt.BindAll(proof, order, device);
  IMPRINT_RETURN_IF_ERROR(stmt.Run());
  NotifyStep("report-pending");
  return {};
}

Result<std::vector<PendingReport>> Journal::PendingReports() {
  std::lock_guard lock(mu_);
  IMPRINT_ASSIGN_OR_RETURN(
      auto stmt, db_->Prepare("SELECT order_id, device_id, serial_hex, report_proof FROM devices "
                              "WHERE step = 'report-pending' ORDER BY order_id, device_id"));
  std::vector<PendingReport> out;
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back({stmt.ColumnText(0), stmt.ColumnText(1), stmt.ColumnText(2), stmt.ColumnBlob(3)});
  }
  return out;
}

Status Journal::Reported(const std::string& order, const std::string& device,
                         const std::string& refusal) {
  std::lock_guard lock(mu_);
  IMPRINT_ASSIGN_OR_RETURN(
      auto stmt, db_->Prepare("UPDATE devices SET step = ?, report_proof = NULL, "
                              "outcome = CASE WHEN ? = '' THEN outcome ELSE 'failed' END, "
                              "error = CASE WHEN ? = '' THEN error ELSE ? END "
                              "WHERE order_id = ? AND device_id = ? AND step = 'report-pending'"));
  stmt.BindAll(refusal.empty() ? "reported" : "report-refused", refusal, refusal, refusal, order,
               device);
  return stmt.Run();
}

Result<std::map<std::string, int64_t>> Journal::Counts(const std::string& order) {
  std::lock_guard lock(mu_);
  IMPRINT_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare(
          "SELECT outcome, count(*) FROM devices WHERE ? = '' OR order_id = ? GROUP BY outcome"));
  stmt.BindAll(order, order);
  std::map<std::string, int64_t> counts;
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    counts[stmt.ColumnText(0)] = stmt.ColumnInt64(1);
  }
  return counts;
}

}  // namespace imprint::station
