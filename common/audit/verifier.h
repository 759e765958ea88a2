#pragma once
// ChainVerifier: checks an audit log fed in sequence order, record by record, with the
// checkpoints interleaved after the record each seals (docs/audit-format.md, "Verification
// rules"). Shared by `imprint-ca audit verify` (reading the database or an export), by the CA
// before it seals anything, and by offline checks.
//
// Not thread-safe; one verifier per walk.

#include <cstdint>
#include <optional>
#include <string>

#include "common/audit/record.h"
#include "common/error.h"
#include "common/x509/openssl_types.h"
#include "common/x509/signer.h"

namespace imprint::audit {

class ChainVerifier {
 public:
  // `audit_key` verifies checkpoint signatures (not owned; must outlive the verifier).
  explicit ChainVerifier(EVP_PKEY* audit_key);

  // Verifies only what follows `trusted`, a checkpoint whose place in the checkpoint chain the
  // caller has established (the HSM anchor): its signature is checked here, then the first
  // record fed must be the one it seals. Call before anything else.
  Status ResumeAfter(const Checkpoint& trusted);

  // Each returns DATA_LOSS naming the first bad sequence number; after a failure the
  // verifier stays failed.
  Status AddRecord(const Record& record);
  Status AddCheckpoint(const Checkpoint& checkpoint);
  // Call at the end. Fails if the log is empty, its genesis is unsealed, a checkpoint refers
  // to a record that never came (truncation), or more than `max_unsealed` records follow the
  // last checkpoint.
  Status Finish(uint64_t max_unsealed = UINT64_MAX);

  uint64_t records() const { return records_; }
  uint64_t checkpoints() const { return checkpoints_; }
  uint64_t last_sealed_seq() const { return last_ ? last_->seq : 0; }
  // Records after the last checkpoint: covered by the hash chain, not yet by a signature.
  uint64_t unsealed() const { return records_ - last_sealed_seq(); }

 private:
  Status Bad(uint64_t seq, const std::string& why);
  Status CheckSignature(const Checkpoint& checkpoint);

  EVP_PKEY* audit_key_;
  x509::SignatureAlgorithm algorithm_;
  uint64_t records_ = 0;
  uint64_t checkpoints_ = 0;
  uint64_t resume_seq_ = 0;  // the sealed record ResumeAfter expects next; 0 when not resuming
  Bytes head_hash_;
  std::optional<Checkpoint> last_;
  std::optional<Error> failed_;
};

}  // namespace imprint::audit
