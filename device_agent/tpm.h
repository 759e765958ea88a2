#pragma once
// Tpm: the device's TPM 2.0 through the TSS's ESAPI (libtss2-esys), for a device key that is
// made and kept in the TPM and for the evidence that proves it (docs/attestation.md):
//
// - the Endorsement Key certificate the TPM maker wrote at NV index 0x01c00002 (RSA 2048 EK,
//   the TCG EK Credential Profile's default template L-1);
// - an Attestation Key: a restricted ECDSA P-256 signing key, primary in the endorsement
//   hierarchy, the same every time for one TPM;
// - ActivateCredential: the secret the CA sealed to the EK for the AK's Name, which only this
//   TPM can open;
// - Certify: the AK's signed statement that the device key is in this TPM, with the CA's nonce.
//
// Every call opens the TPM through the TCTI named at construction ("swtpm:port=2321",
// "device:/dev/tpmrm0", "tabrmd:bus_type=session") and closes it again, flushing every
// object it loaded: a TPM without a resource manager holds three objects at most and one
// client at a time.

#include <openssl/evp.h>

#include <string>

#include "common/bytes.h"
#include "common/error.h"

namespace imprint::agent {

// A device key as the TPM gives it back: TPM2B_PUBLIC and TPM2B_PRIVATE (the latter sealed
// to the TPM's storage key, useless outside it), both marshalled.
struct TpmKeyBlob {
  Bytes public_area;
  Bytes private_area;
};

struct TpmCertification {
  Bytes certify_info;  // TPMS_ATTEST, marshalled: what the AK signed
  Bytes signature;     // TPMT_SIGNATURE, marshalled
};

inline constexpr uint32_t kRsaEkCertificateIndex = 0x01c00002;

class Tpm {
 public:
  explicit Tpm(std::string tcti) : tcti_(std::move(tcti)) {}

  // An ECDSA P-256 signing key made in the TPM under its storage root key: fixedTPM,
  // fixedParent, sensitiveDataOrigin, userWithAuth, sign.
  Result<TpmKeyBlob> CreateSigningKey();
  // ECDSA over a SHA-256 `digest`, as a DER ECDSA-Sig-Value.
  Result<Bytes> Sign(const TpmKeyBlob& key, ByteView digest);

  Result<Bytes> ReadEkCertificate();
  Result<Bytes> AttestationKeyPublic();  // TPM2B_PUBLIC, marshalled
  // TPM2_ActivateCredential with the AK and the EK: the CA's secret.
  Result<Bytes> ActivateCredential(ByteView credential_blob, ByteView encrypted_secret);
  // TPM2_Certify of `key` by the AK, with `nonce` as qualifying data.
  Result<TpmCertification> Certify(const TpmKeyBlob& key, ByteView nonce);
  // For tests of the CA's checks: `private_key` (EC P-256, made outside the TPM) loaded into
  // the TPM with LoadExternal and certified by the AK like a key of its own. Its public area
  // comes back in `public_area`.
  Result<TpmCertification> CertifyExternal(EVP_PKEY* private_key, ByteView nonce,
                                           Bytes* public_area);

  const std::string& tcti() const { return tcti_; }

 private:
  std::string tcti_;
};

}  // namespace imprint::agent
