#include "common/audit/record.h"

#include <openssl/sha.h>

#include <string_view>

namespace imprint::audit {
namespace {

constexpr std::string_view kRecordContext{"imprint-audit-v1\0", 17};
constexpr std::string_view kCheckpointContext{"imprint-audit-checkpoint-v2\0", 28};

void AppendU64(Bytes& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

void AppendField(Bytes& out, std::string_view text) {
  auto len = static_cast<uint32_t>(text.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(len >> shift));
  out.insert(out.end(), text.begin(), text.end());
}

}  // namespace

Bytes RecordMessage(const Record& record) {
  Bytes out(kRecordContext.begin(), kRecordContext.end());
  AppendU64(out, record.seq);
  AppendU64(out, static_cast<uint64_t>(record.time_ms));
  AppendField(out, record.actor);
  AppendField(out, record.event);
  AppendField(out, record.detail);
  out.insert(out.end(), record.prev_hash.begin(), record.prev_hash.end());
  return out;
}

Bytes RecordHash(const Record& record) {
  Bytes message = RecordMessage(record);
  Bytes digest(kHashBytes);
  SHA256(message.data(), message.size(), digest.data());
  return digest;
}

Bytes CheckpointMessage(const Checkpoint& checkpoint) {
  Bytes out(kCheckpointContext.begin(), kCheckpointContext.end());
  AppendU64(out, checkpoint.seq);
  out.insert(out.end(), checkpoint.hash.begin(), checkpoint.hash.end());
  AppendU64(out, checkpoint.prev_seq);
  out.insert(out.end(), checkpoint.prev_hash.begin(), checkpoint.prev_hash.end());
  AppendU64(out, static_cast<uint64_t>(checkpoint.time_ms));
  return out;
}

Bytes CheckpointHash(const Checkpoint& checkpoint) {
  Bytes message = CheckpointMessage(checkpoint);
  Bytes digest(kHashBytes);
  SHA256(message.data(), message.size(), digest.data());
  return digest;
}

Bytes GenesisHash() { return Bytes(kHashBytes, 0); }

}  // namespace imprint::audit
