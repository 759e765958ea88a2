#include "ca/hsm.h"

#include <openssl/crypto.h>

#include "common/pkcs11/objects.h"
#include "common/pkcs11/random.h"

namespace imprint::ca {

Result<std::unique_ptr<CaHsm>> CaHsm::Open(const CaConfig& config) {
  std::unique_ptr<CaHsm> hsm(new CaHsm());
  IMPRINT_ASSIGN_OR_RETURN(p11::Uri uri, p11::Uri::Parse(config.token_uri));
  IMPRINT_ASSIGN_OR_RETURN(hsm->module_, p11::Module::Load(config.module));
  IMPRINT_ASSIGN_OR_RETURN(CK_SLOT_ID slot, hsm->module_->FindTokenSlot(uri));
  IMPRINT_ASSIGN_OR_RETURN(Secret pin, config.ReadPin());
  IMPRINT_ASSIGN_OR_RETURN(hsm->pool_,
                           p11::SessionPool::Open(hsm->module_, slot, std::move(pin),
                                                  static_cast<size_t>(config.sessions)));
  return hsm;
}

Status CaHsm::LoadKeys(bool need_root) {
  auto ref = [](const char* label) { return p11::ObjectRef{label, std::nullopt}; };
  {
    // Refuse to work with a key that is, or ever was, extractable: the CA's promise is that
    // its keys never leave the token.
    IMPRINT_ASSIGN_OR_RETURN(auto lease, pool_->Acquire());
    for (const char* label : {kIssuingKeyLabel, kAuditKeyLabel}) {
      IMPRINT_RETURN_IF_ERROR(p11::RequireKeyStaysInToken(lease, CKO_PRIVATE_KEY, ref(label)));
    }
    if (need_root) {
      IMPRINT_RETURN_IF_ERROR(
          p11::RequireKeyStaysInToken(lease, CKO_PRIVATE_KEY, ref(kRootKeyLabel)));
    }
    IMPRINT_RETURN_IF_ERROR(
        p11::RequireKeyStaysInToken(lease, CKO_SECRET_KEY, ref(kVerifierKeyLabel)));
  }
  IMPRINT_ASSIGN_OR_RETURN(issuing_, p11::Pkcs11Signer::Create(*pool_, ref(kIssuingKeyLabel)));
  IMPRINT_ASSIGN_OR_RETURN(audit_, p11::Pkcs11Signer::Create(*pool_, ref(kAuditKeyLabel)));
  IMPRINT_ASSIGN_OR_RETURN(verifier_, p11::HmacKey::Find(*pool_, ref(kVerifierKeyLabel)));
  if (need_root) {
    IMPRINT_ASSIGN_OR_RETURN(root_, p11::Pkcs11Signer::Create(*pool_, ref(kRootKeyLabel)));
  }
  return {};
}

Result<Bytes> CaHsm::SecretRandom(size_t count) { return p11::GenerateRandom(*pool_, count); }

Result<Bytes> CaHsm::Random(size_t count) {
  constexpr size_t kBlock = 4096;
  if (count > kBlock) return p11::GenerateRandom(*pool_, count);
  std::lock_guard lock(random_mu_);
  if (random_.size() < count) {
    IMPRINT_ASSIGN_OR_RETURN(Bytes block, p11::GenerateRandom(*pool_, kBlock));
    OPENSSL_cleanse(random_.data(), random_.size());
    random_ = std::move(block);
  }
  Bytes out(random_.end() - static_cast<long>(count), random_.end());
  OPENSSL_cleanse(random_.data() + random_.size() - count, count);
  random_.resize(random_.size() - count);
  return out;
}

}  // namespace imprint::ca
