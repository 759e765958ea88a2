#pragma once
// Builds X.509 v3 certificates (RFC 5280) from a profile and has them signed through a Signer:
// OpenSSL encodes the TBSCertificate, the signer (normally the HSM) signs it, and the result
// is assembled and parsed back. The issuer's private key never enters this process.

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/error.h"
#include "common/x509/openssl_types.h"
#include "common/x509/signer.h"

namespace imprint::x509 {

// What a class of certificates looks like; plain data so profiles can live in configuration.
struct CertificateProfile {
  bool is_ca = false;
  int path_length = -1;  // CA only; -1 leaves pathLenConstraint out
  // keyUsage bit names as OpenSSL spells them (digitalSignature, keyCertSign, cRLSign, ...).
  std::vector<std::string> key_usage{"digitalSignature"};
  // extendedKeyUsage short names (clientAuth, serverAuth, ...); empty leaves the extension out.
  std::vector<std::string> extended_key_usage;
  // notBefore is this much before issuance, to tolerate device clock skew.
  std::chrono::seconds backdate{std::chrono::minutes(5)};
  // nullopt: notAfter = 99991231235959Z, "no well-defined expiration" (RFC 5280 4.1.2.5).
  std::optional<std::chrono::days> lifetime;
  // Where relying parties find revocation status: cRLDistributionPoints and the OCSP entry of
  // authorityInfoAccess (RFC 5280 4.2.1.13, 4.2.2.1); empty leaves the extension out.
  std::string crl_url;
  std::string ocsp_url;
  // Not empty: the DER Name of the CRL issuer when it is not the certificate's issuer (an
  // indirect CRL, RFC 5280 4.2.1.13): the cRLIssuer of the crl_url point.
  Bytes crl_issuer_der = {};
  // id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1): for a delegated OCSP responder's certificate.
  bool ocsp_no_check = false;
};

struct CertificateSubject {
  std::vector<std::pair<std::string, std::string>> name;  // e.g. {"CN", "dev-1"}
  std::vector<std::string> san_uris;
  std::vector<std::string> san_dns;
  std::vector<std::string> san_ips;
  // DER Names put in the subjectAltName as directoryName (e.g. the TPM's manufacturer, model
  // and version as its EK certificate states them, docs/attestation.md).
  std::vector<Bytes> san_directory_names = {};
};

struct CertificateRequest {
  const CertificateProfile* profile = nullptr;
  CertificateSubject subject;
  EVP_PKEY* public_key = nullptr;  // the subject's key; not owned
  Bytes serial;                    // from MakeSerial
  std::chrono::system_clock::time_point issued_at = std::chrono::system_clock::now();
  // Set: notAfter is exactly this instead of the profile's lifetime (e.g. a subordinate CA that
  // ends with its allowance).
  std::optional<std::chrono::system_clock::time_point> not_after = std::nullopt;
  // Optional: the same key as a DER SubjectPublicKeyInfo (e.g. from the CSR), copied into the
  // certificate as it is, sparing OpenSSL 3 a costly encode/decode round trip of the key.
  ByteView spki_der = {};
};

inline constexpr size_t kSerialBytes = 16;

// A positive 16-byte serial (RFC 5280 4.1.2.2) from 16 random bytes: the top bit is cleared so
// the INTEGER is positive and the next one set so it always encodes in exactly 16 octets.
Bytes MakeSerial(ByteView random16);

// Builds and signs a certificate. `issuer` is the issuing CA certificate, or nullptr for a
// self-signed one (then the signer's key must be request.public_key). The signer's key must be
// the issuer's key. The signature is verified before returning, so a faulty signer can never
// produce a certificate that does not verify. Errors: INVALID_ARGUMENT for bad subject fields
// or a key mismatch; the signer's own errors (e.g. UNAVAILABLE from the HSM) pass through.
Result<X509Ptr> IssueCertificate(const CertificateRequest& request, const X509* issuer,
                                 Signer& signer);
// The same, returning the certificate's DER without parsing it back (a parse costs a key
// decode in OpenSSL 3.0; see spki.h). The signature is verified all the same.
Result<Bytes> IssueCertificateDer(const CertificateRequest& request, const X509* issuer,
                                  Signer& signer);

}  // namespace imprint::x509
