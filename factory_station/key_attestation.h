#pragma once
// The key attestation exchange between a device whose key is in its TPM and the CA
// (docs/attestation.md): the device's EK certificate and AK to the CA, the CA's credential and
// nonce back to the device, and the device's answer as the evidence IssueDeviceCertificate
// carries. The CA decides what the evidence is worth; the station only carries it.

#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>

#include "common/error.h"
#include "factory_station/agent_link.h"
#include "imprint/v1/ca.grpc.pb.h"

namespace imprint::station {

// One attempt of a call with its ClientContext, and a peer's way of making it with the
// station's retries (Provisioner's CaCall).
using CallAttempt = std::function<grpc::Status(grpc::ClientContext&)>;
using Caller = std::function<grpc::Status(const CallAttempt&)>;

// Errors name the step ("key attestation (device)" or "key attestation") and pass the peer's
// status through.
Result<imprint::v1::TpmKeyEvidence> AttestDeviceKey(AgentLink& agent,
                                                    imprint::v1::CertificateAuthority::Stub& ca,
                                                    const Caller& ca_call, const std::string& order,
                                                    const std::string& device_id);

}  // namespace imprint::station
