#pragma once
// Reading what a relying party checks in a certificate: its extended key usages and the
// subject's common name.

#include <optional>
#include <string>
#include <string_view>

#include "common/x509/openssl_types.h"

namespace imprint::x509 {

// True when `cert` has an extendedKeyUsage extension listing `oid` (dotted form, e.g.
// "1.3.6.1.5.5.7.3.36"). False without the extension, or when it cannot be decoded.
bool HasExtendedKeyUsage(const X509* cert, std::string_view oid);

// The subject's one commonName as UTF-8; nullopt when there is none, more than one, or it does
// not convert.
std::optional<std::string> SubjectCommonName(const X509* cert);

}  // namespace imprint::x509
