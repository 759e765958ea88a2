#pragma once
// A TPM's side of key attestation written out in software, for tests of the CA's checks
// without a TPM (the e2e test, tests/e2e/tpm_attestation_test.sh, uses real software TPMs).

#include <tss2/tss2_tpm2_types.h>

#include "common/bytes.h"
#include "common/tpm/credential.h"
#include "common/x509/openssl_types.h"

namespace imprint::testing {

// What TPM2_ActivateCredential does with the EK's private key `ek` and the object Name `name`:
// the secret (REQUIREs the integrity check to pass).
Bytes OpenCredential(EVP_PKEY* ek, const tpm::Credential& credential, ByteView name);

// `key`'s (EC P-256) public area as a TPM gives it back: a marshalled TPM2B_PUBLIC.
Bytes EccPublic(EVP_PKEY* key, TPMA_OBJECT attributes, TPMI_ALG_HASH name_alg = TPM2_ALG_SHA256);

// `signer`'s (EC P-256) ECDSA SHA-256 signature over `message`, as a marshalled
// TPMT_SIGNATURE.
Bytes TpmSignature(EVP_PKEY* signer, ByteView message);

// A TPMS_ATTEST of `type` (TPM2_ST_ATTEST_CERTIFY for TPM2_Certify) over `name` with
// `nonce`, marshalled, and `signer`'s (EC P-256) ECDSA SHA-256 signature over it as a
// marshalled TPMT_SIGNATURE.
struct Certification {
  Bytes attest;
  Bytes signature;
};
Certification Certify(EVP_PKEY* signer, ByteView name, ByteView nonce,
                      TPM2_ST type = TPM2_ST_ATTEST_CERTIFY);

// The attributes of a key made in the TPM: fixedTPM, fixedParent, sensitiveDataOrigin,
// userWithAuth.
inline constexpr TPMA_OBJECT kMadeInTpm = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                          TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                          TPMA_OBJECT_USERWITHAUTH;

}  // namespace imprint::testing
