#pragma once
// TpmConnection: one connection to a TPM through the TSS's ESAPI, for device_agent/tpm.cc: the
// TCTI and the ESAPI context, and every object loaded through it, flushed when it closes; the
// TCG key templates the agent uses; ESAPI's allocations and the TSS's marshalling as imprint's
// types.

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>

#include <memory>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/error.h"
#include "device_agent/tpm.h"

namespace imprint::agent {

// A TPM call's failure as the station should see it: the call and the TSS's decoding of `rc`.
Error TpmError(const char* call, TSS2_RC rc);

template <typename T>
struct EsysFree {
  void operator()(T* p) const { Esys_Free(p); }
};
template <typename T>
using EsysPtr = std::unique_ptr<T, EsysFree<T>>;

template <typename T, typename Marshal>
Result<Bytes> MarshalAll(const T& value, Marshal marshal) {
  Bytes out(sizeof(T) + 2);
  size_t offset = 0;
  if (marshal(&value, out.data(), out.size(), &offset) != TSS2_RC_SUCCESS) {
    return Fail(Code::kInternal, "TPM structure does not marshal");
  }
  out.resize(offset);
  return out;
}

template <typename T, typename Unmarshal>
Result<T> UnmarshalAll(ByteView bytes, Unmarshal unmarshal, const char* what) {
  T value = {};
  size_t offset = 0;
  if (bytes.empty() || unmarshal(bytes.data(), bytes.size(), &offset, &value) != TSS2_RC_SUCCESS ||
      offset != bytes.size()) {
    return Fail(Code::kInvalidArgument, std::string(what) + " does not decode");
  }
  return value;
}

// One connection to the TPM: the TCTI and the ESAPI context, and every object loaded through
// it, flushed when it closes.

// The agent's keys (TCG templates): an ECC key with `attributes` and signing `scheme`
// (TPM2_ALG_ECDSA with SHA-256, or TPM2_ALG_NULL), NIST P-256, SHA-256 name.
TPM2B_PUBLIC EccTemplate(TPMA_OBJECT attributes, TPM2_ALG_ID scheme);
// The storage root key (TCG's ECC P-256 SRK template), made again from the owner hierarchy's
// seed whenever it is needed: the same key every time.
TPM2B_PUBLIC SrkTemplate();
// The AK: a restricted ECDSA P-256 signing key made in the TPM.
TPM2B_PUBLIC AkTemplate();
// EK Credential Profile template L-1: RSA 2048, AES-128-CFB, the EK policy.
TPM2B_PUBLIC EkTemplate();
inline constexpr TPM2_HANDLE kRsaEkPersistentHandle = 0x81010001;

class TpmConnection {
 public:
  // UNAVAILABLE when the TCTI does not reach a TPM.
  static Result<std::unique_ptr<TpmConnection>> Open(const std::string& tcti_conf);
  ~TpmConnection();
  TpmConnection(const TpmConnection&) = delete;
  TpmConnection& operator=(const TpmConnection&) = delete;

  ESYS_CONTEXT* ctx() { return ctx_; }
  Result<ESYS_TR> CreatePrimary(ESYS_TR hierarchy, const TPM2B_PUBLIC& templ,
                                EsysPtr<TPM2B_PUBLIC>* out_public = nullptr);
  // The device key, loaded under the SRK (which is flushed again: the key stays loaded).
  Result<ESYS_TR> LoadKey(const TpmKeyBlob& key);
  void Flush(ESYS_TR handle);
  // Flushed when the connection closes.
  void Track(ESYS_TR handle) { loaded_.push_back(handle); }
  // The RSA EK: the one made persistent at the TCG's handle 0x81010001 when it is there and has
  // the template's public area (making an RSA key again costs a TPM a long time), else made
  // again from the endorsement seed with the template (the same key).
  Result<ESYS_TR> EndorsementKey();
  // TPM2_Certify of the loaded `key` by the AK with `nonce` as qualifying data.
  Result<TpmCertification> Certify(ESYS_TR key, ByteView nonce);

 private:
  TpmConnection() = default;
  TSS2_TCTI_CONTEXT* tcti_ = nullptr;
  ESYS_CONTEXT* ctx_ = nullptr;
  std::vector<ESYS_TR> loaded_;
};

}  // namespace imprint::agent
