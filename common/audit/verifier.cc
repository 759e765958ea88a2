#include "common/audit/verifier.h"

namespace imprint::audit {

ChainVerifier::ChainVerifier(EVP_PKEY* audit_key)
    : audit_key_(audit_key),
      algorithm_(x509::DefaultAlgorithmFor(audit_key).value_or(
          x509::SignatureAlgorithm::kEcdsaSha256)),
      head_hash_(GenesisHash()) {}

Status ChainVerifier::Bad(uint64_t seq, const std::string& why) {
  failed_ = Error(Code::kDataLoss, "audit record " + std::to_string(seq) + ": " + why);
  return std::unexpected(*failed_);
}

Status ChainVerifier::AddRecord(const Record& record) {
  if (failed_) return std::unexpected(*failed_);
  uint64_t expected = records_ + 1;
  if (record.seq != expected) {
    // A gap or a reordering: the first sequence number that is not where it belongs.
    return Bad(expected, "missing or out of order (found " + std::to_string(record.seq) + ")");
  }
  if (record.prev_hash != head_hash_) return Bad(record.seq, "does not link to its predecessor");
  if (RecordHash(record) != record.hash) return Bad(record.seq, "content does not match its hash");
  head_hash_ = record.hash;
  records_ = record.seq;
  return {};
}

Status ChainVerifier::AddCheckpoint(const Checkpoint& checkpoint) {
  if (failed_) return std::unexpected(*failed_);
  if (checkpoint.seq == 0 || checkpoint.seq > records_) {
    // The log ends (or has a hole) before a record that was sealed: truncation or deletion.
    return Bad(records_ + 1, "missing, but checkpoint " + std::to_string(checkpoint.seq) +
                                 " seals the log past it");
  }
  if (checkpoint.seq != records_) {
    return Bad(checkpoint.seq, "checkpoint out of order");
  }
  if (checkpoint.hash != head_hash_) return Bad(checkpoint.seq, "checkpoint hash differs");
  auto status = x509::VerifySignature(audit_key_, algorithm_,
                                      CheckpointMessage(checkpoint.seq, checkpoint.hash),
                                      checkpoint.signature);
  if (!status) return Bad(checkpoint.seq, "checkpoint signature does not verify");
  ++checkpoints_;
  last_sealed_ = checkpoint.seq;
  return {};
}

Status ChainVerifier::Finish() {
  if (failed_) return std::unexpected(*failed_);
  return {};
}

}  // namespace imprint::audit
