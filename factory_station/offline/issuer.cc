#include "factory_station/offline/issuer.h"

#include "common/file_util.h"
#include "common/offline/sealed_secret.h"
#include "common/password.h"
#include "common/pkcs11/objects.h"
#include "common/pkcs11/random.h"
#include "common/utc_time.h"
#include "common/x509/chain.h"
#include "common/x509/csr.h"
#include "common/x509/device_subject.h"
#include "common/x509/encoding.h"
#include "factory_station/offline/standing.h"

namespace imprint::station {

Result<std::unique_ptr<OfflineIssuer>> OfflineIssuer::Open(const std::string& state_dir,
                                                           const std::string& order, X509* root) {
  std::string offline_dir = state_dir + "/offline";
  auto current = ReadWholeFile(offline_dir + "/" + order + ".current");
  if (!current) {
    return Fail(Code::kFailedPrecondition,
                "no allowance for order " + order +
                    " at this station (imprint-station allowance fetch, while the CA is in reach)");
  }
  std::string dir = offline_dir + "/" + *current;
  if (IsMarkedRevoked(dir)) {
    return Fail(Code::kFailedPrecondition,
                "allowance " + *current + " for order " + order +
                    " was revoked by the brand owner: nothing more is issued under it");
  }
  std::unique_ptr<OfflineIssuer> issuer(new OfflineIssuer());
  IMPRINT_ASSIGN_OR_RETURN(std::string jws, ReadWholeFile(dir + "/allowance.jws"));
  IMPRINT_ASSIGN_OR_RETURN(issuer->allowance_, offline::VerifySignedAllowance(jws, root));
  const offline::SignedAllowance& a = issuer->allowance_;
  if (a.order != order || a.id != *current) {
    return Fail(Code::kDataLoss, dir + " holds an allowance for another order or id");
  }
  if (a.not_after_ms <= NowMs()) {
    return Fail(Code::kFailedPrecondition,
                "the allowance for order " + order + " ended at " + FormatUtcTime(a.not_after_ms));
  }
  IMPRINT_ASSIGN_OR_RETURN(std::string chain_pem, ReadWholeFile(dir + "/subordinate.pem"));
  IMPRINT_ASSIGN_OR_RETURN(auto chain, x509::ParseCertificatesPem(chain_pem));
  if (chain.empty()) return Fail(Code::kDataLoss, dir + "/subordinate.pem holds no certificate");
  issuer->subordinate_ = std::move(chain.front());
  IMPRINT_RETURN_IF_ERROR(x509::VerifyChain(issuer->subordinate_.get(), {}, root));
  IMPRINT_ASSIGN_OR_RETURN(Bytes sub_der, x509::CertificateToDer(issuer->subordinate_.get()));
  IMPRINT_ASSIGN_OR_RETURN(Bytes root_der, x509::CertificateToDer(root));
  issuer->chain_der_ = {sub_der, root_der};

  IMPRINT_ASSIGN_OR_RETURN(TokenConfig config, LoadTokenConfig(state_dir));
  IMPRINT_ASSIGN_OR_RETURN(issuer->token_, StationToken::Open(config));
  IMPRINT_ASSIGN_OR_RETURN(std::string label, ReadWholeFile(dir + "/key-label"));
  p11::ObjectRef ref{label, std::nullopt};
  {
    IMPRINT_ASSIGN_OR_RETURN(auto lease, issuer->token_->pool().Acquire());
    IMPRINT_RETURN_IF_ERROR(p11::RequireKeyStaysInToken(lease, CKO_PRIVATE_KEY, ref));
  }
  IMPRINT_ASSIGN_OR_RETURN(issuer->key_, p11::Pkcs11Signer::Create(issuer->token_->pool(), ref));
  if (EVP_PKEY_eq(issuer->key_->public_key(), X509_get0_pubkey(issuer->subordinate_.get())) != 1) {
    return Fail(Code::kFailedPrecondition,
                "the token's key " + label + " is not the subordinate certificate's key");
  }
  issuer->profile_.key_usage = a.profile.key_usage;
  issuer->profile_.extended_key_usage = a.profile.extended_key_usage;
  issuer->profile_.crl_url = a.profile.crl_url;
  issuer->profile_.crl_issuer_der = a.profile.crl_issuer;
  issuer->profile_.ocsp_url = a.profile.ocsp_url;
  issuer->profile_.lifetime = std::nullopt;
  IMPRINT_ASSIGN_OR_RETURN(issuer->log_, OfflineLog::Open(dir + "/log.db", a.id, *issuer->key_));
  if (!a.secret_key_spki.empty()) {
    IMPRINT_ASSIGN_OR_RETURN(auto secret_key, x509::ParsePublicKeyDer(a.secret_key_spki));
    IMPRINT_ASSIGN_OR_RETURN(issuer->sealer_, offline::Sealer::For(secret_key.get()));
  }
  return issuer;
}

Status OfflineIssuer::KeepPassword(const std::string& device, const Secret& password) {
  if (!sealer_) return {};
  offline::SealedFor binding{allowance_.id, device, "default_password"};
  IMPRINT_ASSIGN_OR_RETURN(Bytes sealed, sealer_->Seal(binding, password.Reveal()));
  IMPRINT_ASSIGN_OR_RETURN(Bytes signature,
                           key_->Sign(offline::SealedSecretMessage(binding, sealed)));
  return log_->RecordSealedPassword(device, sealed, signature);
}

Result<Secret> OfflineIssuer::DrawPassword() {
  // Never pooled: each password's randomness comes straight from the token.
  return imprint::DrawPassword([this](size_t n) { return p11::GenerateRandom(token_->pool(), n); },
                               allowance_.profile.password_length);
}

Result<int64_t> OfflineIssuer::Remaining() {
  IMPRINT_ASSIGN_OR_RETURN(int64_t used, log_->Count());
  return allowance_.count - used;
}

Result<OfflineCertificate> OfflineIssuer::Entry(const offline::LogEntry& entry, bool again) const {
  return OfflineCertificate{entry.certificate_der, entry.serial_hex, entry.challenge, chain_der_,
                            again};
}

Result<OfflineCertificate> OfflineIssuer::Issue(const std::string& device, ByteView csr_der) {
  auto csr = x509::ParseAndVerifyCsr(csr_der);
  if (!csr) return Fail(Code::kInvalidArgument, "CSR rejected: " + csr.error().message());
  IMPRINT_ASSIGN_OR_RETURN(auto logged, log_->Find(device));
  if (logged) {
    IMPRINT_ASSIGN_OR_RETURN(auto cert, x509::ParseCertificateDer(logged->certificate_der));
    if (EVP_PKEY_eq(X509_get0_pubkey(cert.get()), csr->public_key.get()) != 1) {
      return Fail(Code::kAlreadyExists, "device " + device + " was issued offline for another key");
    }
    return Entry(*logged, true);
  }
  int64_t now_ms = NowMs();
  if (allowance_.not_after_ms <= now_ms) {
    return Fail(Code::kFailedPrecondition, "the allowance ended at " +
                                               FormatUtcTime(allowance_.not_after_ms) +
                                               "; no more certificates offline");
  }
  IMPRINT_ASSIGN_OR_RETURN(int64_t remaining, Remaining());
  if (remaining <= 0) {
    return Fail(Code::kResourceExhausted,
                "the allowance is used up: " + std::to_string(allowance_.count) + " of " +
                    std::to_string(allowance_.count) + " certificates issued");
  }
  IMPRINT_ASSIGN_OR_RETURN(Bytes random, p11::GenerateRandom(token_->pool(), 16 + 32));
  x509::CertificateRequest request;
  request.profile = &profile_;
  request.subject.name = x509::DeviceSubjectName(device, allowance_.profile.organization);
  request.subject.san_uris = {allowance_.profile.device_uri_prefix + device};
  request.public_key = csr->public_key.get();
  request.spki_der = csr->spki_der;
  request.serial = x509::MakeSerial(ByteView(random).first(16));
  offline::LogEntry entry;
  entry.device = device;
  entry.serial_hex = HexEncode(request.serial);
  entry.challenge.assign(random.begin() + 16, random.end());
  entry.issued_ms = now_ms;
  IMPRINT_ASSIGN_OR_RETURN(entry.certificate_der,
                           x509::IssueCertificateDer(request, subordinate_.get(), *key_));
  // The log is the gate: a certificate it refuses (past the count, a racing run for the same
  // device) never leaves this process.
  IMPRINT_ASSIGN_OR_RETURN(offline::LogEntry appended,
                           log_->Append(std::move(entry), allowance_.count));
  return Entry(appended, false);
}

}  // namespace imprint::station
