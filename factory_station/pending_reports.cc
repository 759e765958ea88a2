#include "factory_station/pending_reports.h"

#include "common/identifier.h"
#include "common/rpc/status.h"

namespace imprint::station {

Result<SentReports> SendPendingReports(Journal& journal,
                                       imprint::v1::CertificateAuthority::Stub& ca,
                                       grpc::ChannelInterface& channel, const RetryPolicy& retry) {
  IMPRINT_ASSIGN_OR_RETURN(auto pending, journal.PendingReports());
  SentReports sent;
  for (const PendingReport& p : pending) {
    imprint::v1::ReportProvisionedRequest request;
    request.set_order_id(p.order);
    request.set_device_id(p.device);
    request.set_serial_hex(p.serial_hex);
    request.set_verified(true);
    request.set_detail("provisioned; reported once the CA was back");
    request.set_proof_signature(std::string(p.proof.begin(), p.proof.end()));
    imprint::v1::ReportProvisionedResponse response;
    grpc::Status status = CallWithRetry(retry, channel, [&](grpc::ClientContext& context) {
      return ca.ReportProvisioned(&context, request, &response);
    });
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
        status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      return std::unexpected(rpc::FromGrpcStatus(status).WithContext("report of " + p.device));
    }
    std::string refusal;
    if (!status.ok()) {
      refusal = EscapeForDisplay(rpc::FromGrpcStatus(status).message(), 400);
      sent.refused.push_back(p.device + ": " + refusal);
    } else {
      ++sent.taken;
    }
    IMPRINT_RETURN_IF_ERROR(journal.Reported(p.order, p.device, refusal));
  }
  return sent;
}

}  // namespace imprint::station
