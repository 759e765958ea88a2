#include "ca/attestation/tpm_attestation.h"

#include <openssl/crypto.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <filesystem>

#include "common/file_util.h"
#include "common/tpm/credential.h"
#include "common/tpm/structures.h"
#include "common/x509/encoding.h"
#include "common/x509/openssl_error.h"

namespace imprint::ca {
namespace {

constexpr size_t kSecretBytes = 32;
constexpr size_t kNonceBytes = 32;
constexpr TPMA_OBJECT kMadeInTpm =
    TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN;

auto Refused(const std::string& why) { return Fail(Code::kInvalidArgument, why); }

std::string NameLine(const X509_NAME* name) {
  x509::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return "?";
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

bool Equal(ByteView a, ByteView b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// The first directoryName in the certificate's subjectAltName, DER; empty without one.
Bytes SanDirectoryName(X509* cert) {
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  Bytes out;
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != GEN_DIRNAME) continue;
    unsigned char* der = nullptr;
    int len = i2d_X509_NAME(name->d.directoryName, &der);
    if (len > 0) out.assign(der, der + len);
    OPENSSL_free(der);
    break;
  }
  GENERAL_NAMES_free(names);
  x509::ClearOpenSslErrors();
  return out;
}

std::string Key(const std::string& station, const std::string& device_id) {
  return station + "\n" + device_id;
}

}  // namespace

Result<std::unique_ptr<TpmAttestation>> TpmAttestation::Load(const std::string& dir,
                                                             Random random) {
  std::unique_ptr<TpmAttestation> t(new TpmAttestation());
  t->random_ = std::move(random);
  t->roots_.reset(X509_STORE_new());
  if (!t->roots_) return std::unexpected(x509::OpenSslError(Code::kInternal, "X509_STORE_new"));
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return Fail(Code::kInvalidArgument, "attestation.tpm_roots: cannot read " + dir);
  std::vector<std::filesystem::path> files;
  for (const auto& entry : it) {
    if (entry.path().extension() == ".pem") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    IMPRINT_ASSIGN_OR_RETURN(std::string pem, ReadWholeFile(path.string(), 1 << 20));
    auto certs = x509::ParseCertificatesPem(pem);
    if (!certs || certs->empty()) {
      return Fail(Code::kInvalidArgument,
                  "attestation.tpm_roots: " + path.string() + " holds no certificate");
    }
    for (auto& cert : *certs) {
      bool self_signed = X509_check_issued(cert.get(), cert.get()) == X509_V_OK;
      if (self_signed) {
        if (X509_STORE_add_cert(t->roots_.get(), cert.get()) != 1) {
          return std::unexpected(x509::OpenSslError(Code::kInternal, "X509_STORE_add_cert"));
        }
        ++t->root_count_;
      } else {
        t->intermediates_.push_back(std::move(cert));
      }
    }
  }
  if (t->root_count_ == 0) {
    return Fail(Code::kInvalidArgument,
                "attestation.tpm_roots: no self-signed TPM maker root in " + dir);
  }
  return t;
}

Result<std::string> TpmAttestation::VerifyEk(X509* ek) const {
  x509::X509StackPtr untrusted(sk_X509_new_null());
  x509::StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!untrusted || !ctx) return std::unexpected(x509::OpenSslError(Code::kInternal, "X509"));
  for (const auto& cert : intermediates_) {
    if (sk_X509_push(untrusted.get(), cert.get()) <= 0) {  // borrowed
      return std::unexpected(x509::OpenSslError(Code::kInternal, "sk_X509_push"));
    }
  }
  if (X509_STORE_CTX_init(ctx.get(), roots_.get(), ek, untrusted.get()) != 1) {
    return std::unexpected(x509::OpenSslError(Code::kInternal, "X509_STORE_CTX_init"));
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    x509::ClearOpenSslErrors();
    return Refused(std::string("EK certificate does not chain to a TPM maker root in "
                               "attestation.tpm_roots: ") +
                   X509_verify_cert_error_string(err));
  }
  return NameLine(X509_get_issuer_name(ek));
}

Result<TpmChallenge> TpmAttestation::Begin(const std::string& station, const std::string& device_id,
                                           ByteView ek_certificate_der, ByteView ak_public) {
  auto ek = x509::ParseCertificateDer(ek_certificate_der);
  if (!ek) return Refused("EK certificate does not decode");
  IMPRINT_ASSIGN_OR_RETURN(std::string ek_issuer, VerifyEk(ek->get()));
  EVP_PKEY* ek_key = X509_get0_pubkey(ek->get());
  if (ek_key == nullptr) return Refused("EK certificate's key does not decode");

  auto ak = tpm::ParsePublic(ak_public);
  if (!ak) return Refused("AK: " + ak.error().message());
  TPMA_OBJECT attributes = ak->area.objectAttributes;
  if ((attributes & kMadeInTpm) != kMadeInTpm || (attributes & TPMA_OBJECT_RESTRICTED) == 0 ||
      (attributes & TPMA_OBJECT_SIGN_ENCRYPT) == 0 || (attributes & TPMA_OBJECT_DECRYPT) != 0) {
    return Refused("AK is not a restricted signing key made in a TPM (attributes " +
                   tpm::AttributeNames(attributes) + ")");
  }
  if (!tpm::PublicKey(ak->area)) return Refused("AK is neither ECC P-256 nor RSA 2048+");

  IMPRINT_ASSIGN_OR_RETURN(Bytes secret, random_(kSecretBytes));
  IMPRINT_ASSIGN_OR_RETURN(Bytes seed, random_(32));
  IMPRINT_ASSIGN_OR_RETURN(Bytes nonce, random_(kNonceBytes));
  auto credential = tpm::MakeCredential(ek_key, ak->name, secret, seed);
  OPENSSL_cleanse(seed.data(), seed.size());
  if (!credential) return Refused(credential.error().message());

  Pending pending;
  pending.station = station;
  pending.ek_sha256 = x509::Sha256(ek_certificate_der);
  pending.ek_issuer = std::move(ek_issuer);
  pending.tpm_name_der = SanDirectoryName(ek->get());
  pending.ak_public.assign(ak_public.begin(), ak_public.end());
  pending.secret = std::move(secret);
  pending.nonce = nonce;
  pending.expires = std::chrono::steady_clock::now() + kChallengeLifetime;
  {
    std::lock_guard lock(mu_);
    std::string key = Key(station, device_id);
    auto now = std::chrono::steady_clock::now();
    if (pending_.size() >= kMaxPending) {
      std::erase_if(pending_, [&](const auto& p) { return p.second.expires < now; });
    }
    size_t own = 0;
    for (const auto& [k, p] : pending_) own += p.station == station && k != key ? 1 : 0;
    if (own >= kMaxPendingPerStation) {
      std::erase_if(pending_, [&](const auto& p) { return p.second.expires < now; });
      own = 0;
      for (const auto& [k, p] : pending_) own += p.station == station && k != key ? 1 : 0;
    }
    if (pending_.size() >= kMaxPending || own >= kMaxPendingPerStation) {
      return Fail(Code::kResourceExhausted, "too many key attestations in progress, retry");
    }
    pending_[key] = std::move(pending);
  }
  return TpmChallenge{std::move(credential->credential_blob),
                      std::move(credential->encrypted_secret), std::move(nonce)};
}

Result<AttestedKey> TpmAttestation::Check(const std::string& station, const std::string& device_id,
                                          const TpmEvidence& e, EVP_PKEY* csr_key) {
  // The evidence's digest: a retried call sends the same bytes.
  Bytes parts;
  for (const Bytes* part : {&e.ek_certificate_der, &e.ak_public, &e.key_public, &e.certify_info,
                            &e.certify_signature, &e.activated_secret}) {
    Bytes h = x509::Sha256(*part);
    parts.insert(parts.end(), h.begin(), h.end());
  }
  Bytes digest = x509::Sha256(parts);
  Pending p;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(Key(station, device_id));
    if (it == pending_.end()) {
      return Refused(
          "no key attestation in progress for this device (BeginKeyAttestation first, within "
          "5 minutes, on the same CA node)");
    }
    if (std::chrono::steady_clock::now() > it->second.expires) {
      pending_.erase(it);
      return Refused("the key attestation challenge expired");
    }
    if (it->second.verdict) {
      if (Equal(it->second.used_with, digest)) return *it->second.verdict;
      return Refused("the key attestation challenge was used already (a challenge is used once)");
    }
    p = it->second;
  }
  Result<AttestedKey> verdict = CheckEvidence(p, e, csr_key);
  std::lock_guard lock(mu_);
  auto it = pending_.find(Key(station, device_id));
  if (it != pending_.end() && it->second.nonce == p.nonce) {
    it->second.used_with = std::move(digest);
    it->second.verdict = verdict;
  }
  return verdict;
}

Result<AttestedKey> TpmAttestation::CheckEvidence(const Pending& p, const TpmEvidence& e,
                                                  EVP_PKEY* csr_key) {
  if (!Equal(x509::Sha256(e.ek_certificate_der), p.ek_sha256) || !Equal(e.ak_public, p.ak_public)) {
    return Refused("the evidence names another EK or AK than the challenge was made for");
  }
  if (!Equal(e.activated_secret, p.secret)) {
    return Refused("credential activation failed: the AK is not in the TPM of that EK");
  }
  IMPRINT_ASSIGN_OR_RETURN(auto ak, tpm::ParsePublic(e.ak_public));
  IMPRINT_ASSIGN_OR_RETURN(x509::PkeyPtr ak_key, tpm::PublicKey(ak.area));
  if (!tpm::VerifySignature(ak_key.get(), e.certify_info, e.certify_signature)) {
    return Refused("the certify structure's signature does not verify with the AK");
  }
  auto attest = tpm::ParseAttest(e.certify_info);
  if (!attest) return Refused("the certify structure does not decode");
  if (attest->magic != TPM2_GENERATED_VALUE || attest->type != TPM2_ST_ATTEST_CERTIFY) {
    return Refused("the AK signed something other than a TPM2_Certify");
  }
  if (!Equal(ByteView(attest->extraData.buffer, attest->extraData.size), p.nonce)) {
    return Refused("the certify nonce is not this challenge's (replayed or stale)");
  }
  auto key = tpm::ParsePublic(e.key_public);
  if (!key) return Refused("device key public area: " + key.error().message());
  const TPM2B_NAME& certified = attest->attested.certify.name;
  if (!Equal(ByteView(certified.name, certified.size), key->name)) {
    return Refused("the certify is over another key than the device key");
  }
  TPMA_OBJECT attributes = key->area.objectAttributes;
  if ((attributes & kMadeInTpm) != kMadeInTpm) {
    return Refused("the device key was not made in the TPM (attributes " +
                   tpm::AttributeNames(attributes) +
                   "; fixedTPM, fixedParent and sensitiveDataOrigin are required)");
  }
  if ((attributes & TPMA_OBJECT_DECRYPT) != 0 || (attributes & TPMA_OBJECT_SIGN_ENCRYPT) == 0) {
    return Refused("the device key is not a signing-only key (attributes " +
                   tpm::AttributeNames(attributes) + ")");
  }
  auto key_public = tpm::PublicKey(key->area);
  if (!key_public || EVP_PKEY_eq(key_public->get(), csr_key) != 1) {
    return Refused("the certified TPM key is not the CSR's key");
  }
  // The EK certificate is the one Begin checked (same SHA-256): what was read from it then.
  AttestedKey out;
  out.ek_sha256 = p.ek_sha256;
  out.ek_issuer = p.ek_issuer;
  out.ak_name = std::move(ak.name);
  out.certify_sha256 = x509::Sha256(e.certify_info);
  out.tpm_name_der = p.tpm_name_der;
  out.evidence = e;
  return out;
}

}  // namespace imprint::ca
