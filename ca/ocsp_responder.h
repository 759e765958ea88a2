#pragma once
// OcspResponder: answers OCSP requests (RFC 6960) about this CA's certificates from the store:
// good (a certificate it issued and has not revoked), revoked (time and reason), or unknown
// (a serial it never issued, or another issuer's). Responses are signed by a delegated
// responder key in the HSM (ca/ocsp_identity.h) and carry its certificate; a request's nonce is
// echoed. Status is read from the store for every request, so a revocation is answered at once.
//
// Thread-safe: called from the HTTP server's threads.

#include <cstdint>
#include <string>

#include "common/bytes.h"
#include "common/sql/connection_pool.h"
#include "common/x509/openssl_types.h"
#include "common/x509/signer.h"

namespace imprint::ca {

struct OcspResponderOptions {
  x509::Signer* signer = nullptr;   // the responder key
  const X509* responder = nullptr;  // its certificate (issued by `issuer`)
  const X509* issuer = nullptr;     // the issuing CA the answers are about
  int validity_minutes = 60;        // nextUpdate - thisUpdate
  size_t max_requests = 16;         // CertIDs in one OCSPRequest
};

class OcspResponder {
 public:
  OcspResponder(sql::ConnectionPool& reads, OcspResponderOptions options);

  // The DER OCSPResponse to a DER OCSPRequest: malformedRequest for one that does not parse
  // (or asks about too many certificates), tryLater when the store or the HSM fails.
  Bytes Respond(ByteView request_der);

 private:
  struct Status;
  Result<Status> Lookup(const std::string& serial_hex);
  Result<Bytes> Answer(ByteView request_der, bool* malformed);

  sql::ConnectionPool& reads_;
  OcspResponderOptions options_;
  Bytes responder_key_hash_;  // SHA-1 of the responder's public key: ResponderID byKey
  Bytes certs_field_;         // [0] EXPLICIT SEQUENCE { responder certificate }
};

}  // namespace imprint::ca
