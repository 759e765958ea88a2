#include "factory_station/matter_attest.h"

#include <grpcpp/grpcpp.h>

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/matter/attestation.h"
#include "common/rpc/status.h"
#include "factory_station/agent_link.h"

namespace imprint::station {
namespace {

std::string B64(const std::string& bytes) { return Base64Encode(AsBytes(bytes)); }

}  // namespace

Status AttestDevice(const std::string& address, ByteView nonce, ByteView challenge,
                    std::ostream& out) {
  if (nonce.size() != matter::kAttestationNonceBytes ||
      challenge.size() != matter::kAttestationChallengeBytes) {
    return Fail(Code::kInvalidArgument, "the nonce must be 32 bytes and the challenge 16");
  }
  IMPRINT_ASSIGN_OR_RETURN(auto agent, OpenAgentLink(address, RetryPolicy{}));
  imprint::v1::DeviceIdentity identity;
  auto status = agent->GetIdentity(&identity);
  if (!status.ok()) return std::unexpected(rpc::FromGrpcStatus(status).WithContext("identify"));
  imprint::v1::AttestRequest request;
  request.set_attestation_nonce(std::string(nonce.begin(), nonce.end()));
  request.set_attestation_challenge(std::string(challenge.begin(), challenge.end()));
  imprint::v1::AttestResponse response;
  status = agent->Attest(request, &response);
  if (!status.ok()) return std::unexpected(rpc::FromGrpcStatus(status).WithContext("attest"));
  nlohmann::json answer = {{"device_id", identity.hardware_id()},
                           {"certificate", B64(identity.certificate_der())},
                           {"attestation_elements", B64(response.attestation_elements())},
                           {"signature", B64(response.signature())}};
  out << answer.dump() << std::endl;
  return {};
}

}  // namespace imprint::station
