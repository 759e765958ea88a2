#pragma once
// The audit log's record and checkpoint formats: the exact bytes that are hashed and signed.
// docs/audit-format.md describes the same bytes for independent verifiers; keep them in step.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/bytes.h"

namespace imprint::audit {

inline constexpr size_t kHashBytes = 32;  // SHA-256

// The first record of every log (seq 1), sealed at once by the first checkpoint.
inline constexpr std::string_view kGenesisEvent = "audit.genesis";
inline constexpr std::string_view kFormat = "imprint-audit-v2";

struct Record {
  uint64_t seq = 0;     // 1, 2, 3, ... without gaps
  int64_t time_ms = 0;  // Unix time in milliseconds
  std::string actor;    // "admin", "station:line-1", "ca"
  std::string event;    // "certificate.issued", ...
  std::string detail;   // a JSON object, stored and hashed as these exact UTF-8 bytes
  Bytes prev_hash;      // hash of record seq-1; 32 zero bytes for seq 1
  Bytes hash;           // RecordHash(*this)
};

// A signed seal over the log up to record `seq`, chained to the checkpoint before it.
struct Checkpoint {
  uint64_t seq = 0;       // the record it seals
  int64_t time_ms = 0;    // when it was written; signed
  Bytes hash;             // that record's hash
  uint64_t prev_seq = 0;  // the record the previous checkpoint seals; 0 for the first
  Bytes prev_hash;        // CheckpointHash of the previous checkpoint; zeros for the first
  Bytes signature;        // by the HSM audit key over CheckpointMessage(*this)
};

// "imprint-audit-v1\0" || u64be(seq) || i64be(time_ms) || u32be(len) actor || u32be(len) event
// || u32be(len) detail || prev_hash. (The record bytes did not change with format v2.)
Bytes RecordMessage(const Record& record);
Bytes RecordHash(const Record& record);

// "imprint-audit-checkpoint-v2\0" || u64be(seq) || hash || u64be(prev_seq) || prev_hash ||
// i64be(time_ms).
Bytes CheckpointMessage(const Checkpoint& checkpoint);
// SHA-256 of CheckpointMessage: what the next checkpoint names as its predecessor. The
// signature is left out on purpose (an ECDSA signature can be re-encoded without the key).
Bytes CheckpointHash(const Checkpoint& checkpoint);

// 32 zero bytes: the prev_hash of the first record and of the first checkpoint.
Bytes GenesisHash();

}  // namespace imprint::audit
