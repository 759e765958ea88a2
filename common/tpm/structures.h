#pragma once
// TPM 2.0 structures as they travel between a device and the CA (TPM 2.0 Part 2), read with
// the TSS's own marshalling library (libtss2-mu) and checked here. Every byte string is the
// structure's marshalled form, the one tpm2-tools writes and reads (`tpm2_print -t ...`).

#include <tss2/tss2_tpm2_types.h>

#include <string>

#include "common/bytes.h"
#include "common/error.h"
#include "common/x509/openssl_types.h"

namespace imprint::tpm {

// A TPM object's public area (TPMT_PUBLIC) and its Name: nameAlg || H_nameAlg(TPMT_PUBLIC)
// (Part 1, 16). INVALID_ARGUMENT when `marshalled` (a TPM2B_PUBLIC) does not decode to its
// end or its nameAlg is not SHA-256.
struct PublicArea {
  TPMT_PUBLIC area = {};
  Bytes name;
};
Result<PublicArea> ParsePublic(ByteView marshalled);
Result<Bytes> MarshalPublic(const TPM2B_PUBLIC& public_area);

// The public key of an ECC NIST P-256 or RSA object, for OpenSSL.
Result<x509::PkeyPtr> PublicKey(const TPMT_PUBLIC& area);

// The object attributes named the way Part 2 (8.3) names them: "fixedTPM|fixedParent|...".
std::string AttributeNames(TPMA_OBJECT attributes);

// An attestation structure (TPMS_ATTEST, the bytes the AK signed). INVALID_ARGUMENT when it
// does not decode to its end.
Result<TPMS_ATTEST> ParseAttest(ByteView marshalled);

// Checks a TPMT_SIGNATURE (ECDSA with SHA-256, or RSASSA with SHA-256) by `key` over `message`.
Status VerifySignature(EVP_PKEY* key, ByteView message, ByteView marshalled_signature);

}  // namespace imprint::tpm
