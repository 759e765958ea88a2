#pragma once
// A DER certificate read with the strict DER reader (der.h) instead of d2i_X509, which in OpenSSL
// 3.0 decodes the subject's key through the provider chain (about 140 us here, twice an ECDSA
// verification): for checking many certificates of one issuer, as reconcile does. The structure
// is checked as d2i_X509 checks it: every TBSCertificate field with its tag, the names and times
// decoded, each extension an OID, an optional BOOLEAN and an OCTET STRING whose content decodes
// when OpenSSL knows the extension, no extension twice, nothing trailing. The key is not decoded:
// DecodePublicKey (spki.h) does that, and a certificate OpenSSL would read is one that passes
// both (tests/common/certificate_view_test.cc changes every byte of one to show it).

#include <chrono>

#include "common/bytes.h"
#include "common/error.h"

namespace imprint::x509 {

struct CertificateView {
  ByteView tbs;                  // the whole TBSCertificate, as signed
  ByteView signature_algorithm;  // the whole outer AlgorithmIdentifier (equal to the TBS's)
  ByteView signature;            // the signatureValue BIT STRING's octets
  ByteView serial;               // the serialNumber's magnitude, as SerialHex prints it
  ByteView issuer, subject;      // whole Names
  ByteView spki;                 // the whole SubjectPublicKeyInfo
  std::chrono::sys_seconds not_before, not_after;  // 99991231235959Z fits
};

// Views into `der`, which must outlive the result. INVALID_ARGUMENT naming what is malformed.
Result<CertificateView> ReadCertificate(ByteView der);

}  // namespace imprint::x509
