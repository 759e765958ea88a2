#pragma once
// Certificate revocation lists (RFC 5280 section 5): a v2 CRL whose TBSCertList OpenSSL
// encodes piece by piece and whose signature comes from a Signer (normally the HSM's issuing
// key), assembled as certificates are (signed_der.h). Entries are encoded one at a time, so a
// list of a million entries never exists as a million OpenSSL objects.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/error.h"
#include "common/x509/openssl_types.h"
#include "common/x509/signer.h"

namespace imprint::x509 {

// CRLReason (RFC 5280 5.3.1), as imprint spells them: lower case with dashes.
enum class CrlReason {
  kUnspecified = 0,
  kKeyCompromise = 1,
  kAffiliationChanged = 3,
  kSuperseded = 4,
  kCessationOfOperation = 5,
  kCertificateHold = 6,
};
// "key-compromise" -> kKeyCompromise; INVALID_ARGUMENT lists the accepted names.
Result<CrlReason> ParseCrlReason(std::string_view name);
std::string_view CrlReasonName(CrlReason reason);

struct CrlEntry {
  Bytes serial;  // the certificate's serial number, big-endian, positive
  std::chrono::system_clock::time_point revoked_at;
  CrlReason reason = CrlReason::kUnspecified;  // unspecified: no reasonCode extension (5.3.1)
  std::optional<std::chrono::system_clock::time_point> invalid_since;  // invalidityDate
  // Indirect CRLs only: the DER Name of the certificate's issuer when it is not the CRL's
  // (certificateIssuer, RFC 5280 5.3.3, critical). Put on every such entry, not only where the
  // issuer changes, so no reader depends on entries' order.
  Bytes certificate_issuer = {};
};

struct CrlRequest {
  const X509* issuer = nullptr;  // the CA certificate whose key signs; not owned
  uint64_t number = 0;           // cRLNumber: must grow with every CRL this issuer publishes
  std::chrono::system_clock::time_point this_update;
  std::chrono::system_clock::time_point next_update;
  std::vector<CrlEntry> entries;
  // Non-empty: an indirect CRL (RFC 5280 5.2.5) for certificates other CAs issued, with an
  // issuingDistributionPoint (critical) naming this URL and indirectCRL TRUE. Their certificates
  // name it in a cRLDistributionPoints entry whose cRLIssuer is this CRL's issuer.
  std::string indirect_url = {};
};

// Builds and signs the CRL; returns its DER. The signature is verified before returning.
Result<Bytes> BuildCrl(const CrlRequest& request, Signer& signer);

// The number of revokedCertificates in a CRL's DER, read without an OpenSSL object per entry
// (the signature is not checked). INVALID_ARGUMENT if the DER is not a CertificateList.
Result<int64_t> CountCrlEntries(ByteView crl_der);

}  // namespace imprint::x509
