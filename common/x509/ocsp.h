#pragma once
// OCSP (RFC 6960) as a responder needs it: reading a request into plain values and encoding a
// signed BasicOCSPResponse from plain values, beside the CRL encoder (crl.h). Which
// certificates are good, revoked or unknown is the caller's business; nothing here reads a
// store or caches.

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/bytes.h"
#include "common/error.h"
#include "common/x509/crl.h"
#include "common/x509/signer.h"

namespace imprint::x509 {

// One CertID of a request (RFC 6960 4.1.1): which issuer (by the hash of its name and key) and
// which serial.
struct OcspCertId {
  Bytes der;               // the CertID as sent: a response repeats it unchanged
  int hash_nid = 0;        // NID of hashAlgorithm (NID_sha1, NID_sha256, ...)
  Bytes issuer_name_hash;  // issuerNameHash
  Bytes issuer_key_hash;   // issuerKeyHash
  Bytes serial;            // the serial's magnitude, big-endian
  bool serial_negative = false;
};

struct OcspRequest {
  std::vector<OcspCertId> ids;
  std::optional<Bytes> nonce_extension;  // the id-pkix-ocsp-nonce Extension (DER), if sent
};

// INVALID_ARGUMENT for bytes that are not exactly one OCSPRequest, or that ask about no
// certificate or more than `max_ids`.
Result<OcspRequest> ParseOcspRequest(ByteView der, size_t max_ids);

// The hashes a CertID names `issuer` by, for the hash of `hash_nid` (RFC 6960 4.1.1: of the
// issuer's DER subject name, and of its subjectPublicKey BIT STRING's value).
struct OcspIssuerHashes {
  Bytes name_hash, key_hash;
};
Result<OcspIssuerHashes> IssuerHashes(const X509* issuer, int hash_nid);

// An issuer's hashes for every hash a CertID may use here (SHA-1, almost every client, and
// SHA-256), computed once; and whether a CertID names that issuer (compared in constant time).
using IssuerHashesByNid = std::unordered_map<int, OcspIssuerHashes>;
IssuerHashesByNid HashIssuer(const X509* issuer);
bool SameIssuer(const OcspCertId& id, const IssuerHashesByNid& hashes);

struct OcspAnswer {
  enum class Status { kGood, kRevoked, kUnknown };
  Bytes cert_id;  // the request's CertID DER
  Status status = Status::kUnknown;
  int64_t revoked_ms = 0;                      // kRevoked: revocationTime
  CrlReason reason = CrlReason::kUnspecified;  // kRevoked: unspecified sends no revocationReason
};

struct OcspResponseSpec {
  Bytes responder_key_hash;  // ResponderID byKey: SHA-1 of the responder's public key
  Bytes responder_cert;      // DER, sent in `certs` so a client can check the delegation
  std::vector<Bytes> chain;  // DER, sent after it: the responder's issuer when a client may lack it
  int64_t produced_ms = 0;   // producedAt, and each answer's thisUpdate
  int64_t next_update_ms = 0;
  std::vector<OcspAnswer> answers;
  std::optional<Bytes> nonce_extension;  // echoed as a responseExtension
};

// A successful OCSPResponse holding a BasicOCSPResponse signed by `signer` (verified before it
// is returned, signed_der.h). Times are whole seconds (GeneralizedTime, RFC 6960 4.2.2.1).
Result<Bytes> BuildOcspResponse(const OcspResponseSpec& spec, Signer& signer);

// An OCSPResponse with a status and no body (RFC 6960 4.2.1).
enum class OcspResponseStatus : uint8_t {
  kMalformedRequest = 1,
  kInternalError = 2,
  kTryLater = 3
};
Bytes OcspStatusOnly(OcspResponseStatus status);

}  // namespace imprint::x509
