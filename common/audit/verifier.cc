#include "common/audit/verifier.h"

namespace imprint::audit {

ChainVerifier::ChainVerifier(EVP_PKEY* audit_key)
    : audit_key_(audit_key),
      algorithm_(
          x509::DefaultAlgorithmFor(audit_key).value_or(x509::SignatureAlgorithm::kEcdsaSha256)),
      head_hash_(GenesisHash()) {}

Status ChainVerifier::Bad(uint64_t seq, const std::string& why) {
  failed_ = Error(Code::kDataLoss, "audit record " + std::to_string(seq) + ": " + why);
  return std::unexpected(*failed_);
}

Status ChainVerifier::CheckSignature(const Checkpoint& checkpoint) {
  if (!x509::VerifySignature(audit_key_, algorithm_, CheckpointMessage(checkpoint),
                             checkpoint.signature)) {
    return Bad(checkpoint.seq, "checkpoint signature does not verify");
  }
  return {};
}

Status ChainVerifier::ResumeAfter(const Checkpoint& trusted) {
  if (failed_) return std::unexpected(*failed_);
  if (trusted.seq == 0) return Bad(0, "a checkpoint must seal a record");
  IMPRINT_RETURN_IF_ERROR(CheckSignature(trusted));
  resume_seq_ = trusted.seq;
  records_ = trusted.seq - 1;
  last_ = trusted;
  return {};
}

Status ChainVerifier::AddRecord(const Record& record) {
  if (failed_) return std::unexpected(*failed_);
  uint64_t expected = records_ + 1;
  if (record.seq != expected) {
    // A gap or a reordering: the first sequence number that is not where it belongs.
    return Bad(expected, "missing or out of order (found " + std::to_string(record.seq) + ")");
  }
  if (RecordHash(record) != record.hash) return Bad(record.seq, "content does not match its hash");
  if (resume_seq_ != 0 && record.seq == resume_seq_) {
    // The sealed record we resume from: its predecessors were checked when it was sealed.
    if (record.hash != last_->hash)
      return Bad(record.seq, "differs from the checkpoint sealing it");
  } else {
    if (record.prev_hash != head_hash_) return Bad(record.seq, "does not link to its predecessor");
    if (record.seq == 1 && record.event != kGenesisEvent) {
      return Bad(1, "the log does not start with a genesis record (event '" + record.event +
                        "'); it is not an imprint-audit-v2 log or its start was replaced");
    }
  }
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
  if (checkpoint.seq != records_) return Bad(checkpoint.seq, "checkpoint out of order");
  if (checkpoint.hash != head_hash_) return Bad(checkpoint.seq, "checkpoint hash differs");
  if (!last_) {
    if (checkpoint.seq != 1) {
      return Bad(1, "genesis record is not sealed (the first checkpoint seals record " +
                        std::to_string(checkpoint.seq) + ")");
    }
    if (checkpoint.prev_seq != 0 || checkpoint.prev_hash != GenesisHash()) {
      return Bad(1, "the first checkpoint names a predecessor: checkpoints before it are missing");
    }
  } else if (checkpoint.prev_seq != last_->seq) {
    return Bad(checkpoint.seq, "checkpoint chain broken: it follows the checkpoint of record " +
                                   std::to_string(checkpoint.prev_seq) +
                                   ", but the checkpoint before it seals record " +
                                   std::to_string(last_->seq));
  } else if (checkpoint.prev_hash != CheckpointHash(*last_)) {
    return Bad(checkpoint.seq, "checkpoint chain broken: the checkpoint of record " +
                                   std::to_string(last_->seq) + " is not the one it follows");
  }
  IMPRINT_RETURN_IF_ERROR(CheckSignature(checkpoint));
  ++checkpoints_;
  last_ = checkpoint;
  return {};
}

Status ChainVerifier::Finish(uint64_t max_unsealed) {
  if (failed_) return std::unexpected(*failed_);
  if (records_ == 0) return Bad(1, "the log is empty: no genesis record");
  if (resume_seq_ != 0 && records_ < resume_seq_) {
    return Bad(resume_seq_, "missing, but the checkpoint resumed from seals it");
  }
  if (!last_) return Bad(1, "genesis record is not sealed: the log has no checkpoint");
  if (unsealed() > max_unsealed) {
    return Bad(last_->seq + 1, std::to_string(unsealed()) +
                                   " records follow the last checkpoint, more than the CA "
                                   "leaves unsealed (" +
                                   std::to_string(max_unsealed) +
                                   "): checkpoints were deleted or records appended");
  }
  return {};
}

}  // namespace imprint::audit
