#pragma once
// Matter orders (docs/matter.md): an order whose devices get a Device Attestation Certificate
// from one of the CA's PAIs, the product's Certification Declaration and commissioning data.
// What `order create --matter` checks, what it records beside the order, and the DAC profile
// every device of such an order is issued under.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ca/audit/write_context.h"
#include "ca/matter/pai.h"
#include "common/bytes.h"
#include "common/error.h"
#include "common/x509/certificate_builder.h"

namespace imprint::ca {

struct MatterOrderSpec {
  std::string pai_label;
  uint16_t product_id = 0;
  Bytes cd_der;                           // the Certification Declaration (CMS, DER)
  std::string cd_signer_pem;              // the certificate whose key signed it
  std::optional<uint16_t> discriminator;  // nullopt: a random one per device
  uint32_t iterations = 1000;             // PBKDF2 iterations of the SPAKE2+ verifier
};

// What a Matter order's devices are made with, as recorded.
struct MatterOrder {
  std::string pai_label;
  uint16_t vendor_id = 0;
  uint16_t product_id = 0;
  Bytes cd_der;
  uint32_t iterations = 0;
  std::optional<uint16_t> discriminator;
};

// Checks a Matter order before anything is recorded: the PAI imported; the iteration count and
// fixed discriminator in range; the CD's signature verified with the signer certificate, its
// vendor id the PAI's and the product id in its product list; the PAI's own product id, if it
// has one, the order's; and the largest DAC the order could make (a 64-character device id)
// within 600 bytes. INVALID_ARGUMENT naming the field.
Status CheckMatterOrder(sql::Database& db, const std::string& organization,
                        const MatterOrderSpec& spec);

// Records the order's Matter facts inside OrderCreate's transaction (after the order row) and
// audits them as matter.order_created.
Status RecordMatterOrder(WriteContext& ctx, const std::string& order_id,
                         const MatterOrderSpec& spec);

// The order's Matter facts; nullopt for an ordinary order.
Result<std::optional<MatterOrder>> LoadMatterOrder(sql::Database& db, const std::string& order_id);

// The serving CA's view of LoadMatterOrder, read once per order and kept: a matter_orders row is
// written in its order's transaction and never changed, so neither answer goes stale. "Not a
// Matter order" is kept only for an order that exists (one made later under that id could be
// one). Spares every station call of an ordinary order a query. Thread-safe.
class MatterOrderCache {
 public:
  // nullptr for an ordinary (or unknown) order.
  Result<std::shared_ptr<const MatterOrder>> Get(sql::Database& db, const std::string& order_id);

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const MatterOrder>> orders_;  // guarded by mu_
};

// The DAC profile (6.2.2): CA false, keyUsage exactly digitalSignature, no expiry, and no
// backdating (a commissioner checks the chain at the DAC's notBefore, so it must not precede
// its PAI's).
const x509::CertificateProfile& DacProfile();
// CN = the device id, O = the organization, then the VID and PID attributes.
std::vector<std::pair<std::string, std::string>> DacSubject(const std::string& device_id,
                                                            const std::string& organization,
                                                            uint16_t vendor_id,
                                                            uint16_t product_id);

}  // namespace imprint::ca
