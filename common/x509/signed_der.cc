#include "common/x509/signed_der.h"

#include <openssl/objects.h>

#include "common/x509/openssl_error.h"

namespace imprint::x509 {
namespace {

// DER definite length (X.690 8.1.3).
void AppendLength(Bytes& out, size_t len) {
  if (len < 0x80) {
    out.push_back(static_cast<uint8_t>(len));
    return;
  }
  Bytes octets;
  for (size_t v = len; v != 0; v >>= 8) octets.insert(octets.begin(), static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(0x80 | octets.size()));
  out.insert(out.end(), octets.begin(), octets.end());
}

}  // namespace

Status SetAlgorithmIdentifier(X509_ALGOR* alg, SignatureAlgorithm sig_alg) {
  int nid = NID_undef;
  int param_type = V_ASN1_UNDEF;
  switch (sig_alg) {
    case SignatureAlgorithm::kEcdsaSha256: nid = NID_ecdsa_with_SHA256; break;
    case SignatureAlgorithm::kEcdsaSha384: nid = NID_ecdsa_with_SHA384; break;
    case SignatureAlgorithm::kRsaPkcs1Sha256:
      nid = NID_sha256WithRSAEncryption;
      param_type = V_ASN1_NULL;
      break;
    case SignatureAlgorithm::kRsaPkcs1Sha384:
      nid = NID_sha384WithRSAEncryption;
      param_type = V_ASN1_NULL;
      break;
    default:
      return Fail(Code::kUnimplemented, "RSASSA-PSS certificate signatures are not supported");
  }
  if (X509_ALGOR_set0(alg, OBJ_nid2obj(nid), param_type, nullptr) != 1) {
    return std::unexpected(OpenSslError(Code::kInternal, "X509_ALGOR_set0"));
  }
  return {};
}

Result<Bytes> SignAndAssemble(ByteView tbs, Signer& signer) {
  AlgorPtr alg(X509_ALGOR_new());
  if (!alg) return std::unexpected(OpenSslError(Code::kInternal, "X509_ALGOR_new"));
  IMPRINT_RETURN_IF_ERROR(SetAlgorithmIdentifier(alg.get(), signer.algorithm()));
  unsigned char* alg_der = nullptr;
  int alg_len = i2d_X509_ALGOR(alg.get(), &alg_der);
  if (alg_len <= 0) return std::unexpected(OpenSslError(Code::kInternal, "i2d_X509_ALGOR"));
  Bytes alg_bytes(alg_der, alg_der + alg_len);
  OPENSSL_free(alg_der);

  IMPRINT_ASSIGN_OR_RETURN(Bytes signature, signer.Sign(tbs));
  if (!VerifySignature(signer.public_key(), signer.algorithm(), tbs, signature)) {
    ClearOpenSslErrors();
    return Fail(Code::kUnavailable, "signer produced a signature that does not verify");
  }

  Bytes bit_string{0x03};
  AppendLength(bit_string, signature.size() + 1);
  bit_string.push_back(0x00);  // no unused bits
  bit_string.insert(bit_string.end(), signature.begin(), signature.end());

  Bytes out{0x30};
  AppendLength(out, tbs.size() + alg_bytes.size() + bit_string.size());
  out.insert(out.end(), tbs.begin(), tbs.end());
  out.insert(out.end(), alg_bytes.begin(), alg_bytes.end());
  out.insert(out.end(), bit_string.begin(), bit_string.end());
  return out;
}

}  // namespace imprint::x509
