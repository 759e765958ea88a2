#pragma once
// Assembles signed ASN.1 structures whose signature comes from a Signer: X.509 certificates
// (RFC 5280 4.1) and PKCS#10 requests (RFC 2986 4.2) share the outer form
//   SEQUENCE { tbs, AlgorithmIdentifier, BIT STRING signature }.

#include "common/bytes.h"
#include "common/error.h"
#include "common/x509/openssl_types.h"
#include "common/x509/signer.h"

namespace imprint::x509 {

// Sets `alg` to the AlgorithmIdentifier of `sig_alg`: no parameters for ECDSA (RFC 5758 3.2),
// NULL parameters for PKCS#1 v1.5 (RFC 4055 5). RSASSA-PSS is UNIMPLEMENTED here.
Status SetAlgorithmIdentifier(X509_ALGOR* alg, SignatureAlgorithm sig_alg);

// The DER AlgorithmIdentifier of `sig_alg` (as SetAlgorithmIdentifier sets it).
Result<Bytes> AlgorithmIdentifierDer(SignatureAlgorithm sig_alg);

// Signs the DER `tbs` with `signer` and returns the DER of the whole signed structure. The
// signature is verified with the signer's public key first: a faulty signer (an HSM fault)
// is UNAVAILABLE and never yields a structure that does not verify.
// `trailer` (DER, e.g. an OCSP response's [0] certs) follows the signature inside the SEQUENCE.
Result<Bytes> SignAndAssemble(ByteView tbs, Signer& signer, ByteView trailer = {});

}  // namespace imprint::x509
