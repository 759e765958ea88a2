#pragma once
// TPM2_MakeCredential done in software by the CA (TPM 2.0 Part 1, 24 "Credential Protection";
// Part 3, 12.6): a secret that only the TPM holding the Endorsement Key can recover, and only
// for the object whose Name is `object_name` (the Attestation Key) loaded beside that EK
// (TPM2_ActivateCredential). Supported EK: RSA 2048 with the TCG default template (EK Credential
// Profile, template L-1: SHA-256 name, AES-128-CFB symmetric), which every TPM 2.0 carries.

#include "common/bytes.h"
#include "common/error.h"
#include "common/x509/openssl_types.h"

namespace imprint::tpm {

struct Credential {
  Bytes credential_blob;   // TPM2B_ID_OBJECT, marshalled
  Bytes encrypted_secret;  // TPM2B_ENCRYPTED_SECRET, marshalled
};

// `seed` is the caller's randomness: 32 bytes (tests pass their own; the CA the HSM's).
// INVALID_ARGUMENT for an EK that is not RSA 2048, a name that is not SHA-256 (34 bytes) or a
// secret of more than 32 bytes.
Result<Credential> MakeCredential(EVP_PKEY* endorsement_key, ByteView object_name, ByteView secret,
                                  ByteView seed);

// KDFa (Part 1, 11.4.10.2): SP 800-108 counter mode with HMAC-SHA256. `label` without its
// terminating zero, which is added.
Bytes KdfaSha256(ByteView key, std::string_view label, ByteView context_u, ByteView context_v,
                 size_t bits);

}  // namespace imprint::tpm
