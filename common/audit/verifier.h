#pragma once
// ChainVerifier: checks an audit log fed in sequence order, record by record, with the
// checkpoints interleaved after the record each seals. Shared by `imprint-ca audit verify`
// (reading the database) and offline checks of an export.

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

  // Each returns DATA_LOSS naming the first bad sequence number; after a failure the
  // verifier stays failed.
  Status AddRecord(const Record& record);
  Status AddCheckpoint(const Checkpoint& checkpoint);
  // Call at the end: fails if a checkpoint refers to a record that never came (truncation).
  Status Finish();

  uint64_t records() const { return records_; }
  uint64_t checkpoints() const { return checkpoints_; }
  uint64_t last_sealed_seq() const { return last_sealed_; }

 private:
  Status Bad(uint64_t seq, const std::string& why);

  EVP_PKEY* audit_key_;
  x509::SignatureAlgorithm algorithm_;
  uint64_t records_ = 0;
  uint64_t checkpoints_ = 0;
  uint64_t last_sealed_ = 0;
  Bytes head_hash_;
  std::optional<Error> failed_;
};

}  // namespace imprint::audit
