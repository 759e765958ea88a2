#pragma once
// Distinguished names built from (short name, UTF-8 value) pairs.

#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/x509/openssl_types.h"

namespace imprint::x509 {

// Upper bound on one attribute value; RFC 5280 Appendix A caps CN, O and serialNumber at
// 64 characters, so anything past this is a mistake or an attack.
inline constexpr size_t kMaxNameValueBytes = 256;

// Builds a name from ("CN", "dev-1"), ("O", "Acme") ...; an attribute may also be named by its
// dotted OID ("1.3.6.1.4.1.37244.2.1"), and its value is then a UTF8String. INVALID_ARGUMENT for an
// unknown attribute, an empty or oversized value, or a value OpenSSL rejects for that attribute.
Result<X509NamePtr> BuildName(const std::vector<std::pair<std::string, std::string>>& rdns);

}  // namespace imprint::x509
