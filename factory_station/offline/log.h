#pragma once
// OfflineLog: the station's record of what its subordinate key signed for one allowance
// (common/offline/log_format.h), in DIR/offline/ALLOWANCE/log.db. Its entries are the count:
// an entry is appended, in one transaction, only while fewer than the allowance's count exist,
// so no crash or race can issue past it. Every kCheckpointEvery entries, and at Seal, the head
// is signed in the station's token. It holds no secret in plain text: passwords only sealed to
// the CA, which the station cannot open.
// Thread-safe (one connection behind a mutex).

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/offline/log_format.h"
#include "common/sqlite/database.h"
#include "common/x509/signer.h"

namespace imprint::station {

struct SealedPassword {
  Bytes sealed;     // common/offline/sealed_secret.h, to the CA's secret-transport key
  Bytes signature;  // by the subordinate key over SealedSecretMessage
};

class OfflineLog {
 public:
  static constexpr int64_t kCheckpointEvery = 32;

  // `signer`: the subordinate key in the token, which signs checkpoints.
  static Result<std::unique_ptr<OfflineLog>> Open(const std::string& path, std::string allowance_id,
                                                  x509::Signer& signer);

  Result<std::optional<offline::LogEntry>> Find(const std::string& device);
  // Gives `entry` the next seq and its chain hash and appends it. RESOURCE_EXHAUSTED when
  // `limit` entries exist; ALREADY_EXISTS when the device has one.
  Result<offline::LogEntry> Append(offline::LogEntry entry, int64_t limit);
  Result<int64_t> Count();
  // The device's signature over ProofMessage(its entry's challenge), checked by the caller with
  // the certificate's key; kept for reconcile (it authenticates itself, so it is not chained).
  Status RecordProof(const std::string& device, const Bytes& signature);
  Result<bool> HasProof(const std::string& device);
  // Every proof, by device.
  Result<std::map<std::string, Bytes>> Proofs();
  // The password the device committed, sealed to the CA (the last one recorded stands: a device
  // that ran again got a new one); uploaded at reconcile. Not chained: it is signed itself.
  Status RecordSealedPassword(const std::string& device, const Bytes& sealed,
                              const Bytes& signature);
  Result<std::map<std::string, SealedPassword>> SealedPasswords();
  // Signs the head when it is not signed yet.
  Status Seal();

  Result<std::vector<offline::LogEntry>> Entries();
  Result<std::vector<offline::LogCheckpoint>> Checkpoints();

 private:
  OfflineLog(std::unique_ptr<sql::SqliteDatabase> db, std::string allowance_id,
             x509::Signer& signer)
      : db_(std::move(db)), allowance_id_(std::move(allowance_id)), signer_(signer) {}
  Result<int64_t> CountLocked();
  Status SignHeadLocked();

  std::mutex mu_;
  std::unique_ptr<sql::SqliteDatabase> db_;
  std::string allowance_id_;
  x509::Signer& signer_;
};

}  // namespace imprint::station
