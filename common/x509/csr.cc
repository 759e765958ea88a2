#include "common/x509/csr.h"

#include <openssl/pem.h>

#include "common/x509/name.h"
#include "common/x509/openssl_error.h"
#include "common/x509/signed_der.h"

namespace imprint::x509 {
namespace {

Result<VerifiedCsr> VerifyParsed(X509ReqPtr request, const KeyPolicy& policy) {
  PkeyPtr key(X509_REQ_get_pubkey(request.get()));
  if (!key) {
    return std::unexpected(
        OpenSslError(Code::kInvalidArgument, "CSR public key cannot be decoded"));
  }
  IMPRINT_ASSIGN_OR_RETURN(KeyInfo info, CheckKeyPolicy(key.get(), policy));
  if (X509_REQ_verify_ex(request.get(), key.get(), nullptr, nullptr) != 1) {
    return std::unexpected(
        OpenSslError(Code::kInvalidArgument, "CSR signature does not verify"));
  }
  // The SPKI as encoded in the request: no provider encoder round trip (costly in OpenSSL 3).
  unsigned char* spki = nullptr;
  int spki_len = i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(request.get()), &spki);
  if (spki_len <= 0) return std::unexpected(OpenSslError(Code::kInvalidArgument, "CSR key"));
  Bytes spki_der(spki, spki + spki_len);
  OPENSSL_free(spki);
  return VerifiedCsr{std::move(request), std::move(key), info, std::move(spki_der)};
}

}  // namespace

Result<VerifiedCsr> ParseAndVerifyCsr(ByteView der, const KeyPolicy& policy) {
  if (der.empty()) return Fail(Code::kInvalidArgument, "CSR is empty");
  if (der.size() > kMaxCsrBytes) return Fail(Code::kInvalidArgument, "CSR is too large");
  const unsigned char* p = der.data();
  X509ReqPtr request(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
  if (!request) return std::unexpected(OpenSslError(Code::kInvalidArgument, "malformed CSR"));
  if (p != der.data() + der.size()) {
    return Fail(Code::kInvalidArgument, "trailing bytes after CSR");
  }
  return VerifyParsed(std::move(request), policy);
}

Result<VerifiedCsr> ParseAndVerifyCsrPem(std::string_view pem, const KeyPolicy& policy) {
  if (pem.size() > 2 * kMaxCsrBytes) return Fail(Code::kInvalidArgument, "CSR is too large");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return std::unexpected(OpenSslError(Code::kInternal, "BIO_new_mem_buf"));
  X509ReqPtr request(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!request) return std::unexpected(OpenSslError(Code::kInvalidArgument, "malformed CSR"));
  return VerifyParsed(std::move(request), policy);
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
