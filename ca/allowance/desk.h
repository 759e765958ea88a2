#pragma once
// AllowanceDesk: the station side of allowances at the CA (docs/offline.md), a file per RPC:
// fetch.cc and reconcile.cc.
//
// `imprint-station allowance fetch` (docs/offline.md): a station with a live
// allowance sends a CSR for the subordinate key it made in its own token; the root certifies
// that key as a CA for this order and station only (path length 0, the device profile's
// extended key usage, notAfter at the allowance's end) and the document signer signs the
// allowance (issuer.h). Both
// are stored with the allowance and audited as allowance.fetched. One key per allowance: a
// second fetch with the same key returns what the first got; another key is refused.
//
// `imprint-station reconcile`: the station uploads its log in parts, each ending at a signed
// checkpoint. The CA verifies each part (common/offline/log_format.h VerifyLog, from its
// progress), checks every device and key against the whole registry, and then records the
// part's devices as if issued online (audit records, the order's counts, `used`) in one
// transaction, or, when anything is wrong, records nothing of it and keeps the violations
// (allowance_violations, audited as allowance.violation). Idempotent: entries at or before the
// progress are skipped once their chain agrees with it.
//
// Thread-safe: called from gRPC handler threads.

#include <atomic>
#include <mutex>
#include <optional>
#include <string>

#include "ca/allowance/allowance.h"
#include "ca/allowance/issuer.h"
#include "ca/audit/writer.h"
#include "ca/ca_files.h"
#include "ca/config.h"
#include "ca/hsm.h"
#include "common/offline/log_format.h"
#include "common/pkcs11/ecdh.h"
#include "common/sql/connection_pool.h"

namespace imprint::ca {

struct ReconcilePart {
  std::string allowance_id;
  std::vector<offline::LogEntry> entries;
  std::vector<Bytes> proofs;  // one per entry; empty when the device never proved its key
  // One per entry (empty when none): the device's password sealed to the CA's secret-transport
  // key, and the subordinate key's signature over it (common/offline/sealed_secret.h).
  std::vector<Bytes> sealed_passwords;
  std::vector<Bytes> sealed_signatures;
  std::vector<offline::LogCheckpoint> checkpoints;
  Bytes ocsp_delegate_der;  // the subordinate's certificate for the CA's OCSP key, when asked
};

struct ReconcileResult {
  int64_t reconciled_seq = 0;
  int64_t recorded = 0;
  std::vector<std::string> violations;  // "seq N: reason"
  // The CA's OCSP responder certificate while it holds no delegate for the allowance: the
  // station answers with one (common/offline/ocsp_delegate.h).
  Bytes ocsp_responder_der;
  bool revoked = false;  // the brand owner revoked the allowance: the station stops issuing
};

// At most this many entries in one part (the station listener takes 256 KiB messages).
inline constexpr size_t kMaxReconcileEntries = 256;

struct FetchedAllowance {
  Allowance allowance;
  Bytes subordinate_der;
  Bytes root_der;
  std::string signed_allowance;  // JWS, flattened JSON serialization
};

class AllowanceDesk {
 public:
  AllowanceDesk(const CaConfig& config, CaHsm& hsm, const CaCertificates& certs,
                sql::ConnectionPool& reads, Writer& writer)
      : config_(config), hsm_(hsm), certs_(certs), reads_(reads), writer_(writer) {}

  // NOT_FOUND: the station holds no live allowance for the order; FAILED_PRECONDITION: it has
  // expired, its order is closed, the key certified another allowance before, or the root key
  // is not in this CA's token; ALREADY_EXISTS: the allowance was fetched
  // for another key; INVALID_ARGUMENT: a bad order id or CSR.
  Result<FetchedAllowance> Fetch(const std::string& station, const std::string& order_id,
                                 ByteView csr_der);
  // NOT_FOUND: no such allowance, or never fetched; INVALID_ARGUMENT: a malformed part; ABORTED:
  // another reconcile of the same allowance moved its progress (ask again).
  Result<ReconcileResult> Reconcile(const std::string& station, const ReconcilePart& part);

  // The CA's OCSP responder, once it serves OCSP: reconcile asks each station to delegate to
  // it. Not owned; outlives the desk.
  void set_ocsp_responder(const X509* responder) { ocsp_responder_.store(responder); }

 private:
  Result<AllowanceIssuer*> Issuer();
  // The secret-transport key (secret_transport.h), looked up again until a grant has made it;
  // null while there is none.
  Result<p11::EcdhKey*> SecretTransport();
  // Keeps the station's OCSP delegate for the allowance, checked, unless one is kept already.
  Status KeepOcspDelegate(const std::string& station, const std::string& allowance_id, ByteView der,
                          const X509* subordinate);

  const CaConfig& config_;
  CaHsm& hsm_;
  const CaCertificates& certs_;
  sql::ConnectionPool& reads_;
  Writer& writer_;

  std::atomic<const X509*> ocsp_responder_{nullptr};
  std::mutex issuer_mu_;
  std::optional<AllowanceIssuer> issuer_;  // guarded by issuer_mu_; loaded at the first fetch
  std::mutex transport_mu_;
  std::unique_ptr<p11::EcdhKey> transport_;  // guarded by transport_mu_
};

}  // namespace imprint::ca
