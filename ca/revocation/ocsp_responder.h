#pragma once
// OcspResponder: answers OCSP requests (RFC 6960) about this CA's certificates from the store:
// good (a certificate it issued and has not revoked), revoked (time and reason), or unknown
// (a serial it never issued, or another issuer's). It also answers for devices stations signed
// offline and reconciled, about the subordinate CA of an allowance whose station delegated OCSP
// to this responder key (offline_issuers.h): such a response carries the delegate certificate
// and the subordinate. One response speaks for one issuer, the first CertID's; a CertID of
// another issuer in the same request is answered unknown. The DER is read and written by
// common/x509/ocsp.h; this class decides the answers and caches them. Responses are signed by a
// delegated responder key in the HSM (ca/ocsp_identity.h) and carry its certificate; a request's
// nonce is echoed. A request without a nonce about one certificate (as RFC 5019 clients send) is
// answered from a cache of signed responses, which holds good and revoked answers only and is
// dropped whenever the store's revocation counter moves (read for every request), so a
// revocation is answered at once; an entry is also re-signed after half the validity.
//
// Signing is budgeted (issue 26 finding 18: any client could have the token sign ~800
// responses a second on the sessions issuance uses): at most `signs_per_second` fresh
// signatures, one at a time. Past the budget a request about one certificate whose response is
// cached gets the cached one (without the nonce: RFC 8954 lets a responder leave it out), any
// other request tryLater.
//
// Thread-safe: called from the HTTP server's threads.

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "ca/revocation/offline_issuers.h"
#include "common/bytes.h"
#include "common/sql/connection_pool.h"
#include "common/x509/ocsp.h"
#include "common/x509/openssl_types.h"
#include "common/x509/signer.h"

namespace imprint::ca {

struct OcspResponderOptions {
  x509::Signer* signer = nullptr;   // the responder key
  const X509* responder = nullptr;  // its certificate (issued by `issuer`)
  const X509* issuer = nullptr;     // the issuing CA the answers are about
  // The root and the same key's certificate from it: answers about the subordinates of
  // allowances (good while granted, revoked by `allowance revoke`). Null: none.
  const X509* root = nullptr;
  const X509* root_responder = nullptr;
  int validity_minutes = 60;   // nextUpdate - thisUpdate
  size_t max_requests = 16;    // CertIDs in one OCSPRequest
  int signs_per_second = 100;  // fresh signatures; one second's worth may come at once
};

class OcspResponder {
 public:
  OcspResponder(sql::ConnectionPool& reads, OcspResponderOptions options);

  // The DER OCSPResponse to a DER OCSPRequest: malformedRequest for one that does not parse
  // (or asks about too many certificates), tryLater when the store or the HSM fails.
  Bytes Respond(ByteView request_der);

 private:
  struct Status;
  struct Cached {
    Bytes response;
    int64_t expires_ms = 0;
  };
  // `allowance_id` empty: a certificate of the issuing CA; else one its subordinate signed.
  Result<Status> Lookup(const std::string& serial_hex, const std::string& allowance_id);
  // A subordinate CA certificate the root signed for an allowance.
  Result<Status> LookupSubordinate(const std::string& serial_hex);
  Result<int64_t> RevocationCounter();
  Result<Bytes> Answer(const x509::OcspRequest& request);

  sql::ConnectionPool& reads_;
  OcspResponderOptions options_;
  Bytes responder_key_hash_;  // SHA-1 of the responder's public key: ResponderID byKey
  Bytes responder_cert_;      // DER, sent with every response
  // The issuer's name and key hashes (a CertID's issuerNameHash, issuerKeyHash) per hash NID.
  x509::IssuerHashesByNid issuer_hashes_;
  x509::IssuerHashesByNid root_hashes_;  // empty without options.root_responder
  Bytes root_responder_cert_;
  OfflineIssuers offline_;

  // Whether a fresh signature may be made now (a token bucket of signs_per_second).
  bool TakeSigningBudget(int64_t now_ms);
  // The cached response for `cache_key` if it is still current, else empty.
  Bytes CachedFor(const std::string& cache_key, int64_t counter, int64_t now_ms);

  std::mutex budget_mu_;
  double budget_tokens_ = 0;        // guarded by budget_mu_
  int64_t budget_refilled_ms_ = 0;  // guarded by budget_mu_
  uint64_t refused_ = 0;            // guarded by budget_mu_: tryLater or cached since the last log
  int64_t refused_logged_ms_ = 0;   // guarded by budget_mu_
  std::mutex sign_mu_;              // one signature at a time

  std::mutex cache_mu_;
  int64_t cache_counter_ = -1;                     // the revocation counter the cache is for
  std::unordered_map<std::string, Cached> cache_;  // by the request's CertID (DER)
};

}  // namespace imprint::ca
