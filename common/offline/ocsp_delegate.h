#pragma once
// The OCSP delegate of an allowance (docs/offline.md, "CRL and OCSP for devices the CA did not
// sign"): the CA never holds a station's subordinate key, so the station, once, certifies the
// CA's OCSP responder key with it (RFC 6960 4.2.2.2: a delegated responder, id-kp-OCSPSigning,
// id-pkix-ocsp-nocheck), and the CA answers for the subordinate's devices with that certificate.
// The station makes it when the CA asks at reconcile; the CA checks it before it keeps it.

#include "common/bytes.h"
#include "common/error.h"
#include "common/x509/certificate_builder.h"
#include "common/x509/openssl_types.h"

namespace imprint::offline {

// The delegate's profile: a leaf for OCSP signing only, without end (99991231235959Z): it outlives
// the subordinate's first certificate, ending with the allowance, and verifies through the
// renewed one (docs/offline.md, "Validity").
x509::CertificateProfile OcspDelegateProfile();

// INVALID_ARGUMENT, saying which, unless `der` is a certificate signed by `subordinate`'s key in
// its name, for `responder`'s public key, CA:FALSE, with id-kp-OCSPSigning as its only extended
// key usage. Its validity is not limited: the subordinate's renewal carries it on.
Status CheckOcspDelegate(ByteView der, const X509* subordinate, const X509* responder);

}  // namespace imprint::offline
