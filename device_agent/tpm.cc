#include "device_agent/tpm.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <tss2/tss2_rc.h>

#include <algorithm>
#include <cstring>

#include "common/x509/ecdsa_signature.h"
#include "common/x509/openssl_types.h"
#include "device_agent/tpm_esys.h"

namespace imprint::agent {

Result<TpmKeyBlob> Tpm::CreateSigningKey() {
  IMPRINT_ASSIGN_OR_RETURN(auto tpm, TpmConnection::Open(tcti_));
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
  IMPRINT_ASSIGN_OR_RETURN(auto tpm, TpmConnection::Open(tcti_));
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
  IMPRINT_ASSIGN_OR_RETURN(auto tpm, TpmConnection::Open(tcti_));
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
  IMPRINT_ASSIGN_OR_RETURN(auto tpm, TpmConnection::Open(tcti_));
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
  IMPRINT_ASSIGN_OR_RETURN(auto tpm, TpmConnection::Open(tcti_));
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
  IMPRINT_ASSIGN_OR_RETURN(auto tpm, TpmConnection::Open(tcti_));
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

  IMPRINT_ASSIGN_OR_RETURN(auto tpm, TpmConnection::Open(tcti_));
  ESYS_TR handle = ESYS_TR_NONE;
  TSS2_RC rc = Esys_LoadExternal(tpm->ctx(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive,
                                 &pub, ESYS_TR_RH_NULL, &handle);
  OPENSSL_cleanse(&sensitive, sizeof(sensitive));
  if (rc != TSS2_RC_SUCCESS) return std::unexpected(TpmError("LoadExternal", rc));
  tpm->Track(handle);
  return tpm->Certify(handle, nonce);
}

}  // namespace imprint::agent
