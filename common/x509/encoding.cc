#include "common/x509/encoding.h"

#include <openssl/pem.h>
#include <openssl/sha.h>

#include "common/x509/der.h"
#include "common/x509/openssl_error.h"

namespace imprint::x509 {
namespace {

// Everything written to a memory BIO so far.
std::string MemoryBioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace

Result<X509Ptr> ParseCertificateDer(ByteView der) {
  if (der.empty() || der.size() > kMaxCertificateBytes) {
    return Fail(Code::kInvalidArgument, "certificate is empty or too large");
  }
  const unsigned char* p = der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return std::unexpected(OpenSslError(Code::kInvalidArgument, "malformed certificate"));
  if (p != der.data() + der.size()) {
    return Fail(Code::kInvalidArgument, "trailing bytes after certificate");
  }
  return cert;
}

Result<std::vector<X509Ptr>> ParseCertificatesPem(std::string_view pem) {
  if (pem.size() > kMaxPemBundleBytes) {
    return Fail(Code::kInvalidArgument, "PEM bundle too large");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return std::unexpected(OpenSslError(Code::kInternal, "BIO_new_mem_buf"));
  std::vector<X509Ptr> certs;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(cert);
  }
  // Reading stops with a "no start line" error at the end of input; that is not a failure.
  ClearOpenSslErrors();
  if (certs.empty()) return Fail(Code::kInvalidArgument, "no certificate in PEM input");
  return certs;
}

Result<X509Ptr> ParseCertificatePem(std::string_view pem) {
  IMPRINT_ASSIGN_OR_RETURN(auto certs, ParseCertificatesPem(pem));
  if (certs.size() != 1) return Fail(Code::kInvalidArgument, "expected exactly one certificate");
  return std::move(certs.front());
}

Result<Bytes> CertificateToDer(const X509* cert) { return ToDer(i2d_X509, cert); }

Result<std::string> CertificateToPem(const X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return std::unexpected(OpenSslError(Code::kInternal, "PEM_write_bio_X509"));
  }
  return MemoryBioText(bio.get());
}

Result<std::string> DerToPem(ByteView der, const char* label) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio(bio.get(), label, "", der.data(), static_cast<long>(der.size())) <= 0) {
    return std::unexpected(OpenSslError(Code::kInternal, "PEM_write_bio"));
  }
  return MemoryBioText(bio.get());
}

Result<std::string> CertificateDerToPem(ByteView der) {
  der::Reader outer(der);
  auto certificate = outer.Expect(der::kSequence);
  if (!certificate || !outer.empty()) return Fail(Code::kInvalidArgument, "certificate is not DER");
  der::Reader fields(certificate->content);
  if (!fields.Expect(der::kSequence) || !fields.Expect(der::kSequence) ||
      !fields.Expect(der::kBitString) || !fields.empty()) {
    return Fail(Code::kInvalidArgument, "certificate is not DER");
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio(bio.get(), PEM_STRING_X509, "", der.data(),
                            static_cast<long>(der.size())) <= 0) {
    return std::unexpected(OpenSslError(Code::kInternal, "PEM_write_bio"));
  }
  return MemoryBioText(bio.get());
}

Result<std::string> PrivateKeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return std::unexpected(OpenSslError(Code::kInternal, "PEM_write_bio_PrivateKey"));
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  std::string pem(data, static_cast<size_t>(len));
  OPENSSL_cleanse(data, static_cast<size_t>(len));
  return pem;
}

Result<Bytes> PublicKeyToDer(const EVP_PKEY* key) { return ToDer(i2d_PUBKEY, key); }

Result<PkeyPtr> ParsePublicKeyPem(std::string_view pem) {
  if (pem.empty() || pem.size() > kMaxCertificateBytes) {
    return Fail(Code::kInvalidArgument, "public key PEM is empty or too large");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key)
    return std::unexpected(OpenSslError(Code::kInvalidArgument, "malformed public key PEM"));
  return key;
}

Result<PkeyPtr> ParsePublicKeyDer(ByteView der) {
  if (der.empty() || der.size() > kMaxCertificateBytes) {
    return Fail(Code::kInvalidArgument, "public key DER is empty or too large");
  }
  const unsigned char* p = der.data();
  PkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!key || p != der.data() + der.size()) {
    return std::unexpected(OpenSslError(Code::kInvalidArgument, "malformed public key DER"));
  }
  return key;
}

Result<Bytes> SpkiSha256(const EVP_PKEY* key) {
  IMPRINT_ASSIGN_OR_RETURN(Bytes der, PublicKeyToDer(key));
  Bytes digest(SHA256_DIGEST_LENGTH);
  SHA256(der.data(), der.size(), digest.data());
  return digest;
}

Bytes Sha256(ByteView data) {
  Bytes digest(SHA256_DIGEST_LENGTH);
  SHA256(data.data(), data.size(), digest.data());
  return digest;
}

Result<std::string> SerialHex(const X509* cert) {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
  if (serial == nullptr) return Fail(Code::kInvalidArgument, "certificate has no serial");
  return HexEncode(
      ByteView(ASN1_STRING_get0_data(serial), static_cast<size_t>(ASN1_STRING_length(serial))));
}

}  // namespace imprint::x509
