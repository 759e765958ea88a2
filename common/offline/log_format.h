#pragma once
// The station's offline issuance log (docs/offline.md): one entry per certificate the station's
// subordinate key signed, in order, each chained to the one before by a hash, with checkpoints
// the subordinate key signs in the station's token. The station writes it; reconcile at the CA
// checks it with VerifyLog before recording anything from it.
//
//   hash(n) = SHA-256("imprint-offline-log-v1\0" || allowance id || "\0" || hash(n-1)
//                     || seq (8 bytes, big-endian) || device id || "\0" || serial hex || "\0"
//                     || SHA-256(certificate DER) || challenge (32 bytes)
//                     || issued_ms (8 bytes, big-endian))
//   hash(0) = 32 zero bytes
//   checkpoint signature over "imprint-offline-checkpoint-v1\0" || allowance id || "\0"
//                     || seq (8 bytes, big-endian) || hash(seq)

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/offline/signed_allowance.h"
#include "common/x509/openssl_types.h"

namespace imprint::offline {

struct LogEntry {
  int64_t seq = 0;  // 1, 2, ...
  std::string device;
  std::string serial_hex;
  Bytes certificate_der;
  Bytes challenge;  // what the device proves its key over (ProofMessage)
  int64_t issued_ms = 0;
  Bytes hash;  // hash(seq)
};

struct LogCheckpoint {
  int64_t seq = 0;
  Bytes hash;
  Bytes signature;  // by the subordinate key
};

Bytes ChainHash(std::string_view allowance_id, ByteView previous, const LogEntry& entry);
Bytes CheckpointMessage(std::string_view allowance_id, int64_t seq, ByteView hash);

struct LogViolation {
  int64_t seq = 0;  // the entry it concerns; 0 for the log as a whole
  std::string reason;
};

// Where a part of the log continues from: the last entry already accepted and its hash.
struct LogStart {
  int64_t seq = 0;
  Bytes hash = Bytes(32, 0);
};

// Every way the log departs from what `allowance` permits the key of `subordinate`: a gap, a
// reordering or an edit (the chain does not recompute), an entry past the last signed
// checkpoint (the log's end is unsigned), a checkpoint that does not verify, a certificate not
// signed by the subordinate key or whose serial differs, an entry past the count or issued
// after not-after, a device twice. Empty when the log is good. `entries` may be a part that
// continues from `start` (reconcile takes the log in parts); its last entry must be signed.
// `device_keys`, when given, receives each entry's certificate key as decoded here (null where
// the certificate did not read or verify), so a caller need not decode them again.
std::vector<LogViolation> VerifyLog(const SignedAllowance& allowance, X509* subordinate,
                                    const std::vector<LogEntry>& entries,
                                    const std::vector<LogCheckpoint>& checkpoints,
                                    const LogStart& start = {},
                                    std::vector<x509::PkeyPtr>* device_keys = nullptr);

}  // namespace imprint::offline
