#include "factory_station/provisioner.h"

#include <openssl/rand.h>

#include <chrono>

#include "common/proof.h"
#include "common/rpc/status.h"
#include "common/secret.h"
#include "common/x509/chain.h"
#include "common/x509/csr.h"
#include "common/x509/encoding.h"

namespace imprint::station {
namespace {

namespace v1 = imprint::v1;

Error StepError(const char* step, const grpc::Status& status) {
  return rpc::FromGrpcStatus(status).WithContext(step);
}

}  // namespace

// The state of one device's run; each method is one step.
class Provisioner::Transaction {
 public:
  Transaction(Provisioner& p, const std::string& address)
      : p_(p), agent_(v1::DeviceAgent::NewStub(grpc::CreateChannel(
                   address, grpc::InsecureChannelCredentials()))) {}

  Result<Outcome> Run(const std::string& address, std::string* device_id);

 private:
  Status Identify();
  Result<Outcome> FinishCommitted();
  Status CreateCsr();
  Status Issue();
  Status VerifyIssued();
  Status FetchSecrets();
  Status Install();
  Status Prove();
  Status Commit();
  Status Report(bool verified, const std::string& detail);

  Provisioner& p_;
  std::unique_ptr<v1::DeviceAgent::Stub> agent_;
  v1::DeviceIdentity identity_;
  Bytes csr_der_;
  x509::PkeyPtr csr_key_;
  v1::IssueDeviceCertificateResponse issued_;
  x509::X509Ptr certificate_;
  v1::IssueDeviceSecretsResponse secrets_;
};

Status Provisioner::Transaction::Identify() {
  auto status = CallWithRetry(p_.retry_, [&](grpc::ClientContext& c) {
    return agent_->GetIdentity(&c, v1::GetIdentityRequest(), &identity_);
  });
  if (!status.ok()) return std::unexpected(StepError("identify", status));
  return {};
}

// A committed device: finish our own interrupted transaction, or skip someone else's device.
Result<Outcome> Provisioner::Transaction::FinishCommitted() {
  IMPRINT_ASSIGN_OR_RETURN(auto row, p_.journal_.Get(p_.order_, identity_.hardware_id()));
  auto cert = x509::ParseCertificateDer(AsBytes(identity_.certificate_der()));
  std::string serial = cert ? x509::SerialHex(cert->get()).value_or("") : "";
  if (!row || row->outcome == "provisioned" || row->serial_hex.empty() ||
      row->serial_hex != serial) {
    return Outcome::kSkipped;  // already provisioned; nothing is minted again
  }
  issued_.set_serial_hex(serial);
  IMPRINT_RETURN_IF_ERROR(Report(true, "committed"));
  return Outcome::kProvisioned;
}

Status Provisioner::Transaction::CreateCsr() {
  v1::CreateKeyAndCsrResponse response;
  auto status = CallWithRetry(p_.retry_, [&](grpc::ClientContext& c) {
    return agent_->CreateKeyAndCsr(&c, v1::CreateKeyAndCsrRequest(), &response);
  });
  if (!status.ok()) return std::unexpected(StepError("create key", status));
  csr_der_.assign(response.csr_der().begin(), response.csr_der().end());
  auto csr = x509::ParseAndVerifyCsr(csr_der_);
  if (!csr) return std::unexpected(csr.error().WithContext("device CSR"));
  csr_key_ = std::move(csr->public_key);
  return p_.journal_.Step(p_.order_, identity_.hardware_id(), "csr");
}

Status Provisioner::Transaction::Issue() {
  v1::IssueDeviceCertificateRequest request;
  request.set_order_id(p_.order_);
  request.set_device_id(identity_.hardware_id());
  request.set_csr_der(std::string(csr_der_.begin(), csr_der_.end()));
  auto status = CallWithRetry(p_.retry_, [&](grpc::ClientContext& c) {
    return p_.ca_.IssueDeviceCertificate(&c, request, &issued_);
  });
  if (!status.ok()) return std::unexpected(StepError("issue", status));
  IMPRINT_ASSIGN_OR_RETURN(certificate_,
                           x509::ParseCertificateDer(AsBytes(issued_.certificate_der())));
  return p_.journal_.RecordCertificate(p_.order_, identity_.hardware_id(), issued_.serial_hex(),
                                       Bytes(issued_.certificate_der().begin(),
                                             issued_.certificate_der().end()));
}

Status Provisioner::Transaction::VerifyIssued() {
  IMPRINT_ASSIGN_OR_RETURN(auto chain, p_.chains_.Get(issued_.chain_der()));
  std::vector<X509*> intermediates;
  for (size_t i = 0; i + 1 < chain->certificates.size(); ++i) {
    intermediates.push_back(chain->certificates[i].get());
  }
  // The root is the one pinned at enrollment, never the one in the response.
  auto verified = x509::VerifyChain(certificate_.get(), intermediates, p_.root_);
  if (!verified) return std::unexpected(verified.error().WithContext("certificate check"));
  if (EVP_PKEY_eq(X509_get0_pubkey(certificate_.get()), csr_key_.get()) != 1) {
    return Fail(Code::kInvalidArgument, "certificate check: key differs from the CSR's");
  }
  return {};
}

Status Provisioner::Transaction::FetchSecrets() {
  v1::IssueDeviceSecretsRequest request;
  request.set_order_id(p_.order_);
  request.set_device_id(identity_.hardware_id());
  auto status = CallWithRetry(p_.retry_, [&](grpc::ClientContext& c) {
    return p_.ca_.IssueDeviceSecrets(&c, request, &secrets_);
  });
  if (!status.ok()) return std::unexpected(StepError("secrets", status));
  return p_.journal_.Step(p_.order_, identity_.hardware_id(), "secrets");
}

Status Provisioner::Transaction::Install() {
  v1::InstallCredentialsRequest request;
  request.set_certificate_der(issued_.certificate_der());
  *request.mutable_chain_der() = issued_.chain_der();
  *request.mutable_secrets() = secrets_.secrets();
  v1::InstallCredentialsResponse response;
  auto status = CallWithRetry(p_.retry_, [&](grpc::ClientContext& c) {
    return agent_->InstallCredentials(&c, request, &response);
  });
  for (auto& s : *request.mutable_secrets()) s.mutable_value()->assign(s.value().size(), '\0');
  if (!status.ok()) return std::unexpected(StepError("install", status));
  return p_.journal_.Step(p_.order_, identity_.hardware_id(), "installed");
}

Status Provisioner::Transaction::Prove() {
  Bytes nonce(32);
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
    return Fail(Code::kInternal, "no random nonce");
  }
  v1::ProveIdentityRequest request;
  request.set_nonce(std::string(nonce.begin(), nonce.end()));
  v1::ProveIdentityResponse response;
  auto status = CallWithRetry(p_.retry_, [&](grpc::ClientContext& c) {
    return agent_->ProveIdentity(&c, request, &response);
  });
  if (!status.ok()) return std::unexpected(StepError("prove", status));
  EVP_PKEY* key = X509_get0_pubkey(certificate_.get());
  IMPRINT_ASSIGN_OR_RETURN(auto alg, x509::DefaultAlgorithmFor(key));
  auto verified = x509::VerifySignature(key, alg, ProofMessage(nonce),
                                        AsBytes(response.signature_der()));
  if (!verified) {
    return Fail(Code::kInvalidArgument, "prove: the device's signature does not match its certificate");
  }
  return p_.journal_.Step(p_.order_, identity_.hardware_id(), "proved");
}

Status Provisioner::Transaction::Commit() {
  for (const auto& secret : secrets_.secrets()) {
    if (secret.name() == "default_password") {
      IMPRINT_RETURN_IF_ERROR(p_.labels_.Append(p_.order_, identity_.hardware_id(),
                                                issued_.serial_hex(), Secret(secret.value())));
    }
  }
  v1::CommitResponse response;
  auto status = CallWithRetry(p_.retry_, [&](grpc::ClientContext& c) {
    return agent_->Commit(&c, v1::CommitRequest(), &response);
  });
  if (!status.ok()) return std::unexpected(StepError("commit", status));
  return p_.journal_.Step(p_.order_, identity_.hardware_id(), "committed");
}

Status Provisioner::Transaction::Report(bool verified, const std::string& detail) {
  v1::ReportProvisionedRequest request;
  request.set_order_id(p_.order_);
  request.set_device_id(identity_.hardware_id());
  request.set_serial_hex(issued_.serial_hex());
  request.set_verified(verified);
  request.set_detail(detail);
  v1::ReportProvisionedResponse response;
  auto status = CallWithRetry(p_.retry_, [&](grpc::ClientContext& c) {
    return p_.ca_.ReportProvisioned(&c, request, &response);
  });
  if (!status.ok()) return std::unexpected(StepError("report", status));
  return {};
}

Result<Outcome> Provisioner::Transaction::Run(const std::string& address,
                                              std::string* device_id) {
  IMPRINT_RETURN_IF_ERROR(Identify());
  *device_id = identity_.hardware_id();
  if (identity_.state() == v1::COMMITTED) return FinishCommitted();
  IMPRINT_RETURN_IF_ERROR(p_.journal_.Begin(p_.order_, *device_id, address));
  IMPRINT_RETURN_IF_ERROR(CreateCsr());
  IMPRINT_RETURN_IF_ERROR(Issue());
  // From here the CA knows the certificate: a failure is reported to it before giving up.
  Status checked = VerifyIssued();
  if (checked) checked = FetchSecrets();
  if (checked) checked = Install();
  if (checked) checked = Prove();
  if (!checked) {
    (void)Report(false, checked.error().message());
    return std::unexpected(checked.error());
  }
  IMPRINT_RETURN_IF_ERROR(Commit());
  IMPRINT_RETURN_IF_ERROR(Report(true, "provisioned"));
  return Outcome::kProvisioned;
}

DeviceResult Provisioner::Run(const std::string& address) {
  auto start = std::chrono::steady_clock::now();
  DeviceResult result;
  result.address = address;
  Transaction txn(*this, address);
  auto outcome = txn.Run(address, &result.device_id);
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (outcome) {
    result.outcome = *outcome;
  } else {
    result.outcome = Outcome::kFailed;
    result.error = outcome.error().ToString();
  }
  if (!result.device_id.empty()) {
    const char* name = result.outcome == Outcome::kProvisioned ? "provisioned"
                       : result.outcome == Outcome::kSkipped  ? "skipped"
                                                              : "failed";
    (void)journal_.Finish(order_, result.device_id, name, result.error,
                          static_cast<int64_t>(result.seconds * 1000));
  }
  return result;
}

}  // namespace imprint::station
