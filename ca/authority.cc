#include "ca/authority.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <ctime>

#include "ca/states.h"
#include "common/log.h"
#include "common/x509/certificate_builder.h"
#include "common/x509/chain.h"
#include "common/x509/encoding.h"

namespace imprint::ca {

Authority::Authority(const CaConfig& config, CaHsm& hsm, const CaCertificates& certs,
                     sql::ConnectionPool& reads, Writer& writer)
    : config_(config),
      hsm_(hsm),
      certs_(certs),
      reads_(reads),
      writer_(writer),
      auth_failures_([&writer](const WriteOp& op) { return writer.Submit(op); }),
      matter_pais_(hsm) {}

Result<Authority::Signed> Authority::Sign(const x509::CertificateProfile& profile,
                                          std::vector<std::pair<std::string, std::string>> subject,
                                          std::vector<std::string> san_uris,
                                          const x509::VerifiedCsr& csr, const X509* issuer,
                                          x509::Signer* signer,
                                          std::vector<Bytes> san_directory_names) {
  auto random = hsm_.Random(x509::kSerialBytes);
  if (!random) {
    LogWarning("HSM random generator failed: " + random.error().message());
    return Fail(Code::kUnavailable, "signing service unavailable, retry");
  }
  x509::CertificateRequest request;
  request.profile = &profile;
  request.subject.name = std::move(subject);
  request.subject.san_uris = std::move(san_uris);
  request.subject.san_directory_names = std::move(san_directory_names);
  request.public_key = csr.public_key.get();
  request.spki_der = csr.spki_der;
  request.serial = x509::MakeSerial(*random);
  auto began = std::chrono::steady_clock::now();
  auto der = x509::IssueCertificateDer(request, issuer ? issuer : certs_.issuing.get(),
                                       signer ? *signer : hsm_.issuing());
  if (metrics_) {
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - began;
    metrics_->HsmSign(took.count(), der || der.error().code() == Code::kInvalidArgument);
  }
  if (!der) {
    if (der.error().code() == Code::kInvalidArgument) return std::unexpected(der.error());
    // HSM trouble is the caller's to retry; the detail (CK_RV) stays in our log.
    LogWarning("certificate signing failed: " + der.error().message());
    return Fail(Code::kUnavailable, "signing service unavailable, retry");
  }
  // The serial is positive with its top bit clear, so its INTEGER octets are these 16 bytes.
  return Signed{std::move(*der), HexEncode(request.serial)};
}

Result<std::string> Authority::AuthenticateStation(const Result<std::string>& peer_pem,
                                                   const std::string& source) {
  IMPRINT_ASSIGN_OR_RETURN(StationPeer peer, AuthenticateStationPeer(peer_pem, source));
  return std::move(peer.name);
}

Result<StationPeer> Authority::AuthenticateStationPeer(const Result<std::string>& peer_pem,
                                                       const std::string& source) {
  // Every refusal here is counted, not audited one by one (AuthFailures): a peer without
  // credentials must not be able to make the CA write to disk.
  auto deny = [&](const std::string& why) -> Result<StationPeer> {
    auth_failures_.Record(source, why);
    return Fail(Code::kUnauthenticated, why);
  };
  if (!peer_pem) return deny("client certificate required");
  Bytes digest(SHA256_DIGEST_LENGTH);
  SHA256(reinterpret_cast<const uint8_t*>(peer_pem->data()), peer_pem->size(), digest.data());
  std::string fingerprint = HexEncode(digest);

  // The chain check is cached per certificate; validity, the key and the station's status are
  // checked on every call, so an expired or revoked station is refused at its next call.
  std::optional<VerifiedPeer> peer;
  {
    std::lock_guard lock(peer_mu_);
    if (auto it = verified_peers_.find(fingerprint); it != verified_peers_.end()) peer = it->second;
  }
  if (!peer) {
    auto cert = x509::ParseCertificatePem(*peer_pem);
    if (!cert) return deny("client certificate unreadable");
    std::vector<X509*> intermediates{certs_.issuing.get()};
    if (!x509::VerifyChain(cert->get(), intermediates, certs_.root.get())) {
      return deny("client certificate not issued by this CA or not valid now");
    }
    VerifiedPeer v;
    IMPRINT_ASSIGN_OR_RETURN(v.serial, x509::SerialHex(cert->get()));
    IMPRINT_ASSIGN_OR_RETURN(v.spki_sha256, x509::SpkiSha256(X509_get0_pubkey(cert->get())));
    std::tm before{}, after{};
    if (ASN1_TIME_to_tm(X509_get0_notBefore(cert->get()), &before) != 1 ||
        ASN1_TIME_to_tm(X509_get0_notAfter(cert->get()), &after) != 1) {
      return deny("client certificate unreadable");
    }
    v.not_before = timegm(&before);
    v.not_after = timegm(&after);
    peer = v;
    std::lock_guard lock(peer_mu_);
    if (verified_peers_.size() > 10000) verified_peers_.clear();
    verified_peers_[fingerprint] = v;
  }
  std::time_t now = std::time(nullptr);
  if (now < peer->not_before || now > peer->not_after) {
    return deny("station certificate expired or not yet valid");
  }
  auto db = reads_.Acquire();
  IMPRINT_ASSIGN_OR_RETURN(auto stmt, db->Prepare("SELECT name, status, cert_spki_sha256 "
                                                  "FROM stations WHERE cert_serial = ?"));
  stmt.BindAll(peer->serial);
  IMPRINT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return deny("client certificate is not a station certificate");
  Bytes recorded = stmt.ColumnIsNull(2) ? Bytes{} : stmt.ColumnBlob(2);
  if (recorded.size() != peer->spki_sha256.size() ||
      CRYPTO_memcmp(recorded.data(), peer->spki_sha256.data(), recorded.size()) != 0) {
    return deny("client certificate key is not the station's enrolled key");
  }
  if (ParseStationState(stmt.ColumnText(1)) != StationState::kActive) {
    return deny("station certificate revoked");
  }
  return StationPeer{stmt.ColumnText(0), peer->serial, peer->not_after};
}

}  // namespace imprint::ca
