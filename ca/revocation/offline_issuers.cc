#include "ca/revocation/offline_issuers.h"

#include "common/x509/encoding.h"

namespace imprint::ca {

std::shared_ptr<const OfflineIssuer> OfflineIssuers::Known(const x509::OcspCertId& id) {
  std::lock_guard lock(mu_);
  for (const auto& issuer : issuers_) {
    if (x509::SameIssuer(id, issuer->hashes)) return issuer;
  }
  return nullptr;
}

Status OfflineIssuers::Reload() {
  auto db = reads_.Acquire();
  IMPRINT_ASSIGN_OR_RETURN(
      auto count,
      db->Prepare("SELECT COUNT(ocsp_delegate_der) + COUNT(renewed_der) FROM allowances"));
  IMPRINT_ASSIGN_OR_RETURN(bool counted, count.Step());
  int64_t stored = counted ? count.ColumnInt64(0) : 0;
  {
    std::lock_guard lock(mu_);
    if (stored == loaded_) return {};
  }
  IMPRINT_ASSIGN_OR_RETURN(auto rows, db->Prepare("SELECT id, subordinate_der, ocsp_delegate_der, "
                                                  "renewed_der FROM allowances WHERE "
                                                  "ocsp_delegate_der IS NOT NULL"));
  std::vector<std::shared_ptr<const OfflineIssuer>> read;
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, rows.Step());
    if (!row) break;
    auto issuer = std::make_shared<OfflineIssuer>();
    issuer->allowance_id = rows.ColumnText(0);
    issuer->subordinate_der = rows.ColumnBlob(1);
    issuer->delegate_der = rows.ColumnBlob(2);
    if (!rows.ColumnIsNull(3)) issuer->renewed_der = rows.ColumnBlob(3);
    IMPRINT_ASSIGN_OR_RETURN(auto subordinate, x509::ParseCertificateDer(issuer->subordinate_der));
    issuer->hashes = x509::HashIssuer(subordinate.get());
    read.push_back(std::move(issuer));
  }
  std::lock_guard lock(mu_);
  issuers_ = std::move(read);
  loaded_ = stored;
  return {};
}

Result<std::shared_ptr<const OfflineIssuer>> OfflineIssuers::Find(const x509::OcspCertId& id) {
  IMPRINT_RETURN_IF_ERROR(Reload());
  return Known(id);
}

}  // namespace imprint::ca
