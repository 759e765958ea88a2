#include "ca/authority.h"

#include <openssl/sha.h>

#include "common/x509/chain.h"
#include "common/x509/certificate_builder.h"
#include "common/x509/encoding.h"
#include "common/log.h"

namespace imprint::ca {

Authority::Authority(const CaConfig& config, CaHsm& hsm, const CaCertificates& certs,
                     sql::ConnectionPool& reads, Writer& writer)
    : config_(config), hsm_(hsm), certs_(certs), reads_(reads), writer_(writer) {}

Result<Authority::Signed> Authority::Sign(const x509::CertificateProfile& profile,
                                          std::vector<std::pair<std::string, std::string>> subject,
                                          std::vector<std::string> san_uris,
                                          const x509::VerifiedCsr& csr) {
  auto random = hsm_.Random(x509::kSerialBytes);
  if (!random) {
    LogWarning("HSM random generator failed: " + random.error().message());
    return Fail(Code::kUnavailable, "signing service unavailable, retry");
  }
  x509::CertificateRequest request;
  request.profile = &profile;
  request.subject.name = std::move(subject);
  request.subject.san_uris = std::move(san_uris);
  request.public_key = csr.public_key.get();
  request.spki_der = csr.spki_der;
  request.serial = x509::MakeSerial(*random);
  auto der = x509::IssueCertificateDer(request, certs_.issuing.get(), hsm_.issuing());
  if (!der) {
    if (der.error().code() == Code::kInvalidArgument) return std::unexpected(der.error());
    // HSM trouble is the caller's to retry; the detail (CK_RV) stays in our log.
    LogWarning("certificate signing failed: " + der.error().message());
    return Fail(Code::kUnavailable, "signing service unavailable, retry");
  }
  // The serial is positive with its top bit clear, so its INTEGER octets are these 16 bytes.
  return Signed{std::move(*der), HexEncode(request.serial)};
}

Status Authority::AuditFailure(const std::string& actor, const std::string& event,
                               nlohmann::json detail, const Error& error) {
  detail["code"] = std::string(CodeName(error.code()));
  detail["reason"] = error.message();
  return writer_.Submit([&](WriteContext& ctx) -> Status {
    IMPRINT_RETURN_IF_ERROR(ctx.Audit(actor, event, detail));
    return {};
  });
}

Result<std::string> Authority::AuthenticateStation(const Result<std::string>& peer_pem) {
  auto deny = [&](const std::string& why, const std::string& fingerprint) -> Result<std::string> {
    Error e(Code::kUnauthenticated, why);
    (void)AuditFailure("unauthenticated", "auth.failed", {{"cert_sha256", fingerprint}}, e);
    return std::unexpected(e);
  };
  if (!peer_pem) return deny("client certificate required", "");
  Bytes digest(SHA256_DIGEST_LENGTH);
  SHA256(reinterpret_cast<const uint8_t*>(peer_pem->data()), peer_pem->size(), digest.data());
  std::string fingerprint = HexEncode(digest);

  std::string serial;
  {
    std::lock_guard lock(peer_mu_);
    if (auto it = verified_peers_.find(fingerprint); it != verified_peers_.end()) {
      serial = it->second;
    }
  }
  if (serial.empty()) {
    auto cert = x509::ParseCertificatePem(*peer_pem);
    if (!cert) return deny("client certificate unreadable", fingerprint);
    std::vector<X509*> intermediates{certs_.issuing.get()};
    if (!x509::VerifyChain(cert->get(), intermediates, certs_.root.get())) {
      return deny("client certificate not issued by this CA", fingerprint);
    }
    IMPRINT_ASSIGN_OR_RETURN(serial, x509::SerialHex(cert->get()));
    std::lock_guard lock(peer_mu_);
    if (verified_peers_.size() > 10000) verified_peers_.clear();
    verified_peers_[fingerprint] = serial;
  }
  auto db = reads_.Acquire();
  IMPRINT_ASSIGN_OR_RETURN(auto stmt,
                           db->Prepare("SELECT name, status FROM stations WHERE cert_serial = ?"));
  stmt.BindAll(serial);
  IMPRINT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return deny("client certificate is not a station certificate", fingerprint);
  if (stmt.ColumnText(1) != "active") return deny("station certificate revoked", fingerprint);
  return stmt.ColumnText(0);
}

}  // namespace imprint::ca
