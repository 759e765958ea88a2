#pragma once
// The Certification Declaration (Matter Core Specification 6.3): a CMS SignedData (RFC 5652)
// whose content is a TLV structure naming the product it certifies. It is per product, the
// same on every device, and signed by the CSA; the factory only checks and injects it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/error.h"
#include "common/x509/openssl_types.h"

namespace imprint::matter {

inline constexpr size_t kMaxCertificationDeclarationBytes = 600;  // 6.3.1: enough for any CD

struct CertificationDeclaration {
  uint8_t format_version = 0;
  uint16_t vendor_id = 0;
  std::vector<uint16_t> product_ids;
  uint32_t device_type_id = 0;
  std::string certificate_id;
  uint8_t security_level = 0;
  uint16_t security_information = 0;
  uint16_t version_number = 0;
  uint8_t certification_type = 0;  // 0 development and test, 1 provisional, 2 official
  std::optional<uint16_t> dac_origin_vendor_id;
  std::optional<uint16_t> dac_origin_product_id;
  std::vector<Bytes> authorized_paa_skids;
};

// The TLV content (6.3.1). INVALID_ARGUMENT naming a missing or malformed field.
Result<CertificationDeclaration> ParseCertificationDeclarationContent(ByteView tlv);

// Opens the CMS envelope: it must be SignedData with exactly one signer, identified by subject
// key identifier, and its signature must verify with `signer`'s key (whose SKID must match).
// Returns the parsed content. INVALID_ARGUMENT naming what is wrong.
Result<CertificationDeclaration> VerifyCertificationDeclaration(ByteView cms_der,
                                                                const X509* signer);

// The vendor and product an order makes devices for must be what the CD certifies: the vendor
// id equal (or the dac_origin ones, when present), the product id in product_id_array.
// INVALID_ARGUMENT naming the field that differs.
Status CheckDeclarationCovers(const CertificationDeclaration& cd, uint16_t vendor_id,
                              uint16_t product_id);

}  // namespace imprint::matter
