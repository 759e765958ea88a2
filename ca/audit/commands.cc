// `imprint-ca audit verify`, `audit export` and `audit anchor export`.
#include "ca/audit/commands.h"

#include <fstream>

#include "ca/admin.h"
#include "ca/admin_session.h"
#include "ca/audit/guard.h"
#include "ca/audit/json.h"
#include "ca/audit/start.h"
#include "common/audit/verifier.h"
#include "common/file_util.h"
#include "common/sql/transaction.h"
#include "common/utc_time.h"
#include "common/x509/encoding.h"

namespace imprint::ca {
namespace {

// Walks records in sequence order with each checkpoint right after the record it seals, then
// any checkpoint that refers past the last record (a truncated log).
template <typename OnRecord, typename OnCheckpoint>
Status WalkLog(sql::Database& db, OnRecord on_record, OnCheckpoint on_checkpoint) {
  IMPRINT_ASSIGN_OR_RETURN(auto records, db.Prepare(std::string(kSelectRecords) + "ORDER BY seq"));
  IMPRINT_ASSIGN_OR_RETURN(auto checkpoints,
                           db.Prepare(std::string(kSelectCheckpoints) + "ORDER BY seq"));
  IMPRINT_ASSIGN_OR_RETURN(bool have_cp, checkpoints.Step());
  auto next_cp = [&]() -> Status {
    IMPRINT_RETURN_IF_ERROR(on_checkpoint(CheckpointFromRow(checkpoints)));
    IMPRINT_ASSIGN_OR_RETURN(have_cp, checkpoints.Step());
    return {};
  };
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, records.Step());
    if (!row) break;
    audit::Record r = RecordFromRow(records);
    // Checkpoints for seqs below this record belong to records that are missing.
    while (have_cp && static_cast<uint64_t>(checkpoints.ColumnInt64(0)) < r.seq) {
      IMPRINT_RETURN_IF_ERROR(next_cp());
    }
    IMPRINT_RETURN_IF_ERROR(on_record(r));
    while (have_cp && static_cast<uint64_t>(checkpoints.ColumnInt64(0)) == r.seq) {
      IMPRINT_RETURN_IF_ERROR(next_cp());
    }
  }
  while (have_cp) IMPRINT_RETURN_IF_ERROR(next_cp());
  return {};
}

// The checkpoint in an anchor file, its signature checked with `audit_key`.
Result<audit::Checkpoint> ReadAnchorFile(const std::string& path, EVP_PKEY* audit_key) {
  IMPRINT_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path, 64 * 1024));
  auto checkpoint = ParseCheckpointLine(text);
  if (!checkpoint) {
    return Fail(Code::kInvalidArgument,
                path + " is not an anchor file: " + checkpoint.error().message());
  }
  audit::ChainVerifier check(audit_key);
  if (!check.ResumeAfter(*checkpoint)) {
    return Fail(Code::kDataLoss, "the anchor file " + path +
                                     " does not verify with the audit key: it was altered or "
                                     "belongs to another CA");
  }
  return *checkpoint;
}

Status RequireAnchorCheckpoint(const std::optional<audit::Checkpoint>& found,
                               const audit::Checkpoint& anchor) {
  if (!found || audit::CheckpointHash(*found) != audit::CheckpointHash(anchor)) {
    return Fail(Code::kDataLoss,
                "audit record " + std::to_string(anchor.seq) +
                    ": the log does not hold the anchor file's checkpoint sealing it: the log "
                    "was rolled back, truncated or replaced since the anchor was taken");
  }
  return {};
}

// The whole log, every record and checkpoint, through `verifier`.
Status VerifyWholeLog(sql::Database& db, audit::ChainVerifier& verifier, uint64_t every) {
  IMPRINT_RETURN_IF_ERROR(WalkLog(
      db, [&](const audit::Record& r) { return verifier.AddRecord(r); },
      [&](const audit::Checkpoint& c) { return verifier.AddCheckpoint(c); }));
  // Committed batches leave fewer than `every` records unsealed (RunBatch seals or fails).
  return verifier.Finish(every > 0 ? every - 1 : 0);
}

std::string CheckpointId(const std::optional<audit::Checkpoint>& c) {
  return c ? HexEncode(audit::CheckpointHash(*c)) : "";
}

}  // namespace

Result<AuditSummary> AuditVerify(const CaConfig& config, const std::string& anchor_file) {
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::OpenReadOnly(config));
  return AuditVerify(config, s, anchor_file);
}

Result<AuditSummary> AuditVerify(const CaConfig& config, AdminSession& s,
                                 const std::string& anchor_file) {
  // The audit key and the anchor come from the token, not the database: whoever can edit the
  // database can swap neither. The session's store when it holds one, else one read-only.
  std::unique_ptr<sql::Database> read_only;
  if (!s.db) {
    IMPRINT_ASSIGN_OR_RETURN(read_only, OpenCaDatabaseReadOnly(config));
  }
  sql::Database* db = s.db ? s.db.get() : read_only.get();
  EVP_PKEY* key = s.hsm->audit().public_key();
  std::optional<audit::Checkpoint> file_anchor;
  if (!anchor_file.empty()) {
    IMPRINT_ASSIGN_OR_RETURN(file_anchor, ReadAnchorFile(anchor_file, key));
  }

  // One read transaction: the database as of the moment the anchor is read. Under the shared
  // seal lock no process is between a commit and its anchor write.
  // Rolled back on every early return: the session's store goes on serving its command.
  IMPRINT_ASSIGN_OR_RETURN(auto read,
                           sql::Transaction::Begin(*db, sql::Transaction::Mode::kDeferred));
  std::optional<audit::Checkpoint> newest, anchor;
  {
    auto lock = s.anchor->LockShared();
    if (!lock && lock.error().code() != Code::kNotFound) return std::unexpected(lock.error());
    IMPRINT_ASSIGN_OR_RETURN(newest, NewestCheckpoint(*db));
    IMPRINT_ASSIGN_OR_RETURN(anchor, s.anchor->Read());
  }
  audit::ChainVerifier verifier(key);
  IMPRINT_RETURN_IF_ERROR(VerifyWholeLog(*db, verifier, config.checkpoint_every));
  IMPRINT_ASSIGN_OR_RETURN(AnchorState state, CompareWithAnchor(*db, newest, anchor));
  AuditSummary summary{
      verifier.records(),  verifier.checkpoints(), verifier.last_sealed_seq(),
      verifier.unsealed(), std::nullopt,           state == AnchorState::kOneBehind};
  if (anchor) summary.anchor = anchor->seq;
  if (file_anchor) {
    IMPRINT_ASSIGN_OR_RETURN(auto found, CheckpointAt(*db, file_anchor->seq));
    IMPRINT_RETURN_IF_ERROR(RequireAnchorCheckpoint(found, *file_anchor));
  }
  IMPRINT_RETURN_IF_ERROR(read.Commit());
  return summary;
}

Result<AuditSummary> AuditVerifyExport(const std::string& export_path, const std::string& key_pem,
                                       const std::string& anchor_file) {
  IMPRINT_ASSIGN_OR_RETURN(std::string pem, ReadWholeFile(key_pem, 64 * 1024));
  IMPRINT_ASSIGN_OR_RETURN(x509::PkeyPtr key, x509::ParsePublicKeyPem(pem));
  std::optional<audit::Checkpoint> file_anchor, at_anchor;
  if (!anchor_file.empty()) {
    IMPRINT_ASSIGN_OR_RETURN(file_anchor, ReadAnchorFile(anchor_file, key.get()));
  }
  std::ifstream in(export_path);
  if (!in) return Fail(Code::kNotFound, "cannot read " + export_path);
  audit::ChainVerifier verifier(key.get());
  std::string line;
  for (uint64_t number = 1; std::getline(in, line); ++number) {
    auto entry = ParseAuditLine(line);
    if (!entry) {
      return Fail(Code::kInvalidArgument,
                  export_path + " line " + std::to_string(number) + ": " + entry.error().message());
    }
    if (auto* record = std::get_if<audit::Record>(&*entry)) {
      IMPRINT_RETURN_IF_ERROR(verifier.AddRecord(*record));
    } else {
      const auto& checkpoint = std::get<audit::Checkpoint>(*entry);
      IMPRINT_RETURN_IF_ERROR(verifier.AddCheckpoint(checkpoint));
      if (file_anchor && checkpoint.seq == file_anchor->seq) at_anchor = checkpoint;
    }
  }
  IMPRINT_RETURN_IF_ERROR(verifier.Finish());
  if (file_anchor) IMPRINT_RETURN_IF_ERROR(RequireAnchorCheckpoint(at_anchor, *file_anchor));
  AuditSummary summary{verifier.records(),  verifier.checkpoints(), verifier.last_sealed_seq(),
                       verifier.unsealed(), std::nullopt,           false};
  if (file_anchor) summary.anchor = file_anchor->seq;
  return summary;
}

Status AuditExport(const CaConfig& config, std::ostream& out) {
  IMPRINT_ASSIGN_OR_RETURN(auto db, OpenCaDatabaseReadOnly(config));
  return WalkLog(
      *db,
      [&](const audit::Record& r) -> Status {
        out << JsonLine(RecordJson(r)) << '\n';
        return {};
      },
      [&](const audit::Checkpoint& c) -> Status {
        out << JsonLine(CheckpointJson(c)) << '\n';
        return {};
      });
}

Status AuditAnchorExport(const CaConfig& config, const std::string& out_path) {
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::OpenToken(config));
  IMPRINT_ASSIGN_OR_RETURN(auto anchor, s.anchor->Read());
  if (!anchor) return Fail(Code::kNotFound, "the token holds no audit anchor");
  audit::ChainVerifier check(s.hsm->audit().public_key());
  IMPRINT_RETURN_IF_ERROR(check.ResumeAfter(*anchor));
  return WriteFileAtomic(out_path, JsonLine(CheckpointJson(*anchor)) + "\n", 0644);
}

Status AuditAnchorAdopt(const CaConfig& config, std::ostream& out) {
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::OpenToken(config));
  IMPRINT_ASSIGN_OR_RETURN(s.db, OpenCaDatabase(config));
  SealPolicy seal = s.seal(config);
  {
    IMPRINT_ASSIGN_OR_RETURN(SealLock lock, s.anchor->LockExclusive());
    IMPRINT_ASSIGN_OR_RETURN(auto anchor, s.anchor->Read());
    IMPRINT_ASSIGN_OR_RETURN(auto newest, NewestCheckpoint(*s.db));
    if (CompareWithAnchor(*s.db, newest, anchor)) {
      out << "the database and the HSM anchor agree; nothing to adopt\n";
      return {};
    }
    // Only a log that verifies on its own, from its genesis, may become the anchored one.
    audit::ChainVerifier verifier(s.hsm->audit().public_key());
    IMPRINT_RETURN_IF_ERROR(VerifyWholeLog(*s.db, verifier, config.checkpoint_every));
    // Kept in the token before the anchor moves, so the adoption is audited even if this
    // process dies right after (VerifyBeforeWriting below, or the next start, writes it).
    IMPRINT_RETURN_IF_ERROR(
        s.anchor->Keep({"audit.anchor_adopted",
                        {{"time_ms", NowMs()},
                         {"previous_anchor_seq", anchor ? anchor->seq : 0},
                         {"previous_anchor_checkpoint_sha256", CheckpointId(anchor)},
                         {"database_sealed_through", newest->seq},
                         {"database_checkpoint_sha256", CheckpointId(newest)}}}));
    IMPRINT_RETURN_IF_ERROR(s.anchor->Write(*newest));
  }
  IMPRINT_ASSIGN_OR_RETURN(StartCheck check,
                           VerifyBeforeWriting(*s.db, seal, "audit anchor adopt"));
  out << "anchor adopted: the database, sealed through record " << check.head
      << ", is now the anchored log; the adoption is audit record audit.anchor_adopted\n";
  return {};
}

}  // namespace imprint::ca
