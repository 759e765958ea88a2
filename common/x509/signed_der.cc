#include "common/x509/signed_der.h"

#include <openssl/objects.h>

#include "common/x509/der.h"
#include "common/x509/openssl_error.h"

namespace imprint::x509 {

Status SetAlgorithmIdentifier(X509_ALGOR* alg, SignatureAlgorithm sig_alg) {
  int nid = NID_undef;
  int param_type = V_ASN1_UNDEF;
  switch (sig_alg) {
    case SignatureAlgorithm::kEcdsaSha256:
      nid = NID_ecdsa_with_SHA256;
      break;
    case SignatureAlgorithm::kEcdsaSha384:
      nid = NID_ecdsa_with_SHA384;
      break;
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

Result<Bytes> AlgorithmIdentifierDer(SignatureAlgorithm sig_alg) {
  AlgorPtr alg(X509_ALGOR_new());
  if (!alg) return std::unexpected(OpenSslError(Code::kInternal, "X509_ALGOR_new"));
  IMPRINT_RETURN_IF_ERROR(SetAlgorithmIdentifier(alg.get(), sig_alg));
  unsigned char* alg_der = nullptr;
  int alg_len = i2d_X509_ALGOR(alg.get(), &alg_der);
  if (alg_len <= 0) return std::unexpected(OpenSslError(Code::kInternal, "i2d_X509_ALGOR"));
  Bytes out(alg_der, alg_der + alg_len);
  OPENSSL_free(alg_der);
  return out;
}

Result<Bytes> SignAndAssemble(ByteView tbs, Signer& signer, ByteView trailer) {
  IMPRINT_ASSIGN_OR_RETURN(Bytes alg_bytes, AlgorithmIdentifierDer(signer.algorithm()));
  IMPRINT_ASSIGN_OR_RETURN(Bytes signature, signer.Sign(tbs));
  if (!VerifySignature(signer.public_key(), signer.algorithm(), tbs, signature)) {
    ClearOpenSslErrors();
    return Fail(Code::kUnavailable, "signer produced a signature that does not verify");
  }

  Bytes bits{0x00};  // no unused bits
  bits.insert(bits.end(), signature.begin(), signature.end());
  Bytes body(tbs.begin(), tbs.end());
  body.insert(body.end(), alg_bytes.begin(), alg_bytes.end());
  der::Append(body, der::kBitString, bits);
  body.insert(body.end(), trailer.begin(), trailer.end());
  Bytes out;
  der::Append(out, der::kSequence, body);
  return out;
}

}  // namespace imprint::x509
