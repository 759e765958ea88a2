#include "ca/matter/order.h"

#include <openssl/x509.h>

#include "common/matter/attestation_certificate.h"
#include "common/matter/certification_declaration.h"
#include "common/matter/passcode.h"
#include "common/matter/spake2p.h"
#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"
#include "common/x509/name.h"

namespace imprint::ca {
namespace {

using matter::HexId;

std::unexpected<Error> Refused(const std::string& what) {
  return Fail(Code::kInvalidArgument, "Matter order refused: " + what);
}

// The size of the largest DAC this order can make, without the PAI's key: a sample with the
// longest device id, self-issued by a throwaway key, differs from the real one only in the
// issuer name (the PAI's subject instead of its own) and the ECDSA signature (70-72 bytes
// whoever makes it). Every real DAC is checked again before it is recorded.
Status CheckLargestDac(const PaiRecord& pai, const std::string& organization, uint16_t product_id) {
  IMPRINT_ASSIGN_OR_RETURN(x509::PkeyPtr key, x509::GenerateKey("P-256"));
  IMPRINT_ASSIGN_OR_RETURN(auto signer, x509::EvpSigner::Create(std::move(key)));
  IMPRINT_ASSIGN_OR_RETURN(auto pai_cert, x509::ParseCertificateDer(pai.certificate_der));
  x509::CertificateRequest request;
  request.profile = &DacProfile();
  auto subject = DacSubject(std::string(64, 'W'), organization, *pai.ids.vendor_id, product_id);
  request.subject.name = subject;
  request.public_key = signer->public_key();
  request.serial = x509::MakeSerial(Bytes(x509::kSerialBytes, 0xff));
  auto sample = x509::IssueCertificateDer(request, nullptr, *signer);
  if (!sample) return Refused("the DAC subject is not valid: " + sample.error().message());
  int issuer_bytes = i2d_X509_NAME(X509_get_subject_name(pai_cert.get()), nullptr);
  int own_bytes = 0;
  {
    auto built = x509::BuildName(subject);
    if (!built) return Refused(built.error().message());
    own_bytes = i2d_X509_NAME(built->get(), nullptr);
  }
  size_t size = sample->size() - static_cast<size_t>(own_bytes) +
                static_cast<size_t>(issuer_bytes) + 2;  // the signature's spread
  if (size > matter::kMaxAttestationCertificateBytes) {
    return Refused("a DAC for this order would be about " + std::to_string(size) +
                   " bytes, more than 600 (shorten the organization name)");
  }
  return {};
}

}  // namespace

const x509::CertificateProfile& DacProfile() {
  static const x509::CertificateProfile profile = [] {
    x509::CertificateProfile p;
    p.is_ca = false;
    p.key_usage = {"digitalSignature"};
    p.lifetime = std::nullopt;
    return p;
  }();
  return profile;
}

std::vector<std::pair<std::string, std::string>> DacSubject(const std::string& device_id,
                                                            const std::string& organization,
                                                            uint16_t vendor_id,
                                                            uint16_t product_id) {
  return {{"CN", device_id},
          {"O", organization},
          {matter::kVendorIdOid, HexId(vendor_id)},
          {matter::kProductIdOid, HexId(product_id)}};
}

Status CheckMatterOrder(sql::Database& db, const std::string& organization,
                        const MatterOrderSpec& spec) {
  auto pai = LoadPaiRecord(db, spec.pai_label);
  if (!pai) return Refused(pai.error().message());
  if (spec.iterations < matter::kMinPbkdfIterations ||
      spec.iterations > matter::kMaxPbkdfIterations) {
    return Refused("iterations must be 1000-100000");
  }
  if (spec.discriminator && *spec.discriminator > matter::kMaxDiscriminator) {
    return Refused("the discriminator must be 0-4095");
  }
  if (pai->ids.product_id && *pai->ids.product_id != spec.product_id) {
    return Refused("PAI " + spec.pai_label + " is for product " + HexId(*pai->ids.product_id) +
                   ", not " + HexId(spec.product_id));
  }
  auto signer = x509::ParseCertificatePem(spec.cd_signer_pem);
  if (!signer) return Refused("the CD signer is not a PEM certificate");
  auto cd = matter::VerifyCertificationDeclaration(spec.cd_der, signer->get());
  if (!cd) return Refused(cd.error().message());
  auto covers = matter::CheckDeclarationCovers(*cd, *pai->ids.vendor_id, spec.product_id);
  if (!covers) return Refused(covers.error().message());
  return CheckLargestDac(*pai, organization, spec.product_id);
}

Status RecordMatterOrder(WriteContext& ctx, const std::string& order_id,
                         const MatterOrderSpec& spec) {
  IMPRINT_ASSIGN_OR_RETURN(PaiRecord pai, LoadPaiRecord(ctx.db(), spec.pai_label));
  IMPRINT_ASSIGN_OR_RETURN(
      auto insert,
      ctx.db().Prepare("INSERT INTO matter_orders (order_id, pai_label, vendor_id, product_id, "
                       "cd_der, iterations, discriminator) VALUES (?, ?, ?, ?, ?, ?, "
                       "NULLIF(?, -1))"));
  insert.BindAll(order_id, spec.pai_label, int64_t{*pai.ids.vendor_id}, int64_t{spec.product_id},
                 spec.cd_der, int64_t{spec.iterations},
                 spec.discriminator ? int64_t{*spec.discriminator} : int64_t{-1});
  IMPRINT_RETURN_IF_ERROR(insert.Run());
  nlohmann::json detail = {
      {"order", order_id},
      {"pai", spec.pai_label},
      {"vendor_id", HexId(*pai.ids.vendor_id)},
      {"product_id", HexId(spec.product_id)},
      {"cd_sha256", HexEncode(x509::Sha256(spec.cd_der))},
      {"iterations", spec.iterations},
      {"discriminator",
       spec.discriminator ? nlohmann::json(*spec.discriminator) : nlohmann::json("random")}};
  IMPRINT_RETURN_IF_ERROR(ctx.Audit("admin", "matter.order_created", detail));
  return {};
}

Result<std::optional<MatterOrder>> LoadMatterOrder(sql::Database& db, const std::string& order_id) {
  IMPRINT_ASSIGN_OR_RETURN(
      auto q, db.Prepare("SELECT pai_label, vendor_id, product_id, cd_der, iterations, "
                         "discriminator FROM matter_orders WHERE order_id = ?"));
  q.BindAll(order_id);
  IMPRINT_ASSIGN_OR_RETURN(bool found, q.Step());
  if (!found) return std::optional<MatterOrder>{};
  MatterOrder o;
  o.pai_label = q.ColumnText(0);
  o.vendor_id = static_cast<uint16_t>(q.ColumnInt64(1));
  o.product_id = static_cast<uint16_t>(q.ColumnInt64(2));
  o.cd_der = q.ColumnBlob(3);
  o.iterations = static_cast<uint32_t>(q.ColumnInt64(4));
  if (!q.ColumnIsNull(5)) o.discriminator = static_cast<uint16_t>(q.ColumnInt64(5));
  return std::optional<MatterOrder>(std::move(o));
}

Result<std::shared_ptr<const MatterOrder>> MatterOrderCache::Get(sql::Database& db,
                                                                 const std::string& order_id) {
  {
    std::lock_guard lock(mu_);
    auto it = orders_.find(order_id);
    if (it != orders_.end()) return it->second;
  }
  IMPRINT_ASSIGN_OR_RETURN(auto loaded, LoadMatterOrder(db, order_id));
  std::shared_ptr<const MatterOrder> order;
  if (loaded) {
    order = std::make_shared<const MatterOrder>(std::move(*loaded));
  } else {
    IMPRINT_ASSIGN_OR_RETURN(auto exists, db.Prepare("SELECT 1 FROM orders WHERE id = ?"));
    exists.BindAll(order_id);
    IMPRINT_ASSIGN_OR_RETURN(bool found, exists.Step());
    if (!found) return order;  // not kept: the id may yet name a Matter order
  }
  std::lock_guard lock(mu_);
  orders_.emplace(order_id, order);
  return order;
}

}  // namespace imprint::ca
