#include "device_agent/key_backend.h"

#include <openssl/pem.h>

#include "common/file_util.h"
#include "common/pkcs11/keygen.h"
#include "common/pkcs11/signer.h"
#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"

namespace imprint::agent {
namespace {

class FileKeyBackend final : public KeyBackend {
 public:
  explicit FileKeyBackend(std::string path) : path_(std::move(path)) {}

  Result<std::unique_ptr<x509::Signer>> Load() override {
    IMPRINT_ASSIGN_OR_RETURN(std::string pem, ReadWholeFile(path_, 64 * 1024));
    x509::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    x509::PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    OPENSSL_cleanse(pem.data(), pem.size());
    if (!key) return Fail(Code::kDataLoss, "device key file is unreadable");
    IMPRINT_ASSIGN_OR_RETURN(auto signer, x509::EvpSigner::Create(std::move(key)));
    return std::unique_ptr<x509::Signer>(std::move(signer));
  }

  Result<std::unique_ptr<x509::Signer>> Generate(const std::string& type) override {
    IMPRINT_ASSIGN_OR_RETURN(x509::PkeyPtr key, x509::GenerateKey(type));
    IMPRINT_ASSIGN_OR_RETURN(std::string pem, x509::PrivateKeyToPem(key.get()));
    auto written = WriteFileAtomic(path_, pem, 0600);
    OPENSSL_cleanse(pem.data(), pem.size());
    IMPRINT_RETURN_IF_ERROR(written);
    IMPRINT_ASSIGN_OR_RETURN(auto signer, x509::EvpSigner::Create(std::move(key)));
    return std::unique_ptr<x509::Signer>(std::move(signer));
  }

 private:
  std::string path_;
};

class Pkcs11KeyBackend final : public KeyBackend {
 public:
  Pkcs11KeyBackend(std::shared_ptr<p11::SessionPool> pool, std::string label)
      : pool_(std::move(pool)), label_(std::move(label)) {}

  Result<std::unique_ptr<x509::Signer>> Load() override {
    auto signer = p11::Pkcs11Signer::Create(*pool_, p11::ObjectRef{label_, std::nullopt});
    if (!signer) return std::unexpected(Reportable(signer.error()));
    return std::unique_ptr<x509::Signer>(std::move(*signer));
  }

  Result<std::unique_ptr<x509::Signer>> Generate(const std::string& type) override {
    IMPRINT_ASSIGN_OR_RETURN(p11::KeyType key_type, p11::ParseKeyType(type));
    {
      auto made = Replace(key_type);
      if (!made) return std::unexpected(Reportable(made.error()));
    }
    return Load();
  }

 private:
  Status Replace(p11::KeyType key_type) {
    IMPRINT_ASSIGN_OR_RETURN(auto lease, pool_->Acquire());
    IMPRINT_RETURN_IF_ERROR(p11::DestroyObjects(lease, label_));
    IMPRINT_RETURN_IF_ERROR(p11::GenerateKeyPair(lease, key_type, label_, AsBytesCopy(label_)));
    return {};
  }

  // A token's failure as the station should see it. Module errors name the call, the result,
  // the module and a hint, never a PIN or key material, so they leave the device whole: as
  // INTERNAL they would reach the station as "internal error" alone (rpc::ToGrpcStatus), and the
  // operator there could do nothing with it. NOT_FOUND (no key yet) keeps its meaning.
  static Error Reportable(const Error& error) {
    Code code = StaysInLogs(error.code()) ? Code::kFailedPrecondition : error.code();
    return Error(code, error.message()).WithContext("device key store");
  }

  static Bytes AsBytesCopy(const std::string& s) { return Bytes(s.begin(), s.end()); }
  std::shared_ptr<p11::SessionPool> pool_;
  std::string label_;
};

}  // namespace

std::unique_ptr<KeyBackend> MakeFileKeyBackend(const std::string& store_dir) {
  return std::make_unique<FileKeyBackend>(store_dir + "/device-key.pem");
}

std::unique_ptr<KeyBackend> MakePkcs11KeyBackend(std::shared_ptr<p11::SessionPool> pool,
                                                 const std::string& label) {
  return std::make_unique<Pkcs11KeyBackend>(std::move(pool), label);
}

}  // namespace imprint::agent
