#pragma once
// The audit log's record and checkpoint formats: the exact bytes that are hashed and signed.
// docs/audit-format.md describes the same bytes for independent verifiers; keep them in step.

#include <cstdint>
#include <string>

#include "common/bytes.h"

namespace imprint::audit {

inline constexpr size_t kHashBytes = 32;  // SHA-256

struct Record {
  uint64_t seq = 0;      // 1, 2, 3, ... without gaps
  int64_t time_ms = 0;   // Unix time in milliseconds
  std::string actor;     // "admin", "station:line-1", "ca"
  std::string event;     // "certificate.issued", ...
  std::string detail;    // a JSON object, stored and hashed as these exact UTF-8 bytes
  Bytes prev_hash;       // hash of record seq-1; 32 zero bytes for seq 1
  Bytes hash;            // RecordHash(*this)
};

struct Checkpoint {
  uint64_t seq = 0;   // the record it seals
  int64_t time_ms = 0;
  Bytes hash;         // that record's hash
  Bytes signature;    // by the HSM audit key over CheckpointMessage(seq, hash)
};

// "imprint-audit-v1\0" || u64be(seq) || i64be(time_ms) || u32be(len) actor || u32be(len) event
// || u32be(len) detail || prev_hash.
Bytes RecordMessage(const Record& record);
Bytes RecordHash(const Record& record);

// "imprint-audit-checkpoint-v1\0" || u64be(seq) || hash.
Bytes CheckpointMessage(uint64_t seq, ByteView hash);

// 32 zero bytes: the prev_hash of the first record.
Bytes GenesisHash();

}  // namespace imprint::audit
