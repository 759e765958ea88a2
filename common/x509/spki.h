#pragma once
// SubjectPublicKeyInfo (RFC 5280 4.1.2.7) handled as bytes. OpenSSL 3.0 decodes a key through
// a provider decoder chain that is rebuilt on every call (about 150 us here, more than an
// ECDSA verification); EC keys on the named curves imprint accepts are built directly from
// their point instead, every other key goes through OpenSSL's decoder.

#include "common/bytes.h"
#include "common/error.h"
#include "common/x509/openssl_types.h"

namespace imprint::x509 {

struct SpkiParts {
  ByteView algorithm;   // the whole AlgorithmIdentifier, as encoded
  ByteView oid;         // the algorithm OID's value octets
  ByteView parameters;  // the whole parameters element, or empty when absent
  ByteView key;         // the subjectPublicKey BIT STRING's octets
};

// The SubjectPublicKeyInfo inside a DER certificate, found without decoding the certificate
// (which in OpenSSL 3.0 decodes the key through the provider chain as well).
Result<ByteView> CertificateSpki(ByteView certificate_der);

// Splits a DER SubjectPublicKeyInfo that must span all of `spki_der`.
Result<SpkiParts> SplitSpki(ByteView spki_der);

// The one encoding imprint uses for a key, so that the same key always hashes the same (the
// CA's duplicate-key check) and certificates carry it the way every verifier accepts:
// EC keys name their curve (RFC 5480 2.1.1; explicit parameters and implicitCA are
// INVALID_ARGUMENT) and carry the uncompressed point (a compressed point is expanded). Other
// keys are returned as given. `key` is `spki_der` decoded.
Result<Bytes> CanonicalSpki(ByteView spki_der, EVP_PKEY* key);

// The public key of a DER SubjectPublicKeyInfo. INVALID_ARGUMENT when it does not decode or
// (EC) the point is not on the curve.
Result<PkeyPtr> DecodePublicKey(ByteView spki_der);

}  // namespace imprint::x509
