#pragma once
// Small helpers for calling the CA service in tests.

#include <grpcpp/grpcpp.h>

#include <string>

#include "common/bytes.h"
#include "imprint/v1/ca.grpc.pb.h"

namespace imprint::testing {

struct IssueCall {
  grpc::Status status;
  imprint::v1::IssueDeviceCertificateResponse response;
};

inline IssueCall CallIssue(imprint::v1::CertificateAuthority::Stub& stub, const std::string& order,
                           const std::string& device, const Bytes& csr) {
  imprint::v1::IssueDeviceCertificateRequest request;
  request.set_order_id(order);
  request.set_device_id(device);
  request.set_csr_der(std::string(csr.begin(), csr.end()));
  IssueCall call;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  call.status = stub.IssueDeviceCertificate(&context, request, &call.response);
  return call;
}

inline grpc::Status CallSecrets(imprint::v1::CertificateAuthority::Stub& stub,
                                const std::string& order, const std::string& device,
                                imprint::v1::IssueDeviceSecretsResponse* response) {
  imprint::v1::IssueDeviceSecretsRequest request;
  request.set_order_id(order);
  request.set_device_id(device);
  grpc::ClientContext context;
  return stub.IssueDeviceSecrets(&context, request, response);
}

inline grpc::Status CallReport(imprint::v1::CertificateAuthority::Stub& stub,
                               const std::string& order, const std::string& device,
                               const std::string& serial, bool verified) {
  imprint::v1::ReportProvisionedRequest request;
  request.set_order_id(order);
  request.set_device_id(device);
  request.set_serial_hex(serial);
  request.set_verified(verified);
  request.set_detail(verified ? "ok" : "prove failed");
  imprint::v1::ReportProvisionedResponse response;
  grpc::ClientContext context;
  return stub.ReportProvisioned(&context, request, &response);
}

}  // namespace imprint::testing
