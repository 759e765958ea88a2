#include "ca/allowance/renewal.h"

#include <openssl/x509.h>

#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include "ca/admin_session.h"
#include "ca/allowance/allowance.h"
#include "ca/allowance/issuer.h"
#include "ca/revocation/revocation.h"
#include "ca/states.h"
#include "common/file_util.h"
#include "common/x509/encoding.h"
#include "common/x509/spki.h"

namespace imprint::ca {
namespace {

struct Fetched {
  std::string id;
  AllowanceState state = AllowanceState::kGranted;
  Bytes subordinate_der;
  std::optional<Bytes> renewed_der;
  std::string renewed_serial;
};

Result<Fetched> NewestFetched(sql::Database& db, const std::string& order_id,
                              const std::string& station) {
  IMPRINT_ASSIGN_OR_RETURN(
      auto row, db.Prepare("SELECT id, status, subordinate_der, renewed_der, renewed_serial FROM "
                           "allowances WHERE order_id = ? AND station = ? AND subordinate_der IS "
                           "NOT NULL ORDER BY granted_ms DESC"));
  row.BindAll(order_id, station);
  IMPRINT_ASSIGN_OR_RETURN(bool found, row.Step());
  if (!found) {
    return Fail(Code::kNotFound,
                "no allowance of order " + order_id + " was fetched by station " + station);
  }
  Fetched f;
  f.id = row.ColumnText(0);
  IMPRINT_ASSIGN_OR_RETURN(f.state, ParseAllowanceState(row.ColumnText(1)));
  f.subordinate_der = row.ColumnBlob(2);
  if (!row.ColumnIsNull(3)) {
    f.renewed_der = row.ColumnBlob(3);
    f.renewed_serial = row.ColumnText(4);
  }
  return f;
}

// The subject's attributes as the certificate builder takes them, in order.
Result<std::vector<std::pair<std::string, std::string>>> Attributes(const X509_NAME* name) {
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
    const char* type = OBJ_nid2sn(OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry)));
    unsigned char* utf8 = nullptr;
    int length = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
    if (type == nullptr || length < 0) {
      return Fail(Code::kDataLoss,
                  "the subordinate's subject has an attribute that cannot be read");
    }
    out.emplace_back(type, std::string(reinterpret_cast<char*>(utf8), static_cast<size_t>(length)));
    OPENSSL_free(utf8);
  }
  return out;
}

Status WriteChain(const CaConfig& config, const RenewedSubordinate& r, const X509* root) {
  IMPRINT_ASSIGN_OR_RETURN(std::string pem, x509::CertificateDerToPem(r.der));
  IMPRINT_ASSIGN_OR_RETURN(std::string root_pem, x509::CertificateToPem(root));
  std::error_code ec;
  std::filesystem::create_directories(config.state_dir + "/allowances", ec);
  if (ec) return Fail(Code::kUnavailable, "cannot create " + config.state_dir + "/allowances");
  return WriteFileAtomic(RenewedSubordinatePath(config, r.allowance_id), pem + root_pem, 0644);
}

}  // namespace

std::string RenewedSubordinatePath(const CaConfig& config, const std::string& allowance_id) {
  return config.state_dir + "/allowances/" + allowance_id + "-subordinate.pem";
}

Result<RenewedSubordinate> AllowanceRenewCommand(const CaConfig& config,
                                                 const std::string& order_id,
                                                 const std::string& station) {
  IMPRINT_RETURN_IF_ERROR(CheckOrderAndStation(order_id, station));
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::Open(config, "allowance renew"));
  IMPRINT_ASSIGN_OR_RETURN(CaCertificates certs, CaCertificates::Load(config));
  IMPRINT_ASSIGN_OR_RETURN(AllowanceIssuer issuer, LoadAllowanceIssuer(config, *s.hsm, certs));
  IMPRINT_ASSIGN_OR_RETURN(Fetched f, NewestFetched(*s.db, order_id, station));
  if (f.state != AllowanceState::kGranted) {
    return Fail(Code::kFailedPrecondition,
                "allowance " + f.id + " was revoked: its subordinate is not renewed");
  }
  RenewedSubordinate out{f.id, f.renewed_serial, f.renewed_der.value_or(Bytes()), false};
  if (f.renewed_der) {
    IMPRINT_RETURN_IF_ERROR(WriteChain(config, out, certs.root.get()));
    return out;
  }

  IMPRINT_ASSIGN_OR_RETURN(auto old, x509::ParseCertificateDer(f.subordinate_der));
  x509::CertificateProfile profile = SubordinateProfile(config);
  IMPRINT_ASSIGN_OR_RETURN(Bytes random, s.hsm->Random(x509::kSerialBytes));
  x509::CertificateRequest request;
  request.profile = &profile;
  IMPRINT_ASSIGN_OR_RETURN(request.subject.name, Attributes(X509_get_subject_name(old.get())));
  request.public_key = X509_get0_pubkey(old.get());
  IMPRINT_ASSIGN_OR_RETURN(request.spki_der, x509::CertificateSpki(f.subordinate_der));
  request.serial = x509::MakeSerial(random);
  IMPRINT_ASSIGN_OR_RETURN(
      out.der, x509::IssueCertificateDer(request, issuer.root_certificate, *issuer.root));
  IMPRINT_ASSIGN_OR_RETURN(auto renewed, x509::ParseCertificateDer(out.der));
  // Its devices name the subordinate's subject as their issuer: it must not change by a byte.
  if (X509_NAME_cmp(X509_get_subject_name(renewed.get()), X509_get_subject_name(old.get())) != 0) {
    return Fail(Code::kInternal, "the renewed subordinate's subject differs from the original");
  }
  out.serial_hex = HexEncode(request.serial);
  IMPRINT_ASSIGN_OR_RETURN(std::string old_serial, x509::SerialHex(old.get()));
  IMPRINT_RETURN_IF_ERROR(s.Write(config, [&](WriteContext& ctx) -> Status {
    IMPRINT_ASSIGN_OR_RETURN(
        auto update, ctx.db().Prepare("UPDATE allowances SET renewed_der = ?, renewed_serial = ? "
                                      "WHERE id = ? AND status = 'granted' AND renewed_der IS "
                                      "NULL"));
    update.BindAll(out.der, out.serial_hex, f.id);
    IMPRINT_RETURN_IF_ERROR(update.Run());
    if (ctx.db().Changes() != 1) {
      return Fail(Code::kAborted,
                  "allowance " + f.id + " was renewed or revoked meanwhile; run the command again");
    }
    IMPRINT_RETURN_IF_ERROR(ctx.Audit("admin", "allowance.renewed",
                                      {{"allowance", f.id},
                                       {"order", order_id},
                                       {"station", station},
                                       {"serial", out.serial_hex},
                                       {"replaces", old_serial}}));
    // As a revocation does: the OCSP responder reads its issuers and cached answers again.
    return MarkCrlStale(ctx.db());
  }));
  out.renewed_now = true;
  IMPRINT_RETURN_IF_ERROR(WriteChain(config, out, certs.root.get()));
  return out;
}

}  // namespace imprint::ca
