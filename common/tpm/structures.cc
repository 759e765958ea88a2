#include "common/tpm/structures.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <tss2/tss2_mu.h>

#include <algorithm>
#include <utility>

#include "common/x509/ecdsa_signature.h"
#include "common/x509/encoding.h"
#include "common/x509/signer.h"
#include "common/x509/spki.h"

namespace imprint::tpm {
namespace {

auto Invalid(const std::string& what) { return Fail(Code::kInvalidArgument, what); }

// Unmarshals all of `bytes` with a libtss2-mu reader; trailing bytes are refused.
template <typename T, typename Reader>
Result<T> Unmarshal(ByteView bytes, Reader reader, const char* what) {
  T value = {};
  size_t offset = 0;
  if (bytes.empty() || reader(bytes.data(), bytes.size(), &offset, &value) != TSS2_RC_SUCCESS ||
      offset != bytes.size()) {
    return Fail(Code::kInvalidArgument, std::string(what) + " does not decode");
  }
  return value;
}

Bytes Buffer(const BYTE* data, size_t size) { return Bytes(data, data + size); }

}  // namespace

Result<PublicArea> ParsePublic(ByteView marshalled) {
  IMPRINT_ASSIGN_OR_RETURN(
      auto outer,
      Unmarshal<TPM2B_PUBLIC>(marshalled, Tss2_MU_TPM2B_PUBLIC_Unmarshal, "TPM2B_PUBLIC"));
  if (outer.publicArea.nameAlg != TPM2_ALG_SHA256) {
    return Fail(Code::kInvalidArgument, "TPM object's nameAlg is not SHA-256");
  }
  // The Name hashes the TPMT_PUBLIC as marshalled: the TPM2B's body, after its 2-byte size.
  if (marshalled.size() < 2) return Fail(Code::kInvalidArgument, "TPM2B_PUBLIC is empty");
  Bytes name = {static_cast<uint8_t>(TPM2_ALG_SHA256 >> 8),
                static_cast<uint8_t>(TPM2_ALG_SHA256 & 0xff)};
  Bytes digest = x509::Sha256(marshalled.subspan(2));
  name.insert(name.end(), digest.begin(), digest.end());
  return PublicArea{outer.publicArea, std::move(name)};
}

Result<Bytes> MarshalPublic(const TPM2B_PUBLIC& public_area) {
  Bytes out(sizeof(TPM2B_PUBLIC));
  size_t offset = 0;
  if (Tss2_MU_TPM2B_PUBLIC_Marshal(&public_area, out.data(), out.size(), &offset) !=
      TSS2_RC_SUCCESS) {
    return Fail(Code::kInvalidArgument, "TPM2B_PUBLIC does not marshal");
  }
  out.resize(offset);
  return out;
}

Result<x509::PkeyPtr> PublicKey(const TPMT_PUBLIC& area) {
  if (area.type == TPM2_ALG_ECC) {
    const TPMS_ECC_POINT& point = area.unique.ecc;
    if (area.parameters.eccDetail.curveID != TPM2_ECC_NIST_P256 || point.x.size != 32 ||
        point.y.size != 32) {
      return Invalid("TPM ECC key is not NIST P-256");
    }
    // SubjectPublicKeyInfo of id-ecPublicKey on prime256v1, the uncompressed point following.
    Bytes spki = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                  0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                  0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04};
    spki.insert(spki.end(), point.x.buffer, point.x.buffer + 32);
    spki.insert(spki.end(), point.y.buffer, point.y.buffer + 32);
    return x509::DecodePublicKey(spki);
  }
  if (area.type == TPM2_ALG_RSA) {
    const TPM2B_PUBLIC_KEY_RSA& modulus = area.unique.rsa;
    if (modulus.size < 256) return Invalid("TPM RSA key is shorter than 2048 bits");
    uint32_t exponent =
        area.parameters.rsaDetail.exponent == 0 ? 65537 : area.parameters.rsaDetail.exponent;
    x509::BigNumPtr n(BN_bin2bn(modulus.buffer, modulus.size, nullptr));
    x509::BigNumPtr e(BN_new());
    std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> build(OSSL_PARAM_BLD_new(),
                                                                          OSSL_PARAM_BLD_free);
    if (!n || !e || !build || BN_set_word(e.get(), exponent) != 1 ||
        OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
      return Fail(Code::kInternal, "RSA parameters");
    }
    std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(
        OSSL_PARAM_BLD_to_param(build.get()), OSSL_PARAM_free);
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
        EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr), EVP_PKEY_CTX_free);
    EVP_PKEY* key = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
      return Fail(Code::kInternal, "RSA key from TPM modulus");
    }
    return x509::PkeyPtr(key);
  }
  return Invalid("TPM object is neither ECC nor RSA");
}

std::string AttributeNames(TPMA_OBJECT attributes) {
  static const std::pair<TPMA_OBJECT, const char*> kNames[] = {
      {TPMA_OBJECT_FIXEDTPM, "fixedTPM"},
      {TPMA_OBJECT_STCLEAR, "stClear"},
      {TPMA_OBJECT_FIXEDPARENT, "fixedParent"},
      {TPMA_OBJECT_SENSITIVEDATAORIGIN, "sensitiveDataOrigin"},
      {TPMA_OBJECT_USERWITHAUTH, "userWithAuth"},
      {TPMA_OBJECT_ADMINWITHPOLICY, "adminWithPolicy"},
      {TPMA_OBJECT_NODA, "noDA"},
      {TPMA_OBJECT_ENCRYPTEDDUPLICATION, "encryptedDuplication"},
      {TPMA_OBJECT_RESTRICTED, "restricted"},
      {TPMA_OBJECT_DECRYPT, "decrypt"},
      {TPMA_OBJECT_SIGN_ENCRYPT, "sign"},
  };
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if ((attributes & bit) == 0) continue;
    if (!out.empty()) out += "|";
    out += name;
  }
  return out;
}

Result<TPMS_ATTEST> ParseAttest(ByteView marshalled) {
  return Unmarshal<TPMS_ATTEST>(marshalled, Tss2_MU_TPMS_ATTEST_Unmarshal, "TPMS_ATTEST");
}

Status VerifySignature(EVP_PKEY* key, ByteView message, ByteView marshalled_signature) {
  IMPRINT_ASSIGN_OR_RETURN(auto signature, Unmarshal<TPMT_SIGNATURE>(
                                               marshalled_signature,
                                               Tss2_MU_TPMT_SIGNATURE_Unmarshal, "TPMT_SIGNATURE"));
  if (signature.sigAlg == TPM2_ALG_ECDSA) {
    const TPMS_SIGNATURE_ECC& ecc = signature.signature.ecdsa;
    if (ecc.hash != TPM2_ALG_SHA256 || ecc.signatureR.size > 32 || ecc.signatureS.size > 32) {
      return Invalid("TPM signature is not ECDSA P-256 with SHA-256");
    }
    Bytes raw(64, 0);  // r || s, each left-padded to 32 bytes
    std::copy_n(ecc.signatureR.buffer, ecc.signatureR.size, raw.begin() + 32 - ecc.signatureR.size);
    std::copy_n(ecc.signatureS.buffer, ecc.signatureS.size, raw.end() - ecc.signatureS.size);
    auto der = x509::EcdsaRawToDer(raw, 32);
    if (!der) return Invalid("TPM signature's r or s is out of range");
    return x509::VerifySignature(key, x509::SignatureAlgorithm::kEcdsaSha256, message, *der);
  }
  if (signature.sigAlg == TPM2_ALG_RSASSA && signature.signature.rsassa.hash == TPM2_ALG_SHA256) {
    const TPM2B_PUBLIC_KEY_RSA& sig = signature.signature.rsassa.sig;
    return x509::VerifySignature(key, x509::SignatureAlgorithm::kRsaPkcs1Sha256, message,
                                 Buffer(sig.buffer, sig.size));
  }
  return Invalid("TPM signature is neither ECDSA nor RSASSA with SHA-256");
}

}  // namespace imprint::tpm
