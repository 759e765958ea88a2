#include "ca/matter/pai_crl.h"

#include <filesystem>

#include "ca/admin_session.h"
#include "ca/matter/pai.h"
#include "common/base64.h"
#include "common/file_util.h"
#include "common/pkcs11/signer.h"
#include "common/utc_time.h"
#include "common/x509/crl.h"
#include "common/x509/encoding.h"

namespace imprint::ca {
namespace {

std::chrono::system_clock::time_point FromMs(int64_t ms) {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

Result<std::vector<x509::CrlEntry>> RevokedDacs(sql::Database& db, const std::string& label) {
  IMPRINT_ASSIGN_OR_RETURN(
      auto rows,
      db.Prepare("SELECT r.serial_hex, r.reason, r.revoked_ms, r.invalidity_ms FROM revocations r "
                 "JOIN devices d ON d.serial_hex = r.serial_hex JOIN matter_orders m ON "
                 "m.order_id = d.order_id WHERE m.pai_label = ? AND d.profile = 'matter-dac' "
                 "ORDER BY r.serial_hex"));
  rows.BindAll(label);
  std::vector<x509::CrlEntry> entries;
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, rows.Step());
    if (!row) break;
    x509::CrlEntry e;
    if (!HexDecode(rows.ColumnText(0), &e.serial)) {
      return Fail(Code::kDataLoss, "revocations holds a serial that is not hex");
    }
    IMPRINT_ASSIGN_OR_RETURN(e.reason, x509::ParseCrlReason(rows.ColumnText(1)));
    e.revoked_at = FromMs(rows.ColumnInt64(2));
    if (!rows.ColumnIsNull(3)) e.invalid_since = FromMs(rows.ColumnInt64(3));
    entries.push_back(std::move(e));
  }
  return entries;
}

}  // namespace

Result<PaiCrl> IssuePaiCrl(const CaConfig& config, const std::string& label) {
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::Open(config, "matter crl"));
  IMPRINT_ASSIGN_OR_RETURN(PaiRecord pai, LoadPaiRecord(*s.db, label));
  IMPRINT_ASSIGN_OR_RETURN(auto pai_cert, x509::ParseCertificateDer(pai.certificate_der));
  IMPRINT_ASSIGN_OR_RETURN(auto signer, p11::Pkcs11Signer::Create(
                                            s.hsm->pool(), p11::ObjectRef{PaiKeyLabel(label), {}}));
  PaiCrl out;
  Bytes der;
  IMPRINT_RETURN_IF_ERROR(s.Write(config, [&](WriteContext& ctx) -> Status {
    IMPRINT_ASSIGN_OR_RETURN(auto entries, RevokedDacs(ctx.db(), label));
    IMPRINT_ASSIGN_OR_RETURN(
        auto next, ctx.db().Prepare("UPDATE matter_pais SET crl_number = crl_number + 1 WHERE "
                                    "label = ? RETURNING crl_number"));
    next.BindAll(label);
    IMPRINT_ASSIGN_OR_RETURN(bool row, next.Step());
    if (!row) return Fail(Code::kNotFound, "no Matter PAI " + label);
    out.number = static_cast<uint64_t>(next.ColumnInt64(0));
    IMPRINT_RETURN_IF_ERROR(next.Run());
    out.entries = static_cast<int64_t>(entries.size());
    x509::CrlRequest request;
    request.issuer = pai_cert.get();
    request.number = out.number;
    request.this_update = FromMs(ctx.now_ms());
    request.next_update = request.this_update + std::chrono::hours(config.crl_validity_hours);
    request.entries = std::move(entries);
    // Signed inside the transaction: a number is never used for two lists, and a CRL whose
    // record failed is never written.
    IMPRINT_ASSIGN_OR_RETURN(der, x509::BuildCrl(request, *signer));
    IMPRINT_RETURN_IF_ERROR(ctx.Audit("admin", "matter.pai_crl_issued",
                                      {{"pai", label},
                                       {"number", out.number},
                                       {"entries", out.entries},
                                       {"sha256", HexEncode(x509::Sha256(der))}}));
    return {};
  }));
  std::error_code ec;
  std::filesystem::create_directories(config.state_dir + "/crl", ec);
  if (ec) return Fail(Code::kUnavailable, "cannot create " + config.state_dir + "/crl");
  out.path = config.state_dir + "/crl/matter-" + label + ".crl";
  IMPRINT_RETURN_IF_ERROR(WriteFileAtomic(
      out.path, std::string_view(reinterpret_cast<const char*>(der.data()), der.size()), 0644));
  IMPRINT_ASSIGN_OR_RETURN(std::string pem, x509::DerToPem(der, "X509 CRL"));
  IMPRINT_RETURN_IF_ERROR(WriteFileAtomic(out.path + ".pem", pem, 0644));
  return out;
}

}  // namespace imprint::ca
