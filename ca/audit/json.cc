#include "ca/audit/json.h"

namespace imprint::ca {
namespace {

using nlohmann::json;

Result<Bytes> HexField(const json& j, const char* name, bool is_hash) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string())
    return Fail(Code::kInvalidArgument, std::string("no ") + name);
  Bytes bytes;
  if (!HexDecode(it->get<std::string>(), &bytes) ||
      (is_hash && bytes.size() != audit::kHashBytes)) {
    return Fail(Code::kInvalidArgument,
                std::string(name) + " is not " + (is_hash ? "32 bytes of hex" : "hex"));
  }
  return bytes;
}

template <typename T>
Result<T> NumberField(const json& j, const char* name) {
  auto it = j.find(name);
  bool ok =
      it != j.end() && (std::is_signed_v<T> ? it->is_number_integer() : it->is_number_unsigned());
  if (!ok) return Fail(Code::kInvalidArgument, std::string("no integer ") + name);
  return it->get<T>();
}

Result<std::string> TextField(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string())
    return Fail(Code::kInvalidArgument, std::string("no ") + name);
  return it->get<std::string>();
}

Result<audit::Checkpoint> CheckpointFrom(const json& j) {
  audit::Checkpoint c;
  IMPRINT_ASSIGN_OR_RETURN(c.seq, NumberField<uint64_t>(j, "seq"));
  IMPRINT_ASSIGN_OR_RETURN(c.time_ms, NumberField<int64_t>(j, "time_ms"));
  IMPRINT_ASSIGN_OR_RETURN(c.hash, HexField(j, "hash", true));
  IMPRINT_ASSIGN_OR_RETURN(c.prev_seq, NumberField<uint64_t>(j, "prev_seq"));
  IMPRINT_ASSIGN_OR_RETURN(c.prev_hash, HexField(j, "prev_hash", true));
  IMPRINT_ASSIGN_OR_RETURN(c.signature, HexField(j, "signature", false));
  return c;
}

Result<audit::Record> RecordFrom(const json& j) {
  audit::Record r;
  IMPRINT_ASSIGN_OR_RETURN(r.seq, NumberField<uint64_t>(j, "seq"));
  IMPRINT_ASSIGN_OR_RETURN(r.time_ms, NumberField<int64_t>(j, "time_ms"));
  IMPRINT_ASSIGN_OR_RETURN(r.actor, TextField(j, "actor"));
  IMPRINT_ASSIGN_OR_RETURN(r.event, TextField(j, "event"));
  IMPRINT_ASSIGN_OR_RETURN(r.detail, TextField(j, "detail"));
  IMPRINT_ASSIGN_OR_RETURN(r.prev_hash, HexField(j, "prev_hash", true));
  IMPRINT_ASSIGN_OR_RETURN(r.hash, HexField(j, "hash", true));
  return r;
}

Result<json> ParseObject(std::string_view line) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Fail(Code::kInvalidArgument, "not a JSON object");
  return j;
}

}  // namespace

json RecordJson(const audit::Record& r) {
  return {{"type", "record"},
          {"seq", r.seq},
          {"time_ms", r.time_ms},
          {"actor", r.actor},
          {"event", r.event},
          {"detail", r.detail},
          {"prev_hash", HexEncode(r.prev_hash)},
          {"hash", HexEncode(r.hash)}};
}

json CheckpointJson(const audit::Checkpoint& c) {
  return {{"type", "checkpoint"},
          {"seq", c.seq},
          {"time_ms", c.time_ms},
          {"hash", HexEncode(c.hash)},
          {"prev_seq", c.prev_seq},
          {"prev_hash", HexEncode(c.prev_hash)},
          {"signature", HexEncode(c.signature)}};
}

std::string JsonLine(const json& j) {
  // Invalid UTF-8 cannot be stored (WriteContext replaces it), but never fail an export on it.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::variant<audit::Record, audit::Checkpoint>> ParseAuditLine(std::string_view line) {
  using Entry = std::variant<audit::Record, audit::Checkpoint>;
  IMPRINT_ASSIGN_OR_RETURN(json j, ParseObject(line));
  IMPRINT_ASSIGN_OR_RETURN(std::string type, TextField(j, "type"));
  if (type == "record") {
    IMPRINT_ASSIGN_OR_RETURN(audit::Record r, RecordFrom(j));
    return Entry(std::move(r));
  }
  if (type == "checkpoint") {
    IMPRINT_ASSIGN_OR_RETURN(audit::Checkpoint c, CheckpointFrom(j));
    return Entry(std::move(c));
  }
  return Fail(Code::kInvalidArgument, "unknown type " + type);
}

Result<audit::Checkpoint> ParseCheckpointLine(std::string_view line) {
  IMPRINT_ASSIGN_OR_RETURN(json j, ParseObject(line));
  IMPRINT_ASSIGN_OR_RETURN(std::string type, TextField(j, "type"));
  if (type != "checkpoint") return Fail(Code::kInvalidArgument, "not a checkpoint");
  return CheckpointFrom(j);
}

}  // namespace imprint::ca
