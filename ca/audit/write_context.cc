#include "ca/audit/write_context.h"

namespace imprint::ca {

Status WriteContext::LoadHead() {
  IMPRINT_ASSIGN_OR_RETURN(
      auto stmt, db_.Prepare("SELECT a.seq, a.hash, (SELECT MAX(c.seq) FROM audit_checkpoints c) "
                             "FROM audit_log a ORDER BY a.seq DESC LIMIT 1"));
  IMPRINT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  head_ = row ? Head{static_cast<uint64_t>(stmt.ColumnInt64(0)), stmt.ColumnBlob(1)} : Head{};
  sealed_seq_ = row && !stmt.ColumnIsNull(2) ? static_cast<uint64_t>(stmt.ColumnInt64(2)) : 0;
  return {};
}

Result<uint64_t> WriteContext::Audit(std::string_view actor, std::string_view event,
                                     const nlohmann::json& detail) {
  audit::Record record;
  record.seq = head_.seq + 1;
  record.time_ms = now_ms_;
  record.actor = actor;
  record.event = event;
  // Invalid UTF-8 from a client is replaced, so every record is valid JSON text.
  record.detail = detail.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  record.prev_hash = head_.hash;
  record.hash = audit::RecordHash(record);
  IMPRINT_ASSIGN_OR_RETURN(
      auto insert,
      db_.Prepare("INSERT INTO audit_log (seq, time_ms, actor, event, detail, prev_hash, hash) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?)"));
  insert.BindAll(static_cast<int64_t>(record.seq), record.time_ms, record.actor, record.event,
                 record.detail, record.prev_hash, record.hash);
  IMPRINT_RETURN_IF_ERROR(insert.Queue());
  head_ = Head{record.seq, record.hash};
  return record.seq;
}

}  // namespace imprint::ca
