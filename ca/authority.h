#pragma once
// Authority: the CA's rules for every RPC, free of gRPC so tests can call it directly.
// Each method checks input, pre-checks against a read connection, does the HSM work outside
// any transaction, then commits through the Writer, which re-checks the rules inside the write
// transaction (so concurrent stations can never overrun a quota) and appends the audit record
// in the same transaction. Nothing is returned before that commit.
//
// Thread-safe: called concurrently from gRPC handler threads.
//
// One class, a file per RPC family so each stays readable: authority.cc (construction, the
// station behind a call), authority_enroll.cc, authority_issue.cc, authority_tpm.cc (key
// attestation), authority_renew.cc (field renewal over EST), authority_secrets.cc
// (secrets, and the report that ends a device's transaction).

#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ca/attestation/tpm_attestation.h"
#include "ca/audit/writer.h"
#include "ca/auth_failures.h"
#include "ca/ca_files.h"
#include "ca/config.h"
#include "ca/console/metrics.h"
#include "ca/hsm.h"
#include "ca/matter/order.h"
#include "ca/matter/pai.h"
#include "common/secret.h"
#include "common/sql/connection_pool.h"
#include "common/x509/csr.h"

namespace imprint::ca {

struct IssueRequest {
  std::string order_id;
  std::string device_id;
  Bytes csr_der;
  std::string profile;  // empty: "device"
  // The device's proof that its key lives in its TPM, after BeginKeyAttestation.
  std::optional<TpmEvidence> tpm_evidence = std::nullopt;
  // Set by a caller authenticated once for many requests (the issuance stream): the station's
  // certificate serial, which must still be its active one. Read with the issuance facts, before
  // signing and again in the write transaction, so it costs no query of its own.
  std::string station_serial = {};
};

// A station as its TLS client certificate names it, authenticated once (AuthenticateStationPeer).
struct StationPeer {
  std::string name;
  std::string cert_serial;
  std::time_t not_after = 0;
};

inline constexpr size_t kChallengeBytes = 32;
// What every station call about a device that failed provisioning is told.
inline constexpr const char* kDeviceFailedMessage =
    "device failed provisioning; an operator must reset it first";

struct IssueResult {
  Bytes certificate_der;
  std::string serial_hex;
  bool already_issued = false;
  uint64_t audit_seq = 0;
  Bytes challenge;  // the device's proof of possession signs ProofMessage(challenge)
  // A Matter DAC (ca/matter): its chain is the PAI and the PAA, not the CA's; the challenge is
  // the attestation nonce.
  bool matter = false;
  std::vector<Bytes> chain_der = {};
};

struct IssuedSecret {
  std::string name;
  Secret value;
};

struct SecretsResult {
  std::vector<IssuedSecret> secrets;
  uint64_t audit_seq = 0;
};

struct ReportRequest {
  std::string order_id;
  std::string device_id;
  std::string serial_hex;
  bool verified = false;
  std::string detail;
  Bytes proof_signature;  // required when verified
  // A Matter device's attestation (docs/matter.md): the elements it signed with its DAC key
  // and the station's 16-byte attestation challenge; proof_signature is that r || s.
  Bytes attestation_elements = {};
  Bytes attestation_challenge = {};
};

struct DeviceRecord {
  std::string order_id;
  std::string serial_hex;
  Bytes certificate_der;
  std::string status;
  Bytes challenge;
  bool matter = false;  // a Matter DAC: the device attests instead of proving
};

struct EnrollResult {
  Bytes certificate_der;
};

// A device authenticated by a certificate this CA gave it (EST re-enrollment, docs/est.md):
// its factory certificate or an operational one it renewed.
struct DevicePeer {
  std::string device_id;
  std::string serial_hex;
  bool operational = false;
  x509::X509Ptr certificate;
};

struct RenewResult {
  Bytes certificate_der;
  std::string serial_hex;
  bool rekey = false;  // a new key (else the same key renewed)
};

// A label bound to its unit by scan-back (docs/labels.md).
struct LabelBinding {
  uint64_t audit_seq = 0;
  bool already = false;  // bound before with the same code
};

class Authority {
 public:
  Authority(const CaConfig& config, CaHsm& hsm, const CaCertificates& certs,
            sql::ConnectionPool& reads, Writer& writer);

  // The station name for a TLS peer certificate: it must chain to this CA, be valid now, carry
  // the key the station enrolled with and belong to an active station. UNAUTHENTICATED
  // otherwise, counted against `source` (the peer's address) in auth_failures().
  Result<std::string> AuthenticateStation(const Result<std::string>& peer_pem,
                                          const std::string& source);
  // The same checks, answering with the certificate a later request names (station_serial).
  Result<StationPeer> AuthenticateStationPeer(const Result<std::string>& peer_pem,
                                              const std::string& source);

  // A refused token is counted against `source` like a failed login, not audited per attempt.
  Result<EnrollResult> EnrollStation(const std::string& name, const std::string& token,
                                     ByteView csr_der, const std::string& source);
  Result<IssueResult> IssueDeviceCertificate(const std::string& station, const IssueRequest& r);
  // [attestation] tpm_roots, read once at start; none configured leaves key attestation off.
  Status LoadTpmRoots();
  // The CA's challenge for a device that proves its key lives in its TPM (authority_tpm.cc,
  // ca/attestation/tpm_attestation.h). A refusal is audited (attestation.refused).
  Result<TpmChallenge> BeginKeyAttestation(const std::string& station, const std::string& order,
                                           const std::string& device, ByteView ek_certificate_der,
                                           ByteView ak_public);
  Result<SecretsResult> IssueDeviceSecrets(const std::string& station, const std::string& order,
                                           const std::string& device);
  // A "verified" report counts only with a proof the CA checks itself; a report whose proof
  // fails marks the device failed (INVALID_ARGUMENT). A failed device stays failed until an
  // operator resets it (DeviceReset).
  Result<uint64_t> ReportProvisioned(const std::string& station, const ReportRequest& r);
  // The device whose certificate a TLS peer presented (authority_renew.cc): NOT_FOUND, not
  // counted, when the certificate is no device's of this CA (the caller then tries a station);
  // a device certificate that does not verify now is UNAUTHENTICATED and counted.
  Result<DevicePeer> AuthenticateDevice(const std::string& peer_pem, const std::string& source);
  // A new operational certificate under `profile` for `peer`'s device (docs/est.md): the CSR's
  // subject and subjectAltName must be the peer certificate's (RFC 7030 4.2.2); the device
  // verified and not revoked; an operational peer within its renewal window unless it was
  // revoked as superseded. Audited as certificate.renewed.
  Result<RenewResult> RenewDevice(const DevicePeer& peer, ByteView csr_der,
                                  const std::string& profile);
  Result<DeviceRecord> GetDeviceRecord(const std::string& device_id);
  // Scan-back (authority_labels.cc): `code` must be the label code of the device's certificate
  // (common/label_code.h), the device verified on `order`, the order open and `station` on it.
  // A label that is not the device's, or a device that cannot have one, is audited
  // (label.refused) and FAILED_PRECONDITION; a match is audited label.bound.
  Result<LabelBinding> BindLabel(const std::string& station, const std::string& order,
                                 const std::string& device, const std::string& code,
                                 uint32_t prints);

  const CaCertificates& certificates() const { return certs_; }
  // Where HSM signature latencies and failures are counted; none by default. Set before
  // serving.
  void set_metrics(CaMetrics* metrics) { metrics_ = metrics; }
  AuthFailures& auth_failures() { return auth_failures_; }

 private:
  struct Signed {
    Bytes certificate_der;
    std::string serial_hex;
  };
  // Issues a certificate for the verified CSR's key under `profile`; HSM trouble is
  // UNAVAILABLE with the detail left in the log.
  // Signed by the issuing CA unless `issuer` and `signer` name another (a Matter PAI).
  Result<Signed> Sign(const x509::CertificateProfile& profile,
                      std::vector<std::pair<std::string, std::string>> subject,
                      std::vector<std::string> san_uris, const x509::VerifiedCsr& csr,
                      const X509* issuer = nullptr, x509::Signer* signer = nullptr,
                      std::vector<Bytes> san_directory_names = {});
  // The key attestation rules of IssueDeviceCertificate: the evidence checked when it came,
  // required when the order or `profile` says so; a refusal is audited. nullopt: no evidence,
  // none needed.
  Result<std::optional<AttestedKey>> CheckKeyAttestation(const std::string& station,
                                                         const IssueRequest& r,
                                                         const std::string& profile,
                                                         bool order_requires, EVP_PKEY* csr_key);
  Status AuditAttestationRefused(const std::string& station, const std::string& order,
                                 const std::string& device, const Error& why);
  // IssueDeviceSecrets for a Matter order: the commissioning data (ca/matter/commissioning.h).
  Result<SecretsResult> IssueMatterSecrets(const std::string& station, const std::string& order,
                                           const std::string& device, const MatterOrder& matter);

  const CaConfig& config_;
  CaHsm& hsm_;
  const CaCertificates& certs_;
  sql::ConnectionPool& reads_;
  Writer& writer_;

  AuthFailures auth_failures_;
  CaMetrics* metrics_ = nullptr;
  MatterPais matter_pais_;
  MatterOrderCache matter_orders_;
  std::unique_ptr<TpmAttestation> tpm_;  // set by LoadTpmRoots when roots are configured

  struct VerifiedPeer {
    std::string serial;
    Bytes spki_sha256;
    std::time_t not_before = 0;
    std::time_t not_after = 0;
  };
  std::mutex peer_mu_;
  std::unordered_map<std::string, VerifiedPeer> verified_peers_;  // by certificate PEM hash
};

}  // namespace imprint::ca
