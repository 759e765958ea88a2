#pragma once
// The signed allowance (docs/offline.md): what the brand owner's CA permits one station to issue
// without it, as a JWS (RFC 7515, flattened JSON serialization) from the allowance CA's key. Its
// protected header carries "alg", "typ" (kAllowanceJwsType) and "x5c" (the signer's
// certificate, then the root, base64 DER); its payload is a JSON object of the fields below. The
// signer is the CA's document signer: certified by the root itself, CA:FALSE, with extended key
// usage id-kp-documentSigning, which nothing the issuing CA certifies can carry in a chain. The CA
// writes it at fetch; the station checks it before it issues and keeps it beside its log;
// reconciliation at the CA reads it back.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/error.h"
#include "common/x509/openssl_types.h"

namespace imprint::offline {

inline constexpr const char* kAllowanceJwsType = "imprint-allowance+jws";
// How the CA's refusal to certify a key an earlier allowance used begins (FAILED_PRECONDITION):
// a station that meets it makes a fresh key in its token and fetches again.
inline constexpr const char* kKeyUsedBeforeMessage = "key already certified for allowance";

// What the station puts into each device certificate it signs offline: the CA's device profile
// and naming, so offline devices look like online ones (x509::DeviceSubjectName).
struct OfflineProfile {
  std::string organization;
  std::string device_uri_prefix;  // the SAN URI is this followed by the device id
  std::vector<std::string> key_usage;
  std::vector<std::string> extended_key_usage;
  std::string crl_url;
  std::string ocsp_url;
  int password_length = 0;  // of the default password drawn for each device
  // The DER Name of the CA whose indirect CRL publishes these devices' revocations (the cRLIssuer
  // of their crl_url point; "crl_issuer", base64). Empty in allowances from a CA before it
  // published one: their devices name crl_url alone.
  Bytes crl_issuer = {};
};

struct SignedAllowance {
  std::string id;  // 32 hex digits, random from the CA's token: the allowance's nonce
  std::string order;
  std::string station;
  int64_t count = 0;
  int64_t granted_ms = 0;
  int64_t not_after_ms = 0;
  std::string subordinate_serial;  // hex, of the subordinate CA certificate
  Bytes subordinate_spki_sha256;   // SHA-256 of the subordinate key's SubjectPublicKeyInfo
  OfflineProfile profile;          // "device_profile" in the payload
  // The CA's secret-transport key (SubjectPublicKeyInfo DER, P-256; "secret_key", base64): the
  // station seals each device's password to it (sealed_secret.h). Empty in allowances fetched
  // from a CA before it had one: their passwords stay at the station only.
  Bytes secret_key_spki = {};
};

// The payload's JSON text.
std::string AllowancePayload(const SignedAllowance& allowance);

// Checks the JWS's shape, its "typ", its signer (x5c[0]: issued by `root` itself, CA:FALSE,
// id-kp-documentSigning) and its signature, and reads the payload: every field present with its
// type, identifiers valid, count positive. INVALID_ARGUMENT for anything malformed or a signer
// that is not the root's document signer, DATA_LOSS for a signature that does not verify.
Result<SignedAllowance> VerifySignedAllowance(std::string_view jws, X509* root);

}  // namespace imprint::offline
