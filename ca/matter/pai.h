#pragma once
// Product Attestation Intermediates (Matter Core Specification 6.2.2) whose keys live in the
// CA's token, and a test PAA for development (docs/matter.md, "The PAI ceremony"):
// - `matter pai create` makes the PAI key in the token and a CSR for the PAA's operator;
// - `matter pai import` installs the certificate the PAA signed, after checking it against the
//   Matter profile, the PAA and the key in the token;
// - `matter paa create-test` makes a test PAA in the token (as the CSA's test PAAs are used)
//   and signs every PAI still waiting for the same vendor with it.
// Every step is audited; a PAI serves orders only once imported.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ca/admin_session.h"
#include "ca/audit/writer.h"
#include "ca/config.h"
#include "ca/hsm.h"
#include "common/matter/attestation_certificate.h"
#include "common/pkcs11/signer.h"
#include "common/sql/database.h"
#include "common/x509/openssl_types.h"

namespace imprint::ca {

struct PaiSpec {
  std::string label;  // IsValidIdentifier
  uint16_t vendor_id = 0;
  std::optional<uint16_t> product_id;
};

// The token label of a PAI's key, and of the test PAA's.
std::string PaiKeyLabel(const std::string& label);
inline constexpr const char* kTestPaaKeyLabel = "matter-paa-test";

// `matter pai create`: the key (P-256, in the token, never extractable) and its CSR (DER),
// recorded as pending. ALREADY_EXISTS for a label in use.
Result<Bytes> CreatePai(const CaConfig& config, const PaiSpec& spec);

// `matter pai import`: `pai_pem` must be the pending PAI's certificate (its key the token's,
// its VID and PID the ones it was created with, valid now) and pass the PAI profile; `paa_pem`
// must pass the PAA profile and have signed it. INVALID_ARGUMENT naming the first problem;
// nothing is recorded then.
Status ImportPai(const CaConfig& config, const std::string& label, const std::string& pai_pem,
                 const std::string& paa_pem);

struct TestPaaResult {
  std::string paa_pem;
  std::vector<std::string> signed_pais;  // labels imported under it
};
// `matter paa create-test`: the test PAA (made once; later runs reuse it) and every pending
// PAI of `vendor_id` signed with it and imported. For development and tests only: a
// production PAA is the CSA's or a vendor's, held elsewhere.
Result<TestPaaResult> CreateTestPaa(const CaConfig& config, uint16_t vendor_id);

// An imported PAI ready to sign: its certificate, its PAA and its key in the token.
struct ActivePai {
  std::string label;
  x509::X509Ptr certificate;
  Bytes certificate_der;
  x509::X509Ptr paa;
  Bytes paa_der;
  matter::AttestationIds ids;
  std::unique_ptr<p11::Pkcs11Signer> signer;
};

// The CA's PAIs, loaded on first use and kept. Thread-safe.
class MatterPais {
 public:
  explicit MatterPais(CaHsm& hsm) : hsm_(hsm) {}
  // NOT_FOUND for a label that is not an imported PAI.
  Result<const ActivePai*> Get(sql::Database& db, const std::string& label);

 private:
  CaHsm& hsm_;
  std::mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<ActivePai>> pais_;  // guarded by mu_
};

// The imported PAI `label` read from the store (its signer not loaded): for order checks.
struct PaiRecord {
  std::string label;
  matter::AttestationIds ids;
  std::string status;
  Bytes certificate_der;
  Bytes paa_der;
};
Result<PaiRecord> LoadPaiRecord(sql::Database& db, const std::string& label);

}  // namespace imprint::ca
