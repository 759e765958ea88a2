// The `tpm` key backend: the device key made in the TPM (device_agent/tpm.h), its blobs (the
// private one sealed to the TPM) kept in the store directory.

#include <openssl/evp.h>

#include "common/file_util.h"
#include "common/tpm/structures.h"
#include "common/x509/encoding.h"
#include "device_agent/key_backend.h"

namespace imprint::agent {
namespace {

class TpmSigner final : public x509::Signer {
 public:
  TpmSigner(Tpm& tpm, TpmKeyBlob key, x509::PkeyPtr public_key)
      : tpm_(tpm), key_(std::move(key)), public_key_(std::move(public_key)) {}

  x509::SignatureAlgorithm algorithm() const override {
    return x509::SignatureAlgorithm::kEcdsaSha256;
  }
  EVP_PKEY* public_key() const override { return public_key_.get(); }
  Result<Bytes> Sign(ByteView message) override { return tpm_.Sign(key_, x509::Sha256(message)); }

 private:
  Tpm& tpm_;
  TpmKeyBlob key_;
  x509::PkeyPtr public_key_;
};

class TpmKeyBackend final : public KeyBackend {
 public:
  TpmKeyBackend(std::string path, const std::string& tcti, bool attest)
      : path_(std::move(path)), tpm_(tcti), attest_(attest) {}

  Result<std::unique_ptr<x509::Signer>> Load() override {
    IMPRINT_ASSIGN_OR_RETURN(TpmKeyBlob key, TpmKey());
    return MakeSigner(std::move(key));
  }

  Result<std::unique_ptr<x509::Signer>> Generate(const std::string& type) override {
    if (type != "P-256") {
      return Fail(Code::kInvalidArgument, "the TPM backend makes EC P-256 keys, not " + type);
    }
    IMPRINT_ASSIGN_OR_RETURN(TpmKeyBlob key, tpm_.CreateSigningKey());
    std::string file(key.public_area.begin(), key.public_area.end());
    file.append(key.private_area.begin(), key.private_area.end());
    IMPRINT_RETURN_IF_ERROR(WriteFileAtomic(path_, file, 0600));
    return MakeSigner(std::move(key));
  }

  Tpm* tpm() override { return attest_ ? &tpm_ : nullptr; }

  // The file holds the marshalled TPM2B_PUBLIC, then the TPM2B_PRIVATE; each starts with its
  // size.
  Result<TpmKeyBlob> TpmKey() override {
    IMPRINT_ASSIGN_OR_RETURN(std::string file, ReadWholeFile(path_, 64 * 1024));
    size_t public_size =
        file.size() < 2 ? 0
                        : 2 + (static_cast<uint8_t>(file[0]) << 8 | static_cast<uint8_t>(file[1]));
    if (public_size < 3 || public_size + 2 > file.size()) {
      return Fail(Code::kDataLoss, "device key file (TPM) is unreadable");
    }
    TpmKeyBlob key;
    key.public_area.assign(file.begin(), file.begin() + static_cast<long>(public_size));
    key.private_area.assign(file.begin() + static_cast<long>(public_size), file.end());
    return key;
  }

 private:
  Result<std::unique_ptr<x509::Signer>> MakeSigner(TpmKeyBlob key) {
    IMPRINT_ASSIGN_OR_RETURN(auto area, tpm::ParsePublic(key.public_area));
    IMPRINT_ASSIGN_OR_RETURN(x509::PkeyPtr public_key, tpm::PublicKey(area.area));
    return std::unique_ptr<x509::Signer>(
        std::make_unique<TpmSigner>(tpm_, std::move(key), std::move(public_key)));
  }

  std::string path_;
  Tpm tpm_;
  bool attest_;
};

}  // namespace

std::unique_ptr<KeyBackend> MakeTpmKeyBackend(const std::string& store_dir, const std::string& tcti,
                                              bool attest) {
  return std::make_unique<TpmKeyBackend>(store_dir + "/device-key.tpm", tcti, attest);
}

}  // namespace imprint::agent
