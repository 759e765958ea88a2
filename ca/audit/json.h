#pragma once
// The JSON forms of audit records and checkpoints (docs/audit-format.md, "Export"): one object
// per line of `imprint-ca audit export`, the anchor file of `audit anchor export`, and the
// anchor value kept in the token.

#include <nlohmann/json.hpp>
#include <string>
#include <variant>

#include "common/audit/record.h"
#include "common/error.h"

namespace imprint::ca {

nlohmann::json RecordJson(const audit::Record& record);
nlohmann::json CheckpointJson(const audit::Checkpoint& checkpoint);
// One export line, without its newline.
std::string JsonLine(const nlohmann::json& json);

// Parses one export line (or an anchor file). INVALID_ARGUMENT naming the field when the line
// is not JSON, lacks a field, has the wrong type, or a hash that is not 32 bytes of hex: the
// input may come from anyone.
Result<std::variant<audit::Record, audit::Checkpoint>> ParseAuditLine(std::string_view line);
Result<audit::Checkpoint> ParseCheckpointLine(std::string_view line);

}  // namespace imprint::ca
