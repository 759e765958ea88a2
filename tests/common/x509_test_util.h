#pragma once
// Helpers for X.509 tests: CSRs signed by OpenSSL directly (independent of our builder, and
// able to make keys our policy refuses), and a small hierarchy built with any Signers.

#include <string>

#include "common/bytes.h"
#include "common/x509/certificate_builder.h"
#include "common/x509/openssl_types.h"
#include "common/x509/signer.h"

namespace imprint::testing {

// A DER CSR for `key`, signed with SHA-256 by OpenSSL's own X509_REQ_sign, subject CN=`cn`.
Bytes OpenSslCsr(EVP_PKEY* key, const std::string& cn = "device");

// `key` (EC) re-encoded as OpenSSL writes it with the point "compressed", or with "explicit"
// curve parameters instead of the curve's name: the same key, another SubjectPublicKeyInfo.
x509::PkeyPtr ReencodedEcKey(EVP_PKEY* key, const std::string& how);

// A CSR that claims an RSA public key of `bits` bits (a random modulus, no real key) and is
// signed by an unrelated key: only a check made before the signature's can name its size.
Bytes CsrClaimingRsaKey(int bits);

// A key OpenSSL generates: "P-256", "P-384", "RSA-1024", "RSA-2048", "secp256k1", "ed25519".
x509::PkeyPtr TestKey(const std::string& type);

x509::CertificateProfile RootProfile();
x509::CertificateProfile IssuingProfile();
x509::CertificateProfile DeviceProfile();

// Serial from OpenSSL's RNG (tests only; production serials come from the HSM).
Bytes TestSerial();

// Issues a certificate for `key` under `issuer` (nullptr: self-signed) with CN=`cn`.
x509::X509Ptr Issue(const x509::CertificateProfile& profile, const std::string& cn, EVP_PKEY* key,
                    const X509* issuer, x509::Signer& signer,
                    std::vector<std::string> san_uris = {});

std::string ToPem(const X509* cert);

}  // namespace imprint::testing
