#pragma once
// The station's identity in its state directory: station-key.pem (0600 from creation),
// station-cert.pem (certificate then the CA chain), ca-root.pem (the root it enrolled with).

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "common/error.h"
#include "common/secret.h"
#include "common/x509/openssl_types.h"
#include "factory_station/offline/token.h"
#include "factory_station/retry.h"

namespace imprint::station {

struct EnrollOptions {
  std::string ca_address;
  std::string ca_root_path;
  std::string name;
  std::string token_file;  // one-time enrollment token; mode 0600/0400 like a PIN file
  std::string state_dir;
  TokenConfig token;  // the station's own token for offline work; empty module: none
};

// Generates the station key, enrolls at the CA over server-authenticated TLS with the token,
// and stores the identity. FAILED_PRECONDITION if the state dir already holds an identity.
Status Enroll(const EnrollOptions& options);

class StationIdentity {
 public:
  static Result<StationIdentity> Load(const std::string& state_dir);

  // The CA's station listener: asks the open listener at `ca_address` (the address `serve`
  // prints as "listening on" and enrollment used; TLS with the enrolled root as the only trust
  // anchor) for the station port, on the same host (`ca_address` itself when the CA names
  // none: a CA from before the station listener). UNAVAILABLE when the CA does not answer.
  Result<std::string> FindStationListener(const std::string& ca_address) const;

  // An mTLS channel to the CA's station listener: the station certificate as client identity,
  // the enrolled root as the only trust anchor; reconnecting on `retry`'s schedule.
  std::shared_ptr<grpc::Channel> Connect(const std::string& station_address,
                                         const RetryPolicy& retry) const;
  X509* root() const { return root_.get(); }
  // Checks that `cert` chains to the root through the CA certificates the station holds.
  Status VerifyFromCa(X509* cert) const;

 private:
  Secret key_pem_;
  std::string cert_chain_pem_;
  std::string root_pem_;
  x509::X509Ptr root_;
};

}  // namespace imprint::station
