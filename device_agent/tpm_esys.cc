#include "device_agent/tpm_esys.h"

#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include <algorithm>
#include <cstring>

namespace imprint::agent {
namespace {

// The EK's policy (EK Credential Profile 2.0, B.3.3): PolicySecret(TPM_RH_ENDORSEMENT).
constexpr uint8_t kEkPolicy[32] = {0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc,
                                   0x8d, 0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52,
                                   0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa};

}  // namespace

Error TpmError(const char* call, TSS2_RC rc) {
  return Error(Code::kFailedPrecondition, std::string("TPM ") + call + ": " + Tss2_RC_Decode(rc));
}

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

Result<std::unique_ptr<TpmConnection>> TpmConnection::Open(const std::string& tcti_conf) {
  auto c = std::unique_ptr<TpmConnection>(new TpmConnection());
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

TpmConnection::~TpmConnection() {
  if (ctx_ != nullptr) {
    for (ESYS_TR handle : loaded_) Esys_FlushContext(ctx_, handle);
    Esys_Finalize(&ctx_);
  }
  if (tcti_ != nullptr) Tss2_TctiLdr_Finalize(&tcti_);
}

Result<ESYS_TR> TpmConnection::CreatePrimary(ESYS_TR hierarchy, const TPM2B_PUBLIC& templ,
                                             EsysPtr<TPM2B_PUBLIC>* out_public) {
  TPM2B_SENSITIVE_CREATE sensitive = {};
  TPM2B_DATA outside = {};
  TPML_PCR_SELECTION pcrs = {};
  ESYS_TR handle = ESYS_TR_NONE;
  TPM2B_PUBLIC* pub = nullptr;
  TPM2B_CREATION_DATA* creation = nullptr;
  TPM2B_DIGEST* hash = nullptr;
  TPMT_TK_CREATION* ticket = nullptr;
  TSS2_RC rc =
      Esys_CreatePrimary(ctx_, hierarchy, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive,
                         &templ, &outside, &pcrs, &handle, &pub, &creation, &hash, &ticket);
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

Result<ESYS_TR> TpmConnection::LoadKey(const TpmKeyBlob& key) {
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

void TpmConnection::Flush(ESYS_TR handle) {
  Esys_FlushContext(ctx_, handle);
  loaded_.erase(std::remove(loaded_.begin(), loaded_.end(), handle), loaded_.end());
}

Result<ESYS_TR> TpmConnection::EndorsementKey() {
  ESYS_TR persistent = ESYS_TR_NONE;
  TPM2B_PUBLIC templ = EkTemplate();
  if (Esys_TR_FromTPMPublic(ctx_, kRsaEkPersistentHandle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                            &persistent) == TSS2_RC_SUCCESS) {
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

Result<TpmCertification> TpmConnection::Certify(ESYS_TR key, ByteView nonce) {
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

}  // namespace imprint::agent
