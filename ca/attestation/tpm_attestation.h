#pragma once
// TpmAttestation: the CA's checks that a device key lives in the device's TPM
// (docs/attestation.md), in two steps around the device:
//
//   Begin  the EK certificate chains to a TPM maker's root in [attestation] tpm_roots; the AK
//          is a restricted signing key made in a TPM. The CA answers with MakeCredential (done
//          here in software, common/tpm/credential.h) of a fresh secret for the AK's Name under
//          that EK, and a fresh nonce; both are kept, for this station and device, for five
//          minutes.
//   Check  the challenge is used once: the first evidence against it is checked and its
//          verdict kept, so the same evidence sent again (a retried call) gets the same answer
//          and any other evidence is refused. The evidence names the same EK and AK; the secret
//          came back (only the TPM with that EK could open it, and only with that AK loaded: the AK
//          is in that TPM); the AK signed the certify structure; its magic, type and nonce are
//          right; it certifies the key whose public area came with it, which is the CSR's key and
//          was made in the TPM (fixedTPM, fixedParent, sensitiveDataOrigin) as a signing key (not
//          decrypt).
//
// Every refusal names its reason. Thread-safe. Challenges live in this CA node's memory: a
// station that fails over to another node between the steps starts again.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/bytes.h"
#include "common/error.h"
#include "common/x509/openssl_types.h"

namespace imprint::ca {

struct TpmEvidence {
  Bytes ek_certificate_der;
  Bytes ak_public;   // TPM2B_PUBLIC
  Bytes key_public;  // TPM2B_PUBLIC
  Bytes certify_info;
  Bytes certify_signature;
  Bytes activated_secret;
};

struct TpmChallenge {
  Bytes credential_blob;
  Bytes encrypted_secret;
  Bytes nonce;
};

// What is recorded of a device whose key was attested.
struct AttestedKey {
  Bytes ek_sha256;
  std::string ek_issuer;  // RFC 2253
  Bytes ak_name;
  Bytes certify_sha256;
  // The directoryName of the EK certificate's subjectAltName (the TCG attributes
  // tpmManufacturer, tpmModel, tpmVersion), DER; empty when it has none. The device
  // certificate carries it too.
  Bytes tpm_name_der;
  TpmEvidence evidence;
};

class TpmAttestation {
 public:
  using Random = std::function<Result<Bytes>(size_t)>;

  // Every *.pem file in `dir`, each holding one or more certificates: the self-signed ones are
  // trusted roots, the others intermediates for building an EK certificate's chain.
  // INVALID_ARGUMENT for an unreadable file or a directory without a root.
  static Result<std::unique_ptr<TpmAttestation>> Load(const std::string& dir, Random random);

  size_t root_count() const { return root_count_; }

  Result<TpmChallenge> Begin(const std::string& station, const std::string& device_id,
                             ByteView ek_certificate_der, ByteView ak_public);
  // `csr_key` is the key the device asks a certificate for.
  Result<AttestedKey> Check(const std::string& station, const std::string& device_id,
                            const TpmEvidence& evidence, EVP_PKEY* csr_key);

 private:
  struct Pending {
    std::string station;
    Bytes ek_sha256;
    std::string ek_issuer;  // read from the EK certificate when it was checked
    Bytes tpm_name_der;
    Bytes ak_public;
    Bytes secret;
    Bytes nonce;
    std::chrono::steady_clock::time_point expires;
    // Once used: the digest of the evidence it was used with, and the verdict.
    Bytes used_with;
    std::optional<Result<AttestedKey>> verdict;
  };
  TpmAttestation() = default;
  Result<AttestedKey> CheckEvidence(const Pending& p, const TpmEvidence& e, EVP_PKEY* csr_key);
  // The EK certificate's chain to a root; its issuer on success.
  Result<std::string> VerifyEk(X509* ek) const;

  Random random_;
  x509::StorePtr roots_;
  std::vector<x509::X509Ptr> intermediates_;
  size_t root_count_ = 0;
  std::mutex mu_;
  std::unordered_map<std::string, Pending> pending_;  // by station "\n" device
 public:
  // Outstanding challenges at once, all stations together and one station alone.
  static constexpr size_t kMaxPending = 4096;
  static constexpr size_t kMaxPendingPerStation = 512;
  static constexpr auto kChallengeLifetime = std::chrono::minutes(5);
};

}  // namespace imprint::ca
