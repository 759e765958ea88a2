#pragma once
// Where a device keeps its key. `file`: a PEM file (0600 from creation) in the store directory
// (0700). `pkcs11`: a non-extractable key in a PKCS#11 token standing in for a secure element.
// The private key never leaves the device either way; only signatures and the public key do.

#include <memory>
#include <string>

#include "common/error.h"
#include "common/pkcs11/session_pool.h"
#include "common/x509/signer.h"
#include "device_agent/tpm.h"

namespace imprint::agent {

class KeyBackend {
 public:
  virtual ~KeyBackend() = default;
  // The existing key, or NOT_FOUND.
  virtual Result<std::unique_ptr<x509::Signer>> Load() = 0;
  // Replaces any existing key with a fresh one: "P-256", "P-384" or "RSA-3072".
  virtual Result<std::unique_ptr<x509::Signer>> Generate(const std::string& type) = 0;
  // A key in a TPM the agent drives itself: that TPM, and the key as the TPM gave it back.
  // nullptr / FAILED_PRECONDITION for every other backend.
  virtual Tpm* tpm() { return nullptr; }
  virtual Result<TpmKeyBlob> TpmKey() {
    return Fail(Code::kFailedPrecondition, "the device key is not in a TPM");
  }
};

std::unique_ptr<KeyBackend> MakeFileKeyBackend(const std::string& store_dir);

// Keys labelled `label` in the token behind `pool` (shared by the devices of a harness).
std::unique_ptr<KeyBackend> MakePkcs11KeyBackend(std::shared_ptr<p11::SessionPool> pool,
                                                 const std::string& label);

// A P-256 key in the TPM at `tcti`; its TPM blobs in `store_dir`/device-key.tpm. Without
// `attest` the device does not offer key attestation (tpm() is nullptr), as a device whose TPM
// has no EK certificate, or a measurement of what attestation costs.
std::unique_ptr<KeyBackend> MakeTpmKeyBackend(const std::string& store_dir, const std::string& tcti,
                                              bool attest = true);

}  // namespace imprint::agent
