// Device: proving that its key lives in its TPM (docs/attestation.md).

#include "device_agent/device.h"

namespace imprint::agent {

Result<KeyAttestationIdentity> Device::GetKeyAttestation() {
  std::lock_guard lock(mu_);
  Tpm* tpm = keys_->tpm();
  if (tpm == nullptr) return Fail(Code::kFailedPrecondition, "the device key is not in a TPM");
  if (!key_) return Fail(Code::kFailedPrecondition, "no device key yet");
  KeyAttestationIdentity id;
  IMPRINT_ASSIGN_OR_RETURN(id.ek_certificate_der, tpm->ReadEkCertificate());
  IMPRINT_ASSIGN_OR_RETURN(id.ak_public, tpm->AttestationKeyPublic());
  IMPRINT_ASSIGN_OR_RETURN(TpmKeyBlob key, keys_->TpmKey());
  id.key_public = std::move(key.public_area);
  return id;
}

Result<KeyAttestation> Device::AttestKey(ByteView credential_blob, ByteView encrypted_secret,
                                         ByteView nonce) {
  std::lock_guard lock(mu_);
  Tpm* tpm = keys_->tpm();
  if (tpm == nullptr) return Fail(Code::kFailedPrecondition, "the device key is not in a TPM");
  if (!key_) return Fail(Code::kFailedPrecondition, "no device key yet");
  if (nonce.size() != 32) return Fail(Code::kInvalidArgument, "the nonce must be 32 bytes");
  KeyAttestation out;
  IMPRINT_ASSIGN_OR_RETURN(out.activated_secret,
                           tpm->ActivateCredential(credential_blob, encrypted_secret));
  IMPRINT_ASSIGN_OR_RETURN(TpmKeyBlob key, keys_->TpmKey());
  IMPRINT_ASSIGN_OR_RETURN(out.certification, tpm->Certify(key, nonce));
  return out;
}

}  // namespace imprint::agent
