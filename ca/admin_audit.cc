// `imprint-ca audit verify` and `imprint-ca audit export`.

#include <nlohmann/json.hpp>

#include "ca/admin.h"
#include "ca/admin_session.h"
#include "common/audit/verifier.h"

namespace imprint::ca {
namespace {

// Walks records in sequence order with each checkpoint right after the record it seals, then
// any checkpoint that refers past the last record (a truncated log).
template <typename OnRecord, typename OnCheckpoint>
Status WalkLog(sql::Database& db, OnRecord on_record, OnCheckpoint on_checkpoint) {
  IMPRINT_ASSIGN_OR_RETURN(auto records, db.Prepare(
      "SELECT seq, time_ms, actor, event, detail, prev_hash, hash FROM audit_log ORDER BY seq"));
  IMPRINT_ASSIGN_OR_RETURN(auto checkpoints, db.Prepare(
      "SELECT seq, time_ms, hash, signature FROM audit_checkpoints ORDER BY seq"));
  IMPRINT_ASSIGN_OR_RETURN(bool have_cp, checkpoints.Step());
  auto read_cp = [&] {
    return audit::Checkpoint{static_cast<uint64_t>(checkpoints.ColumnInt64(0)),
                             checkpoints.ColumnInt64(1), checkpoints.ColumnBlob(2),
                             checkpoints.ColumnBlob(3)};
  };
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, records.Step());
    if (!row) break;
    audit::Record r{static_cast<uint64_t>(records.ColumnInt64(0)), records.ColumnInt64(1),
                    records.ColumnText(2), records.ColumnText(3), records.ColumnText(4),
                    records.ColumnBlob(5), records.ColumnBlob(6)};
    // Checkpoints for seqs below this record belong to records that are missing.
    while (have_cp && static_cast<uint64_t>(checkpoints.ColumnInt64(0)) < r.seq) {
      IMPRINT_RETURN_IF_ERROR(on_checkpoint(read_cp()));
      IMPRINT_ASSIGN_OR_RETURN(have_cp, checkpoints.Step());
    }
    IMPRINT_RETURN_IF_ERROR(on_record(r));
    while (have_cp && static_cast<uint64_t>(checkpoints.ColumnInt64(0)) == r.seq) {
      IMPRINT_RETURN_IF_ERROR(on_checkpoint(read_cp()));
      IMPRINT_ASSIGN_OR_RETURN(have_cp, checkpoints.Step());
    }
  }
  while (have_cp) {
    IMPRINT_RETURN_IF_ERROR(on_checkpoint(read_cp()));
    IMPRINT_ASSIGN_OR_RETURN(have_cp, checkpoints.Step());
  }
  return {};
}

}  // namespace

Result<AuditSummary> AuditVerify(const CaConfig& config) {
  // The audit key comes from the token, not the database: whoever can edit the database cannot
  // swap the key that checks it.
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::Open(config));
  audit::ChainVerifier verifier(s.hsm->audit().public_key());
  IMPRINT_RETURN_IF_ERROR(WalkLog(
      *s.db, [&](const audit::Record& r) { return verifier.AddRecord(r); },
      [&](const audit::Checkpoint& c) { return verifier.AddCheckpoint(c); }));
  IMPRINT_RETURN_IF_ERROR(verifier.Finish());
  return AuditSummary{verifier.records(), verifier.checkpoints(), verifier.last_sealed_seq()};
}

Status AuditExport(const CaConfig& config, std::ostream& out) {
  IMPRINT_ASSIGN_OR_RETURN(auto db, OpenCaDatabase(config));
  return WalkLog(
      *db,
      [&](const audit::Record& r) -> Status {
        nlohmann::json line = {{"type", "record"},      {"seq", r.seq},
                               {"time_ms", r.time_ms},  {"actor", r.actor},
                               {"event", r.event},      {"detail", r.detail},
                               {"prev_hash", HexEncode(r.prev_hash)},
                               {"hash", HexEncode(r.hash)}};
        out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        return {};
      },
      [&](const audit::Checkpoint& c) -> Status {
        nlohmann::json line = {{"type", "checkpoint"}, {"seq", c.seq}, {"time_ms", c.time_ms},
                               {"hash", HexEncode(c.hash)},
                               {"signature", HexEncode(c.signature)}};
        out << line.dump() << '\n';
        return {};
      });
}

}  // namespace imprint::ca
