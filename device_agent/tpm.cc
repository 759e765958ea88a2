#include "device_agent/tpm.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/x509/ecdsa_signature.h"
#include "common/x509/openssl_types.h"

namespace imprint::agent {
namespace {

Error TpmError(const char* call, TSS2_RC rc) {
  return Error(Code::kFailedPrecondition, std::string("TPM ") + call + ": " + Tss2_RC_Decode(rc));
}

template <typename T>
struct EsysFree {
  void operator()(T* p) const { Esys_Free(p); }
};
template <typename T>
using EsysPtr = std::unique_ptr<T, EsysFree<T>>;

// The EK's policy (EK Credential Profile 2.0, B.3.3): PolicySecret(TPM_RH_ENDORSEMENT).
constexpr uint8_t kEkPolicy[32] = {0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc,
                                   0x8d, 0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52,
                                   0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa};

TPM2B_PUBLIC EccTemplate(TPMA_OBJECT attributes, TPM2_ALG_ID scheme) {
  TPM2B_PUBLIC t = {};
  t.publicArea.type = TPM2_ALG_ECC;
  t.publicArea.nameAlg = TPM2_ALG_SHA256;
  t.publicArea.objectAttributes = attributes;
  TPMS_ECC_PARMS& ecc = t.publicArea.parameters.eccDetail;
  ecc.symmetric.algorithm = TPM2_ALG_NULL;
  ecc.scheme.scheme = scheme;
  if (scheme == TPM2_ALG_ECDSA) ecc.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
  ecc.curveID = TPM2_ECC_NIST_P256;
  ecc.kdf.scheme = TPM2_ALG_NULL;
  return t;
}

// The storage root key (TCG's ECC P-256 SRK template), made again from the owner hierarchy's
// seed whenever it is needed: the same key every time.
TPM2B_PUBLIC SrkTemplate() {
  TPM2B_PUBLIC t = EccTemplate(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                   TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                                   TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT,
                               TPM2_ALG_NULL);
  TPMS_ECC_PARMS& ecc = t.publicArea.parameters.eccDetail;
  ecc.symmetric.algorithm = TPM2_ALG_AES;
  ecc.symmetric.keyBits.aes = 128;
  ecc.symmetric.mode.aes = TPM2_ALG_CFB;
  return t;
}

TPM2B_PUBLIC AkTemplate() {
  return EccTemplate(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                         TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                         TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT,
                     TPM2_ALG_ECDSA);
}

constexpr TPM2_HANDLE kRsaEkPersistentHandle = 0x81010001;

// EK Credential Profile template L-1: RSA 2048, AES-128-CFB, the EK policy.
TPM2B_PUBLIC EkTemplate() {
  TPM2B_PUBLIC t = {};
  t.publicArea.type = TPM2_ALG_RSA;
  t.publicArea.nameAlg = TPM2_ALG_SHA256;
  t.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                  TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |
                                  TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
  t.publicArea.authPolicy.size = sizeof(kEkPolicy);
  std::memcpy(t.publicArea.authPolicy.buffer, kEkPolicy, sizeof(kEkPolicy));
  TPMS_RSA_PARMS& rsa = t.publicArea.parameters.rsaDetail;
  rsa.symmetric.algorithm = TPM2_ALG_AES;
  rsa.symmetric.keyBits.aes = 128;
  rsa.symmetric.mode.aes = TPM2_ALG_CFB;
  rsa.scheme.scheme = TPM2_ALG_NULL;
  rsa.keyBits = 2048;
  rsa.exponent = 0;
  t.publicArea.unique.rsa.size = 256;  // zeros
  return t;
}

template <typename T, typename Marshal>
Result<Bytes> MarshalAll(const T& value, Marshal marshal) {
  Bytes out(sizeof(T) + 2);
  size_t offset = 0;
  if (marshal(&value, out.data(), out.size(), &offset) != TSS2_RC_SUCCESS) {
    return Fail(Code::kInternal, "TPM structure does not marshal");
  }
  out.resize(offset);
  return out;
}

template <typename T, typename Unmarshal>
Result<T> UnmarshalAll(ByteView bytes, Unmarshal unmarshal, const char* what) {
  T value = {};
  size_t offset = 0;
  if (bytes.empty() || unmarshal(bytes.data(), bytes.size(), &offset, &value) != TSS2_RC_SUCCESS ||
      offset != bytes.size()) {
    return Fail(Code::kInvalidArgument, std::string(what) + " does not decode");
  }
  return value;
}

// One connection to the TPM: the TCTI and the ESAPI context, and every object loaded through
// it, flushed when it closes.
class Connection {
 public:
  static Result<std::unique_ptr<Connection>> Open(const std::string& tcti_conf) {
    auto c = std::unique_ptr<Connection>(new Connection());
    TSS2_RC rc = Tss2_TctiLdr_Initialize(tcti_conf.c_str(), &c->tcti_);
    if (rc != TSS2_RC_SUCCESS) {
      return Fail(Code::kUnavailable,
                  "TPM at \"" + tcti_conf + "\" cannot be reached: " + Tss2_RC_Decode(rc));
    }
    rc = Esys_Initialize(&c->ctx_, c->tcti_, nullptr);
    if (rc != TSS2_RC_SUCCESS) return std::unexpected(TpmError("Esys_Initialize", rc));
    rc = Esys_Startup(c->ctx_, TPM2_SU_CLEAR);
    if (rc != TSS2_RC_SUCCESS && rc != TPM2_RC_INITIALIZE) {
      return std::unexpected(TpmError("Startup", rc));
    }
    return c;
  }

  ~Connection() {
    if (ctx_ != nullptr) {
      for (ESYS_TR handle : loaded_) Esys_FlushContext(ctx_, handle);
      Esys_Finalize(&ctx_);
    }
    if (tcti_ != nullptr) Tss2_TctiLdr_Finalize(&tcti_);
  }

  ESYS_CONTEXT* ctx() { return ctx_; }

  Result<ESYS_TR> CreatePrimary(ESYS_TR hierarchy, const TPM2B_PUBLIC& templ,
                                EsysPtr<TPM2B_PUBLIC>* out_public = nullptr) {
    TPM2B_SENSITIVE_CREATE sensitive = {};
    TPM2B_DATA outside = {};
    TPML_PCR_SELECTION pcrs = {};
    ESYS_TR handle = ESYS_TR_NONE;
    TPM2B_PUBLIC* pub = nullptr;
    TPM2B_CREATION_DATA* creation = nullptr;
    TPM2B_DIGEST* hash = nullptr;
    TPMT_TK_CREATION* ticket = nullptr;
    TSS2_RC rc = Esys_CreatePrimary(ctx_, hierarchy, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                    &sensitive, &templ, &outside, &pcrs, &handle, &pub, &creation,
                                    &hash, &ticket);
    Esys_Free(creation);
    Esys_Free(hash);
    Esys_Free(ticket);
    if (rc != TSS2_RC_SUCCESS) return std::unexpected(TpmError("CreatePrimary", rc));
    loaded_.push_back(handle);
    if (out_public != nullptr) {
      out_public->reset(pub);
    } else {
      Esys_Free(pub);
    }
    return handle;
  }

  Result<ESYS_TR> LoadKey(const TpmKeyBlob& key) {
    IMPRINT_ASSIGN_OR_RETURN(
        auto pub, UnmarshalAll<TPM2B_PUBLIC>(key.public_area, Tss2_MU_TPM2B_PUBLIC_Unmarshal,
                                             "device key public area"));
    IMPRINT_ASSIGN_OR_RETURN(
        auto priv, UnmarshalAll<TPM2B_PRIVATE>(key.private_area, Tss2_MU_TPM2B_PRIVATE_Unmarshal,
                                               "device key private area"));
    IMPRINT_ASSIGN_OR_RETURN(ESYS_TR srk, CreatePrimary(ESYS_TR_RH_OWNER, SrkTemplate()));
    ESYS_TR handle = ESYS_TR_NONE;
    TSS2_RC rc =
        Esys_Load(ctx_, srk, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub, &handle);
    Flush(srk);  // a TPM holds three objects at most: the key stays loaded without its parent
    if (rc != TSS2_RC_SUCCESS) return std::unexpected(TpmError("Load", rc));
    loaded_.push_back(handle);
    return handle;
  }

  void Flush(ESYS_TR handle) {
    Esys_FlushContext(ctx_, handle);
    loaded_.erase(std::remove(loaded_.begin(), loaded_.end(), handle), loaded_.end());
  }

  void Track(ESYS_TR handle) { loaded_.push_back(handle); }

  // The RSA EK: the one made persistent at the TCG's handle 0x81010001 when it is there and has
  // the template's public area (making an RSA key again costs a TPM a long time), else made
  // again from the endorsement seed with the template (the same key).
  Result<ESYS_TR> EndorsementKey() {
    ESYS_TR persistent = ESYS_TR_NONE;
    TPM2B_PUBLIC templ = EkTemplate();
    if (Esys_TR_FromTPMPublic(ctx_, kRsaEkPersistentHandle, ESYS_TR_NONE, ESYS_TR_NONE,
                              ESYS_TR_NONE, &persistent) == TSS2_RC_SUCCESS) {
      TPM2B_PUBLIC* pub = nullptr;
      TPM2B_NAME* name = nullptr;
      TPM2B_NAME* qualified = nullptr;
      TSS2_RC rc = Esys_ReadPublic(ctx_, persistent, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub,
                                   &name, &qualified);
      EsysPtr<TPM2B_PUBLIC> owner(pub);
      Esys_Free(name);
      Esys_Free(qualified);
      const TPMT_PUBLIC& want = templ.publicArea;
      if (rc == TSS2_RC_SUCCESS && pub->publicArea.type == TPM2_ALG_RSA &&
          pub->publicArea.nameAlg == want.nameAlg &&
          pub->publicArea.objectAttributes == want.objectAttributes &&
          pub->publicArea.parameters.rsaDetail.keyBits == 2048 &&
          pub->publicArea.authPolicy.size == want.authPolicy.size &&
          std::memcmp(pub->publicArea.authPolicy.buffer, want.authPolicy.buffer,
                      want.authPolicy.size) == 0) {
        return persistent;
      }
      Esys_TR_Close(ctx_, &persistent);
    }
    return CreatePrimary(ESYS_TR_RH_ENDORSEMENT, templ);
  }

  Result<TpmCertification> Certify(ESYS_TR key, ByteView nonce) {
    IMPRINT_ASSIGN_OR_RETURN(ESYS_TR ak, CreatePrimary(ESYS_TR_RH_ENDORSEMENT, AkTemplate()));
    TPM2B_DATA qualifying = {};
    if (nonce.size() > sizeof(qualifying.buffer)) {
      return Fail(Code::kInvalidArgument, "certify nonce too long");
    }
    qualifying.size = static_cast<UINT16>(nonce.size());
    std::copy(nonce.begin(), nonce.end(), qualifying.buffer);
    TPMT_SIG_SCHEME scheme = {};
    scheme.scheme = TPM2_ALG_NULL;  // the AK's own: ECDSA with SHA-256
    TPM2B_ATTEST* info = nullptr;
    TPMT_SIGNATURE* signature = nullptr;
    TSS2_RC rc = Esys_Certify(ctx_, key, ak, ESYS_TR_PASSWORD, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                              &qualifying, &scheme, &info, &signature);
    EsysPtr<TPM2B_ATTEST> info_owner(info);
    EsysPtr<TPMT_SIGNATURE> signature_owner(signature);
    if (rc != TSS2_RC_SUCCESS) return std::unexpected(TpmError("Certify", rc));
    TpmCertification out;
    out.certify_info.assign(info->attestationData, info->attestationData + info->size);
    IMPRINT_ASSIGN_OR_RETURN(out.signature, MarshalAll(*signature, Tss2_MU_TPMT_SIGNATURE_Marshal));
    return out;
  }

 private:
  Connection() = default;
  TSS2_TCTI_CONTEXT* tcti_ = nullptr;
  ESYS_CONTEXT* ctx_ = nullptr;
  std::vector<ESYS_TR> loaded_;
};

}  // namespace

Result<TpmKeyBlob> Tpm::CreateSigningKey() {
  IMPRINT_ASSIGN_OR_RETURN(auto tpm, Connection::Open(tcti_));
  IMPRINT_ASSIGN_OR_RETURN(ESYS_TR srk, tpm->CreatePrimary(ESYS_TR_RH_OWNER, SrkTemplate()));
  TPM2B_PUBLIC templ =
      EccTemplate(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                      TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_SIGN_ENCRYPT,
                  TPM2_ALG_ECDSA);
  TPM2B_SENSITIVE_CREATE sensitive = {};
  TPM2B_DATA outside = {};
  TPML_PCR_SELECTION pcrs = {};
  TPM2B_PRIVATE* priv = nullptr;
  TPM2B_PUBLIC* pub = nullptr;
  TPM2B_CREATION_DATA* creation = nullptr;
  TPM2B_DIGEST* hash = nullptr;
  TPMT_TK_CREATION* ticket = nullptr;
  TSS2_RC rc =
      Esys_Create(tpm->ctx(), srk, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive, &templ,
                  &outside, &pcrs, &priv, &pub, &creation, &hash, &ticket);
  EsysPtr<TPM2B_PRIVATE> priv_owner(priv);
  EsysPtr<TPM2B_PUBLIC> pub_owner(pub);
  Esys_Free(creation);
  Esys_Free(hash);
  Esys_Free(ticket);
  if (rc != TSS2_RC_SUCCESS) return std::unexpected(TpmError("Create", rc));
  TpmKeyBlob blob;
  IMPRINT_ASSIGN_OR_RETURN(blob.public_area, MarshalAll(*pub, Tss2_MU_TPM2B_PUBLIC_Marshal));
  IMPRINT_ASSIGN_OR_RETURN(blob.private_area, MarshalAll(*priv, Tss2_MU_TPM2B_PRIVATE_Marshal));
  return blob;
}

Result<Bytes> Tpm::Sign(const TpmKeyBlob& key, ByteView digest) {
  if (digest.size() != 32) return Fail(Code::kInvalidArgument, "TPM signs SHA-256 digests");
  IMPRINT_ASSIGN_OR_RETURN(auto tpm, Connection::Open(tcti_));
  IMPRINT_ASSIGN_OR_RETURN(ESYS_TR handle, tpm->LoadKey(key));
  TPM2B_DIGEST in = {};
  in.size = 32;
  std::copy(digest.begin(), digest.end(), in.buffer);
  TPMT_SIG_SCHEME scheme = {};
  scheme.scheme = TPM2_ALG_ECDSA;
  scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
  TPMT_TK_HASHCHECK validation = {};
  validation.tag = TPM2_ST_HASHCHECK;
  validation.hierarchy = TPM2_RH_NULL;
  TPMT_SIGNATURE* signature = nullptr;
  TSS2_RC rc = Esys_Sign(tpm->ctx(), handle, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &in,
                         &scheme, &validation, &signature);
  EsysPtr<TPMT_SIGNATURE> owner(signature);
  if (rc != TSS2_RC_SUCCESS) return std::unexpected(TpmError("Sign", rc));
  const TPMS_SIGNATURE_ECC& ecc = signature->signature.ecdsa;
  if (ecc.signatureR.size > 32 || ecc.signatureS.size > 32) {
    return Fail(Code::kInternal, "TPM signature is not P-256");
  }
  Bytes raw(64, 0);
  std::copy_n(ecc.signatureR.buffer, ecc.signatureR.size, raw.begin() + 32 - ecc.signatureR.size);
  std::copy_n(ecc.signatureS.buffer, ecc.signatureS.size, raw.end() - ecc.signatureS.size);
  auto der = x509::EcdsaRawToDer(raw, 32);
  if (!der) return Fail(Code::kInternal, "TPM signature is out of range");
  return *der;
}

Result<Bytes> Tpm::ReadEkCertificate() {
  IMPRINT_ASSIGN_OR_RETURN(auto tpm, Connection::Open(tcti_));
  ESYS_TR index = ESYS_TR_NONE;
  TSS2_RC rc = Esys_TR_FromTPMPublic(tpm->ctx(), kRsaEkCertificateIndex, ESYS_TR_NONE, ESYS_TR_NONE,
                                     ESYS_TR_NONE, &index);
  if (rc != TSS2_RC_SUCCESS) {
    return Fail(Code::kFailedPrecondition,
                "TPM has no EK certificate at NV index 0x01c00002 (RSA EK): " +
                    std::string(Tss2_RC_Decode(rc)));
  }
  TPM2B_NV_PUBLIC* nv_public = nullptr;
  TPM2B_NAME* nv_name = nullptr;
  rc = Esys_NV_ReadPublic(tpm->ctx(), index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &nv_public,
                          &nv_name);
  EsysPtr<TPM2B_NV_PUBLIC> public_owner(nv_public);
  Esys_Free(nv_name);
  if (rc != TSS2_RC_SUCCESS) return std::unexpected(TpmError("NV_ReadPublic", rc));
  size_t size = nv_public->nvPublic.dataSize;
  Bytes out;
  constexpr size_t kChunk = 512;  // below every TPM's MAX_NV_BUFFER_SIZE
  while (out.size() < size) {
    auto n = static_cast<UINT16>(std::min(kChunk, size - out.size()));
    TPM2B_MAX_NV_BUFFER* data = nullptr;
    rc = Esys_NV_Read(tpm->ctx(), index, index, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, n,
                      static_cast<UINT16>(out.size()), &data);
    EsysPtr<TPM2B_MAX_NV_BUFFER> data_owner(data);
    if (rc != TSS2_RC_SUCCESS) return std::unexpected(TpmError("NV_Read", rc));
    out.insert(out.end(), data->buffer, data->buffer + data->size);
  }
  return out;
}

Result<Bytes> Tpm::AttestationKeyPublic() {
  IMPRINT_ASSIGN_OR_RETURN(auto tpm, Connection::Open(tcti_));
  EsysPtr<TPM2B_PUBLIC> pub;
  IMPRINT_ASSIGN_OR_RETURN(ESYS_TR ak,
                           tpm->CreatePrimary(ESYS_TR_RH_ENDORSEMENT, AkTemplate(), &pub));
  (void)ak;
  return MarshalAll(*pub, Tss2_MU_TPM2B_PUBLIC_Marshal);
}

Result<Bytes> Tpm::ActivateCredential(ByteView credential_blob, ByteView encrypted_secret) {
  IMPRINT_ASSIGN_OR_RETURN(
      auto blob, UnmarshalAll<TPM2B_ID_OBJECT>(credential_blob, Tss2_MU_TPM2B_ID_OBJECT_Unmarshal,
                                               "credential blob"));
  IMPRINT_ASSIGN_OR_RETURN(
      auto secret,
      UnmarshalAll<TPM2B_ENCRYPTED_SECRET>(
          encrypted_secret, Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal, "encrypted secret"));
  IMPRINT_ASSIGN_OR_RETURN(auto tpm, Connection::Open(tcti_));
  IMPRINT_ASSIGN_OR_RETURN(ESYS_TR ak, tpm->CreatePrimary(ESYS_TR_RH_ENDORSEMENT, AkTemplate()));
  IMPRINT_ASSIGN_OR_RETURN(ESYS_TR ek, tpm->EndorsementKey());
  // The EK is used under its policy: PolicySecret with the endorsement hierarchy.
  TPMT_SYM_DEF none = {};
  none.algorithm = TPM2_ALG_NULL;
  ESYS_TR session = ESYS_TR_NONE;
  TSS2_RC rc = Esys_StartAuthSession(tpm->ctx(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                     ESYS_TR_NONE, ESYS_TR_NONE, nullptr, TPM2_SE_POLICY, &none,
                                     TPM2_ALG_SHA256, &session);
  if (rc != TSS2_RC_SUCCESS) return std::unexpected(TpmError("StartAuthSession", rc));
  tpm->Track(session);
  TPM2B_TIMEOUT* timeout = nullptr;
  TPMT_TK_AUTH* ticket = nullptr;
  rc =
      Esys_PolicySecret(tpm->ctx(), ESYS_TR_RH_ENDORSEMENT, session, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                        ESYS_TR_NONE, nullptr, nullptr, nullptr, 0, &timeout, &ticket);
  Esys_Free(timeout);
  Esys_Free(ticket);
  if (rc != TSS2_RC_SUCCESS) return std::unexpected(TpmError("PolicySecret", rc));
  TPM2B_DIGEST* cert_info = nullptr;
  rc = Esys_ActivateCredential(tpm->ctx(), ak, ek, ESYS_TR_PASSWORD, session, ESYS_TR_NONE, &blob,
                               &secret, &cert_info);
  EsysPtr<TPM2B_DIGEST> owner(cert_info);
  if (rc != TSS2_RC_SUCCESS) return std::unexpected(TpmError("ActivateCredential", rc));
  Bytes out(cert_info->buffer, cert_info->buffer + cert_info->size);
  OPENSSL_cleanse(cert_info->buffer, cert_info->size);
  return out;
}

Result<TpmCertification> Tpm::Certify(const TpmKeyBlob& key, ByteView nonce) {
  IMPRINT_ASSIGN_OR_RETURN(auto tpm, Connection::Open(tcti_));
  IMPRINT_ASSIGN_OR_RETURN(ESYS_TR handle, tpm->LoadKey(key));
  return tpm->Certify(handle, nonce);
}

Result<TpmCertification> Tpm::CertifyExternal(EVP_PKEY* private_key, ByteView nonce,
                                              Bytes* public_area) {
  BIGNUM* d = nullptr;
  unsigned char point[65];
  size_t point_len = 0;
  if (EVP_PKEY_get_bn_param(private_key, OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1 ||
      EVP_PKEY_get_octet_string_param(private_key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point),
                                      &point_len) != 1 ||
      point_len != 65) {
    BN_clear_free(d);
    return Fail(Code::kInvalidArgument, "not an EC P-256 private key");
  }
  x509::SecretBigNumPtr scalar(d);
  TPM2B_SENSITIVE sensitive = {};
  sensitive.sensitiveArea.sensitiveType = TPM2_ALG_ECC;
  sensitive.sensitiveArea.sensitive.ecc.size = 32;
  BN_bn2binpad(scalar.get(), sensitive.sensitiveArea.sensitive.ecc.buffer, 32);
  TPM2B_PUBLIC pub =
      EccTemplate(TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_SIGN_ENCRYPT, TPM2_ALG_ECDSA);
  pub.publicArea.unique.ecc.x.size = 32;
  pub.publicArea.unique.ecc.y.size = 32;
  std::memcpy(pub.publicArea.unique.ecc.x.buffer, point + 1, 32);
  std::memcpy(pub.publicArea.unique.ecc.y.buffer, point + 33, 32);
  IMPRINT_ASSIGN_OR_RETURN(*public_area, MarshalAll(pub, Tss2_MU_TPM2B_PUBLIC_Marshal));

  IMPRINT_ASSIGN_OR_RETURN(auto tpm, Connection::Open(tcti_));
  ESYS_TR handle = ESYS_TR_NONE;
  TSS2_RC rc = Esys_LoadExternal(tpm->ctx(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive,
                                 &pub, ESYS_TR_RH_NULL, &handle);
  OPENSSL_cleanse(&sensitive, sizeof(sensitive));
  if (rc != TSS2_RC_SUCCESS) return std::unexpected(TpmError("LoadExternal", rc));
  tpm->Track(handle);
  return tpm->Certify(handle, nonce);
}

}  // namespace imprint::agent
