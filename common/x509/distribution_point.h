#pragma once
// Where a certificate's revocation is published and what a CRL covers (RFC 5280 4.2.1.13,
// 5.2.5): a cRLDistributionPoints entry that may name another CRL issuer, and the
// issuingDistributionPoint of an indirect CRL. Devices a station signs offline name the issuing
// CA's indirect CRL this way (docs/offline.md).

#include <string_view>

#include "common/bytes.h"
#include "common/error.h"
#include "common/x509/openssl_types.h"

namespace imprint::x509 {

// cRLDistributionPoints with one point: fullName `url`, and, when `crl_issuer_der` (a DER Name)
// is not empty, cRLIssuer naming it. Not critical.
Status AddCrlDistributionPoint(X509* cert, std::string_view url, ByteView crl_issuer_der);

// The issuingDistributionPoint extension of an indirect CRL: fullName `url`, indirectCRL TRUE;
// critical.
Result<X509ExtensionPtr> IndirectCrlScope(std::string_view url);

// A GeneralNames holding one directoryName; INVALID_ARGUMENT when `name_der` is not a DER Name.
Result<GeneralNamesPtr> DirectoryNames(ByteView name_der);

}  // namespace imprint::x509
