#include <openssl/crypto.h>

#include <chrono>

#include "ca/allowance/desk.h"
#include "ca/allowance/secret_transport.h"
#include "common/base64.h"
#include "common/jose/jws.h"
#include "common/log.h"
#include "common/offline/signed_allowance.h"
#include "common/utc_time.h"
#include "common/x509/certificate_builder.h"
#include "common/x509/csr.h"
#include "common/x509/encoding.h"

namespace imprint::ca {
namespace {

// A station's live allowance for an order, with what an earlier fetch stored.
struct LiveAllowance {
  Allowance allowance;
  bool order_open = false;
  std::optional<Bytes> subordinate_der;
  Bytes subordinate_spki_sha256;
  std::string signed_allowance;
};

Result<std::optional<LiveAllowance>> ReadLive(sql::Database& db, const std::string& order_id,
                                              const std::string& station) {
  IMPRINT_ASSIGN_OR_RETURN(
      auto row, db.Prepare("SELECT a.id, a.count, a.granted_ms, a.not_after_ms, o.status, "
                           "a.subordinate_der, a.subordinate_spki_sha256, a.signed_allowance "
                           "FROM allowances a JOIN orders o ON o.id = a.order_id "
                           "WHERE a.order_id = ? AND a.station = ? AND a.status = 'granted'"));
  row.BindAll(order_id, station);
  IMPRINT_ASSIGN_OR_RETURN(bool found, row.Step());
  if (!found) return std::optional<LiveAllowance>();
  LiveAllowance live;
  live.allowance.id = row.ColumnText(0);
  live.allowance.order_id = order_id;
  live.allowance.station = station;
  live.allowance.count = row.ColumnInt64(1);
  live.allowance.granted_ms = row.ColumnInt64(2);
  live.allowance.not_after_ms = row.ColumnInt64(3);
  IMPRINT_ASSIGN_OR_RETURN(OrderState order, ParseOrderState(row.ColumnText(4)));
  live.order_open = order == OrderState::kOpen;
  if (!row.ColumnIsNull(5)) {
    live.subordinate_der = row.ColumnBlob(5);
    live.subordinate_spki_sha256 = row.ColumnBlob(6);
    live.signed_allowance = row.ColumnText(7);
  }
  return std::optional<LiveAllowance>(std::move(live));
}

// A key certified for another allowance is never certified again: a revoked allowance's key
// may be the reason it was revoked.
Status RefuseKeyUsedBefore(sql::Database& db, const Bytes& spki_sha256,
                           const std::string& allowance_id) {
  IMPRINT_ASSIGN_OR_RETURN(auto other, db.Prepare("SELECT id FROM allowances WHERE "
                                                  "subordinate_spki_sha256 = ? AND id <> ?"));
  other.BindAll(spki_sha256, allowance_id);
  IMPRINT_ASSIGN_OR_RETURN(bool used, other.Step());
  if (!used) return {};
  return Fail(Code::kFailedPrecondition, std::string(offline::kKeyUsedBeforeMessage) + " " +
                                             other.ColumnText(0) + "; make a new key");
}

// The refusals a fetch can meet, the same before signing and again inside the write.
Status CheckLive(const std::optional<LiveAllowance>& live, const std::string& order_id,
                 const std::string& station, int64_t now_ms, const Bytes& spki_sha256) {
  if (!live) {
    return Fail(Code::kNotFound, "station " + station + " holds no live allowance for order " +
                                     order_id + " (the brand owner grants one)");
  }
  if (!live->order_open) return Fail(Code::kFailedPrecondition, "order " + order_id + " is closed");
  if (live->allowance.not_after_ms <= now_ms) {
    return Fail(Code::kFailedPrecondition, "allowance " + live->allowance.id + " expired at " +
                                               FormatUtcTime(live->allowance.not_after_ms));
  }
  if (live->subordinate_der && (live->subordinate_spki_sha256.size() != spki_sha256.size() ||
                                CRYPTO_memcmp(live->subordinate_spki_sha256.data(),
                                              spki_sha256.data(), spki_sha256.size()) != 0)) {
    return Fail(Code::kAlreadyExists,
                "allowance " + live->allowance.id +
                    " was fetched for another key; revoke it and grant a new one to move it");
  }
  return {};
}

// The subordinate CA: path length 0, may certify (devices, and the CA's delegates for its
// devices' status), with the device profile's extended key usage only.
// The device profile and naming a station applies offline: the CA's own for "device", with the
// issuing CA's indirect CRL for their revocations (docs/offline.md).
Result<offline::OfflineProfile> OfflineProfileOf(const CaConfig& config, const X509* issuing) {
  const x509::CertificateProfile& device = config.profiles.at("device");
  offline::OfflineProfile profile{config.organization,    config.device_uri_prefix,
                                  device.key_usage,       device.extended_key_usage,
                                  config.offline_crl_url, device.ocsp_url,
                                  config.password_length};
  if (!profile.crl_url.empty()) {
    IMPRINT_ASSIGN_OR_RETURN(profile.crl_issuer,
                             x509::ToDer(i2d_X509_NAME, X509_get_subject_name(issuing)));
  }
  return profile;
}

FetchedAllowance Answer(const LiveAllowance& live, const Bytes& root_der) {
  return FetchedAllowance{live.allowance, *live.subordinate_der, root_der, live.signed_allowance};
}

}  // namespace

Result<AllowanceIssuer*> AllowanceDesk::Issuer() {
  std::lock_guard lock(issuer_mu_);
  if (!issuer_) {
    IMPRINT_ASSIGN_OR_RETURN(AllowanceIssuer issuer, LoadAllowanceIssuer(config_, hsm_, certs_));
    issuer_ = std::move(issuer);
  }
  return &*issuer_;
}

Result<p11::EcdhKey*> AllowanceDesk::SecretTransport() {
  std::lock_guard lock(transport_mu_);
  if (!transport_) {
    auto found = FindSecretTransportKey(hsm_);
    if (!found) {
      if (found.error().code() == Code::kNotFound) return static_cast<p11::EcdhKey*>(nullptr);
      return std::unexpected(found.error());
    }
    transport_ = std::move(*found);
  }
  return transport_.get();
}

Result<FetchedAllowance> AllowanceDesk::Fetch(const std::string& station,
                                              const std::string& order_id, ByteView csr_der) {
  if (!IsValidIdentifier(order_id)) return Fail(Code::kInvalidArgument, "invalid order id");
  auto csr = x509::ParseAndVerifyCsr(csr_der);
  if (!csr) return Fail(Code::kInvalidArgument, "CSR rejected: " + csr.error().message());
  Bytes spki_sha256 = x509::Sha256(csr->spki_der);

  std::optional<LiveAllowance> live;
  {
    auto db = reads_.Acquire();
    IMPRINT_ASSIGN_OR_RETURN(live, ReadLive(*db, order_id, station));
  }
  IMPRINT_RETURN_IF_ERROR(CheckLive(live, order_id, station, NowMs(), spki_sha256));
  {
    auto db = reads_.Acquire();
    IMPRINT_RETURN_IF_ERROR(RefuseKeyUsedBefore(*db, spki_sha256, live->allowance.id));
  }
  const Bytes& root_der = certs_.chain_der.back();
  if (live->subordinate_der) return Answer(*live, root_der);
  IMPRINT_ASSIGN_OR_RETURN(AllowanceIssuer * issuer, Issuer());

  // Sign outside the transaction; the write re-checks and keeps the first fetch's answer.
  x509::CertificateProfile profile = SubordinateProfile(config_);
  IMPRINT_ASSIGN_OR_RETURN(Bytes random, hsm_.Random(x509::kSerialBytes));
  x509::CertificateRequest request;
  request.profile = &profile;
  request.subject.name = {{"CN", station},
                          {"OU", order_id},
                          {"O", config_.organization},
                          {"serialNumber", live->allowance.id}};
  request.public_key = csr->public_key.get();
  request.spki_der = csr->spki_der;
  request.serial = x509::MakeSerial(random);
  request.not_after = std::chrono::system_clock::time_point(
      std::chrono::milliseconds(live->allowance.not_after_ms));
  auto der = x509::IssueCertificateDer(request, issuer->root_certificate, *issuer->root);
  if (!der) {
    if (der.error().code() == Code::kInvalidArgument) return std::unexpected(der.error());
    LogWarning("subordinate certificate signing failed: " + der.error().message());
    return Fail(Code::kUnavailable, "signing service unavailable, retry");
  }
  std::string serial = HexEncode(request.serial);
  IMPRINT_ASSIGN_OR_RETURN(Bytes signer_der,
                           x509::CertificateToDer(issuer->document_signer.certificate.get()));
  nlohmann::json x5c = nlohmann::json::array({Base64Encode(signer_der), Base64Encode(root_der)});
  jose::JwsSigner jws(*issuer->document_signer.signer,
                      {{"typ", offline::kAllowanceJwsType}, {"x5c", x5c}});
  const Allowance& a = live->allowance;
  IMPRINT_ASSIGN_OR_RETURN(offline::OfflineProfile device_profile,
                           OfflineProfileOf(config_, certs_.issuing.get()));
  offline::SignedAllowance content{a.id,    a.order_id,   a.station,
                                   a.count, a.granted_ms, a.not_after_ms,
                                   serial,  spki_sha256,  std::move(device_profile)};
  IMPRINT_ASSIGN_OR_RETURN(p11::EcdhKey * transport, SecretTransport());
  if (transport != nullptr) {
    IMPRINT_ASSIGN_OR_RETURN(content.secret_key_spki,
                             x509::PublicKeyToDer(transport->public_key()));
  }
  IMPRINT_ASSIGN_OR_RETURN(nlohmann::json token, jws.Sign(offline::AllowancePayload(content)));

  LiveAllowance stored;
  IMPRINT_RETURN_IF_ERROR(writer_.Submit([&](WriteContext& ctx) -> Status {
    IMPRINT_ASSIGN_OR_RETURN(auto now_live, ReadLive(ctx.db(), order_id, station));
    IMPRINT_RETURN_IF_ERROR(CheckLive(now_live, order_id, station, ctx.now_ms(), spki_sha256));
    if (now_live->allowance.id != live->allowance.id) {
      return Fail(Code::kAborted, "the allowance changed while it was fetched; fetch again");
    }
    stored = std::move(*now_live);
    if (stored.subordinate_der) return {};  // a concurrent fetch with this key came first
    IMPRINT_RETURN_IF_ERROR(RefuseKeyUsedBefore(ctx.db(), spki_sha256, stored.allowance.id));
    IMPRINT_ASSIGN_OR_RETURN(
        auto update,
        ctx.db().Prepare("UPDATE allowances SET subordinate_der = ?, subordinate_serial = ?, "
                         "subordinate_spki_sha256 = ?, signed_allowance = ?, fetched_ms = ? "
                         "WHERE id = ? AND subordinate_der IS NULL"));
    stored.subordinate_der = std::move(*der);
    stored.subordinate_spki_sha256 = spki_sha256;
    stored.signed_allowance = token.dump();
    update.BindAll(*stored.subordinate_der, serial, spki_sha256, stored.signed_allowance,
                   ctx.now_ms(), stored.allowance.id);
    IMPRINT_RETURN_IF_ERROR(update.Run());
    IMPRINT_RETURN_IF_ERROR(ctx.Audit("station:" + station, "allowance.fetched",
                                      {{"allowance", stored.allowance.id},
                                       {"order", order_id},
                                       {"station", station},
                                       {"subordinate_serial", serial},
                                       {"subordinate_spki_sha256", HexEncode(spki_sha256)}}));
    return {};
  }));
  return Answer(stored, root_der);
}

}  // namespace imprint::ca
