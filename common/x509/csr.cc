#include "common/x509/csr.h"

#include <openssl/pem.h>

#include "common/x509/der.h"
#include "common/x509/name.h"
#include "common/x509/openssl_error.h"
#include "common/x509/signed_der.h"
#include "common/x509/spki.h"

namespace imprint::x509 {
namespace {

// The signature algorithms a CSR may use, by the OID in its signatureAlgorithm.
Result<SignatureAlgorithm> CsrSignatureAlgorithm(ByteView algorithm_der) {
  const unsigned char* p = algorithm_der.data();
  AlgorPtr alg(d2i_X509_ALGOR(nullptr, &p, static_cast<long>(algorithm_der.size())));
  if (!alg) return std::unexpected(OpenSslError(Code::kInvalidArgument, "malformed CSR"));
  const ASN1_OBJECT* oid = nullptr;
  X509_ALGOR_get0(&oid, nullptr, nullptr, alg.get());
  switch (OBJ_obj2nid(oid)) {
    case NID_ecdsa_with_SHA256:
      return SignatureAlgorithm::kEcdsaSha256;
    case NID_ecdsa_with_SHA384:
      return SignatureAlgorithm::kEcdsaSha384;
    case NID_sha256WithRSAEncryption:
      return SignatureAlgorithm::kRsaPkcs1Sha256;
    case NID_sha384WithRSAEncryption:
      return SignatureAlgorithm::kRsaPkcs1Sha384;
    default:
      return Fail(Code::kInvalidArgument,
                  "CSR signature algorithm not supported (ECDSA or PKCS#1 v1.5, SHA-256/384)");
  }
}

// Checks the CertificationRequestInfo's fields (RFC 2986 4.1) and returns its
// subjectPKInfo. The subject is parsed only to reject garbage: nothing of it is used.
Result<ByteView> RequestInfoKey(ByteView info_content) {
  der::Reader fields(info_content);
  IMPRINT_ASSIGN_OR_RETURN(der::Element version, fields.Expect(der::kInteger));
  if (version.content.size() != 1 || version.content[0] != 0) {
    return Fail(Code::kInvalidArgument, "CSR version must be 1");
  }
  IMPRINT_ASSIGN_OR_RETURN(der::Element subject, fields.Expect(der::kSequence));
  const unsigned char* p = subject.whole.data();
  X509NamePtr name(d2i_X509_NAME(nullptr, &p, static_cast<long>(subject.whole.size())));
  if (!name || p != subject.whole.data() + subject.whole.size()) {
    return std::unexpected(OpenSslError(Code::kInvalidArgument, "malformed CSR subject"));
  }
  IMPRINT_ASSIGN_OR_RETURN(der::Element spki, fields.Expect(der::kSequence));
  // attributes [0] IMPLICIT SET OF Attribute; absent in some encoders, as OpenSSL allows.
  if (!fields.empty()) {
    IMPRINT_ASSIGN_OR_RETURN(der::Element attributes, fields.Expect(der::kContext0Constructed));
    der::Reader each(attributes.content);
    while (!each.empty()) IMPRINT_RETURN_IF_ERROR(each.Expect(der::kSequence));
  }
  if (!fields.empty()) return Fail(Code::kInvalidArgument, "malformed CSR");
  return spki.whole;
}

}  // namespace

Result<VerifiedCsr> ParseAndVerifyCsr(ByteView der, const KeyPolicy& policy) {
  if (der.empty()) return Fail(Code::kInvalidArgument, "CSR is empty");
  if (der.size() > kMaxCsrBytes) return Fail(Code::kInvalidArgument, "CSR is too large");
  der::Reader outer(der);
  IMPRINT_ASSIGN_OR_RETURN(der::Element request, outer.Expect(der::kSequence));
  if (!outer.empty()) return Fail(Code::kInvalidArgument, "trailing bytes after CSR");
  der::Reader parts(request.content);
  IMPRINT_ASSIGN_OR_RETURN(der::Element info, parts.Expect(der::kSequence));
  IMPRINT_ASSIGN_OR_RETURN(der::Element algorithm, parts.Expect(der::kSequence));
  IMPRINT_ASSIGN_OR_RETURN(der::Element signature, parts.Expect(der::kBitString));
  if (!parts.empty()) return Fail(Code::kInvalidArgument, "malformed CSR");
  IMPRINT_ASSIGN_OR_RETURN(ByteView spki, RequestInfoKey(info.content));
  IMPRINT_ASSIGN_OR_RETURN(SignatureAlgorithm sig_alg, CsrSignatureAlgorithm(algorithm.whole));
  IMPRINT_ASSIGN_OR_RETURN(ByteView sig, der::BitStringOctets(signature.content));

  auto key = DecodePublicKey(spki);
  if (!key) return Fail(Code::kInvalidArgument, "CSR public key cannot be decoded");
  IMPRINT_ASSIGN_OR_RETURN(Bytes canonical, CanonicalSpki(spki, key->get()));
  IMPRINT_ASSIGN_OR_RETURN(KeyInfo info_key, CheckKeyPolicy(key->get(), policy));
  if (!VerifySignature(key->get(), sig_alg, info.whole, sig)) {
    ClearOpenSslErrors();
    return Fail(Code::kInvalidArgument, "CSR signature does not verify");
  }
  return VerifiedCsr{std::move(*key), info_key, std::move(canonical)};
}

Result<VerifiedCsr> ParseAndVerifyCsrPem(std::string_view pem, const KeyPolicy& policy) {
  if (pem.size() > 2 * kMaxCsrBytes) return Fail(Code::kInvalidArgument, "CSR is too large");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return std::unexpected(OpenSslError(Code::kInternal, "BIO_new_mem_buf"));
  unsigned char* data = nullptr;
  long len = 0;
  // Accepts "CERTIFICATE REQUEST" and the older "NEW CERTIFICATE REQUEST".
  if (PEM_bytes_read_bio(&data, &len, nullptr, PEM_STRING_X509_REQ, bio.get(), nullptr, nullptr) !=
      1) {
    return std::unexpected(OpenSslError(Code::kInvalidArgument, "malformed CSR"));
  }
  Bytes der(data, data + len);
  OPENSSL_free(data);
  return ParseAndVerifyCsr(der, policy);
}

Result<Bytes> BuildCsr(Signer& signer,
                       const std::vector<std::pair<std::string, std::string>>& subject) {
  X509ReqPtr request(X509_REQ_new());
  if (!request) return std::unexpected(OpenSslError(Code::kInternal, "X509_REQ_new"));
  IMPRINT_ASSIGN_OR_RETURN(X509NamePtr name, BuildName(subject));
  if (X509_REQ_set_version(request.get(), X509_REQ_VERSION_1) != 1 ||
      X509_REQ_set_subject_name(request.get(), name.get()) != 1 ||
      X509_REQ_set_pubkey(request.get(), signer.public_key()) != 1) {
    return std::unexpected(OpenSslError(Code::kInternal, "CSR fields"));
  }
  unsigned char* tbs = nullptr;
  int tbs_len = i2d_re_X509_REQ_tbs(request.get(), &tbs);
  if (tbs_len <= 0) return std::unexpected(OpenSslError(Code::kInternal, "i2d_re_X509_REQ_tbs"));
  Bytes tbs_bytes(tbs, tbs + tbs_len);
  OPENSSL_free(tbs);
  return SignAndAssemble(tbs_bytes, signer);
}

}  // namespace imprint::x509
