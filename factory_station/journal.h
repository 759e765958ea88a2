#pragma once
// Journal: the station's own SQLite record of every device transaction, one row per (order,
// device): the step reached and the outcome. A station killed at any point reads it back and
// resumes. It never holds a secret: no password, no key.
//
// synchronous=NORMAL (WAL): durable against a killed process; on power loss the last few steps
// may be forgotten, which only repeats steps that are idempotent at the CA and the agent.
// Thread-safe (one connection behind a mutex).

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/error.h"
#include "common/sqlite/checkpointer.h"
#include "common/sqlite/database.h"

namespace imprint::station {

// Called with the step's name right after each step is journaled (and, in reconcile, after each
// step that changed something: reconcile-sealed, reconcile-delegated, reconcile-part). Crash
// tests end the process there (tests/support/station_crash_main.cc); imprint-station never sets
// one.
using StepObserver = void (*)(const char* step);
void SetStepObserver(StepObserver observer);
void NotifyStep(const char* step);

struct JournalRecord {
  std::string step;
  std::string outcome;
  Bytes certificate_der;  // empty before issuance
  Bytes challenge;        // the CA's, for an online certificate
};

// A device that committed its online certificate while the CA was out of reach: the report the
// CA has not had yet, with the device's proof over the CA's challenge.
struct PendingReport {
  std::string order, device, serial_hex;
  Bytes proof;
};

// A device's label (docs/labels.md): its code, and where printing stands: waiting (not sent
// yet), sending (a crash here leaves it in doubt: sent or not, the printer does not say),
// printed, or external (provisioned without a printer: never printed by itself).
struct LabelRow {
  std::string device, code, state;
  int prints = 0;  // sent to a printer, reprints included
  bool bound = false;
  bool provisioned = false;  // the device's transaction ended provisioned: the label may print
};

class Journal {
 public:
  static Result<std::unique_ptr<Journal>> Open(const std::string& path);

  // Starts (or restarts) a device's transaction: outcome in_progress, attempts + 1.
  Status Begin(const std::string& order, const std::string& device, const std::string& address);
  Status Step(const std::string& order, const std::string& device, const std::string& step);
  Status RecordCertificate(const std::string& order, const std::string& device,
                           const std::string& serial_hex, const Bytes& certificate_der,
                           const Bytes& challenge = {});
  Status Finish(const std::string& order, const std::string& device, const std::string& outcome,
                const std::string& error, int64_t duration_ms);
  Result<std::optional<JournalRecord>> Find(const std::string& order, const std::string& device);
  // The report of a committed device waits for the CA (step report-pending); sent by
  // SendPendingReports, which marks it Reported ("" when the CA took it, else its refusal: the
  // device's outcome becomes failed).
  Status DeferReport(const std::string& order, const std::string& device, const Bytes& proof);
  Result<std::vector<PendingReport>> PendingReports();
  Status Reported(const std::string& order, const std::string& device, const std::string& refusal);
  // Labels (factory_station/labels/queue.h). The code the device's certificate gives its label
  // (common/label_code.h), recorded before the device commits: waiting when this run prints,
  // else external. A new code (a new certificate) starts the label anew.
  Status LabelFor(const std::string& order, const std::string& device, ByteView certificate_der,
                  bool printing);
  // One device's label, or every label of the order (in device order).
  Result<std::optional<LabelRow>> Label(const std::string& order, const std::string& device);
  Result<std::vector<LabelRow>> Labels(const std::string& order);
  // The device whose label carries `code` in the order, if any.
  Result<std::optional<std::string>> LabelOwner(const std::string& order, const std::string& code);
  // waiting -> sending (step label-sending) -> printed with `prints` (step label-printed); a
  // failed send goes back to waiting.
  Status LabelState(const std::string& order, const std::string& device, const std::string& state,
                    int prints);
  Status LabelBound(const std::string& order, const std::string& device);
  // A reprint or a refused scan, kept with the label (label_events).
  Status LabelEvent(const std::string& order, const std::string& device, const std::string& event,
                    const std::string& detail);
  // Counts by outcome, for one order or all ("" ).
  Result<std::map<std::string, int64_t>> Counts(const std::string& order);

 private:
  Journal(std::unique_ptr<sql::SqliteDatabase> db, std::unique_ptr<sql::Checkpointer> checkpointer)
      : db_(std::move(db)), checkpointer_(std::move(checkpointer)) {}
  std::mutex mu_;
  std::unique_ptr<sql::SqliteDatabase> db_;
  std::unique_ptr<sql::Checkpointer> checkpointer_;
};

}  // namespace imprint::station
