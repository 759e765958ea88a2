#pragma once
// OfflineIssuer: issues device certificates with the station's subordinate key while the CA is
// out of reach, within its allowance (docs/offline.md): before not-after, at most `count`, each
// recorded in the OfflineLog before it leaves this process, and with the device profile and
// naming the CA signed into the allowance, so an offline device looks like an online one but
// chains root -> subordinate -> device.
// Thread-safe.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/offline/sealed_secret.h"
#include "common/offline/signed_allowance.h"
#include "common/pkcs11/signer.h"
#include "common/secret.h"
#include "common/x509/certificate_builder.h"
#include "common/x509/openssl_types.h"
#include "factory_station/offline/log.h"
#include "factory_station/offline/token.h"

namespace imprint::station {

struct OfflineCertificate {
  Bytes certificate_der;
  std::string serial_hex;
  Bytes challenge;               // 32 bytes from the token: what the device proves its key over
  std::vector<Bytes> chain_der;  // the subordinate CA, then the root
  bool again = false;            // the device's entry from an earlier run, same key
};

class OfflineIssuer {
 public:
  // The order's allowance as `allowance fetch` kept it, checked again against `root`: its
  // signature, its subordinate certificate and the token key. FAILED_PRECONDITION when there is
  // none, or it ended.
  static Result<std::unique_ptr<OfflineIssuer>> Open(const std::string& state_dir,
                                                     const std::string& order, X509* root);

  // The device's certificate for the key of `csr_der` (which must prove possession).
  // RESOURCE_EXHAUSTED past the count, FAILED_PRECONDITION past not-after, ALREADY_EXISTS when
  // the device is in the log with another key.
  Result<OfflineCertificate> Issue(const std::string& device, ByteView csr_der);
  // A default password from the token's random generator, as long as the CA's.
  Result<Secret> DrawPassword();
  // The password `device` commits, sealed to the CA's secret-transport key named in the
  // allowance and signed by the subordinate key, into the log for reconcile
  // (common/offline/sealed_secret.h). Nothing when the allowance names no such key.
  Status KeepPassword(const std::string& device, const Secret& password);
  // Signs the log's head (at the end of a run).
  Status Seal() { return log_->Seal(); }

  const offline::SignedAllowance& allowance() const { return allowance_; }
  OfflineLog& log() { return *log_; }
  // Certificates the allowance still permits.
  Result<int64_t> Remaining();

 private:
  OfflineIssuer() = default;
  Result<OfflineCertificate> Entry(const offline::LogEntry& entry, bool again) const;

  offline::SignedAllowance allowance_;
  x509::CertificateProfile profile_;
  x509::X509Ptr subordinate_;
  std::vector<Bytes> chain_der_;
  std::unique_ptr<StationToken> token_;
  std::unique_ptr<p11::Pkcs11Signer> key_;
  std::unique_ptr<OfflineLog> log_;
  // To the CA's secret-transport key, one ephemeral key for the run; empty when the allowance
  // names none.
  std::optional<offline::Sealer> sealer_;
};

}  // namespace imprint::station
