#pragma once
// A hostile device for end-to-end tests: imprint.v1.DeviceAgent served over a real Device, with
// one behaviour changed the way a tampered or rogue device would. Lives in tests only, so the
// shipped imprint-agent has no switch that weakens it.
//
// Modes:
//   wrong-proof-key    ProveIdentity signs with a key that is not the certified one
//   self-commit        as wrong-proof-key, then commits the staged credentials by itself and
//                      claims COMMITTED with the real certificate on the next run
//   csr-for-other-key  CreateKeyAndCsr sends a CSR for a key the device does not keep
//   claims-committed   GetIdentity claims COMMITTED with a certificate from a rogue CA
//   hostile-strings    GetIdentity's hardware id and model carry terminal escapes and newlines
//   wrong-attestation  Attest returns its own elements signed by a key that is not the DAC's
//   p384-key           CreateKeyAndCsr makes an EC P-384 key (a Matter DAC must be P-256)
//   borrowed-ek        (tpm keys) sends another TPM's EK certificate (file
//                      $IMPRINT_HOSTILE_EK_CERT) and, unable to open the credential, a guess
//   imported-key       (tpm keys) the CSR's key is made outside the TPM and loaded into it
//                      (LoadExternal) to be certified
//   certify-other-key  (tpm keys) certifies another key of its TPM instead of the device key
//   replay-certify     (tpm keys) fails its first AttestKey and keeps that certify; every later
//                      one replays it (an old nonce)

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>

#include <memory>
#include <string>

#include "device_agent/device.h"

namespace imprint::testing {

bool IsHostileAgentMode(const std::string& mode);

// nullptr when `mode` is unknown.
std::unique_ptr<grpc::Service> MakeHostileAgentService(const std::string& mode,
                                                       agent::Device& device);

}  // namespace imprint::testing
