#include "factory_station/provisioner.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <chrono>
#include <utility>

#include "common/identifier.h"
#include "common/log.h"
#include "common/matter/attestation.h"
#include "common/matter/onboarding.h"
#include "common/proof.h"
#include "common/rpc/status.h"
#include "common/secret.h"
#include "common/x509/chain.h"
#include "common/x509/csr.h"
#include "common/x509/ecdsa_signature.h"
#include "common/x509/encoding.h"
#include "common/x509/openssl_error.h"
#include "common/x509/signer.h"
#include "factory_station/agent_link.h"
#include "factory_station/key_attestation.h"

namespace imprint::station {
namespace {

namespace v1 = imprint::v1;

void WipeSecrets(v1::IssueDeviceSecretsResponse& response) {
  for (auto& s : *response.mutable_secrets()) {
    OPENSSL_cleanse(s.mutable_value()->data(), s.value().size());
  }
}

Error StepError(const char* step, const grpc::Status& status) {
  return rpc::FromGrpcStatus(status).WithContext(step);
}

// A peer that did not answer in time, not one that answered no.
bool IsTransient(Code code) {
  return code == Code::kUnavailable || code == Code::kDeadlineExceeded || code == Code::kAborted;
}

}  // namespace

// The state of one device's run; each method is one step.
class Provisioner::Transaction {
 public:
  Transaction(Provisioner& p, const std::string& address)
      : p_(p), offline_(p.offline_.load()), agent_(OpenAgentLink(address, p.retry_)) {}

  // The secrets the CA sent live in secrets_ until the device has them; wiped here.
  ~Transaction() { WipeSecrets(secrets_); }

  Result<Outcome> Run(const std::string& address, std::string* device_id);

 private:
  Status Identify();
  Result<Outcome> FinishCommitted();
  Result<Outcome> FinishCommittedOffline();
  Status IssueOffline();
  Status CreateCsr();
  // A device whose key is in its TPM proves it (factory_station/key_attestation.h); the
  // evidence goes into the issuance request.
  Status AttestKey(v1::TpmKeyEvidence* evidence);
  Status Issue();
  Status VerifyIssued();
  Status CheckAndInstall();
  Status FetchSecrets();
  Status Install();
  Result<Bytes> ProveOver(ByteView nonce, X509* certificate);
  // A Matter device attests with `nonce` (the CA's challenge) and a fresh 16-byte challenge;
  // the signature is checked with `certificate`'s key and kept in proof_.
  Status AttestOver(ByteView nonce, X509* certificate);
  Status Prove();
  Status AppendMatterLabel();
  Status Commit();
  bool CommittedAlready();
  Status Report(bool verified, const std::string& detail);

  // A CA call, with the station's retries; `ca_lost_` says whether the CA stayed out of reach past
  // the retries.
  template <typename Call>
  grpc::Status CaCall(Call&& call) {
    grpc::Status status = CallWithRetry(p_.retry_, *p_.ca_channel_, std::forward<Call>(call));
    ca_lost_ = status.error_code() == grpc::StatusCode::UNAVAILABLE ||
               status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
    return status;
  }
  // After `failed`: when it was the CA that stayed away and the run may go on under its
  // allowance, this device goes on offline from here.
  bool SwitchOffline(const Status& failed) {
    if (failed || !ca_lost_ || offline_ != nullptr) return false;
    offline_ = p_.GoOffline(failed.error());
    return offline_ != nullptr;
  }

  Provisioner& p_;
  OfflineIssuer* offline_;  // set: this device is issued under the allowance
  bool ca_lost_ = false;
  // The device's link (gRPC or serial), or why it could not be opened.
  Result<std::unique_ptr<AgentLink>> agent_;
  v1::DeviceIdentity identity_;
  Bytes csr_der_;
  x509::PkeyPtr csr_key_;
  v1::IssueDeviceCertificateResponse issued_;
  x509::X509Ptr certificate_;
  v1::IssueDeviceSecretsResponse secrets_;
  Bytes proof_;  // the device's signature over the CA's challenge, for the report
  // A Matter device's attestation (docs/matter.md): what it signed, and the challenge this
  // station chose; proof_ holds the signature.
  Bytes attestation_elements_;
  Bytes attestation_challenge_;
};

Status Provisioner::Transaction::Identify() {
  auto status = (*agent_)->GetIdentity(&identity_);
  if (!status.ok()) return std::unexpected(StepError("identify", status));
  return {};
}

// A device that says it is committed is believed only as far as the CA and the device's own
// key bear it out: its certificate must be the one this CA recorded for it (so it chains to
// this CA), and it must prove it holds that certificate's key. Then it is either already
// provisioned (verified at the CA) or our interrupted transaction, reported now.
Result<Outcome> Provisioner::Transaction::FinishCommitted() {
  if (offline_) return FinishCommittedOffline();
  v1::GetDeviceRecordRequest request;
  request.set_device_id(identity_.hardware_id());
  v1::DeviceRecord record;
  auto status =
      CaCall([&](grpc::ClientContext& c) { return p_.ca_->GetDeviceRecord(&c, request, &record); });
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    return Fail(Code::kFailedPrecondition,
                "device claims to be provisioned, but this CA has no record of it");
  }
  if (!status.ok()) return std::unexpected(StepError("device record", status));
  if (record.certificate_der() != identity_.certificate_der()) {
    return Fail(Code::kFailedPrecondition,
                "device claims to be provisioned with a certificate this CA did not issue to it");
  }
  if (record.status() == "failed") {
    return Fail(Code::kFailedPrecondition,
                "device failed provisioning at the CA; an operator must reset it");
  }
  IMPRINT_ASSIGN_OR_RETURN(certificate_,
                           x509::ParseCertificateDer(AsBytes(record.certificate_der())));
  Bytes nonce(record.challenge().begin(), record.challenge().end());
  if (record.status() == "verified" || nonce.empty()) {
    nonce.resize(32);
    if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
      return Fail(Code::kInternal, "no random nonce");
    }
  }
  if (record.matter()) {
    IMPRINT_RETURN_IF_ERROR(AttestOver(nonce, certificate_.get()));
  } else {
    IMPRINT_ASSIGN_OR_RETURN(proof_, ProveOver(nonce, certificate_.get()));
  }
  if (record.status() == "verified") return Outcome::kSkipped;  // nothing is minted again
  if (record.order_id() != p_.order_) {
    return Fail(Code::kFailedPrecondition,
                "device is in progress on order " + record.order_id() + ", not this one");
  }
  issued_.set_serial_hex(record.serial_hex());
  IMPRINT_RETURN_IF_ERROR(Report(true, "committed"));
  IMPRINT_RETURN_IF_ERROR(p_.journal_.Reported(p_.order_, identity_.hardware_id(), ""));
  return Outcome::kProvisioned;
}

// Offline, the station's log stands where the CA's record does: the device's certificate must
// be the one logged for it, and it must prove that key over the logged challenge.
Result<Outcome> Provisioner::Transaction::FinishCommittedOffline() {
  IMPRINT_ASSIGN_OR_RETURN(auto logged, offline_->log().Find(identity_.hardware_id()));
  auto same = [&](const Bytes& der) {
    return identity_.certificate_der() == std::string(der.begin(), der.end());
  };
  if (!logged) {
    // Provisioned online by this station before the CA went away: the journal says so, and the
    // device proves the key of the certificate recorded there. Reported, or its report waits
    // for the CA: it is done. Committed before the CA heard of it: the device proves its key
    // over the CA's challenge and the report waits (Journal::DeferReport).
    IMPRINT_ASSIGN_OR_RETURN(auto record, p_.journal_.Find(p_.order_, identity_.hardware_id()));
    if (record && same(record->certificate_der)) {
      IMPRINT_ASSIGN_OR_RETURN(certificate_, x509::ParseCertificateDer(record->certificate_der));
      if (record->outcome == "provisioned") {
        Bytes nonce(32);
        if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
          return Fail(Code::kInternal, "no random nonce");
        }
        IMPRINT_ASSIGN_OR_RETURN(proof_, ProveOver(nonce, certificate_.get()));
        return Outcome::kSkipped;
      }
      if (record->challenge.empty()) {
        return Fail(Code::kFailedPrecondition,
                    "device committed a certificate from the CA that the CA has not been told "
                    "of; run provision again once the CA is back");
      }
      IMPRINT_ASSIGN_OR_RETURN(proof_, ProveOver(record->challenge, certificate_.get()));
      IMPRINT_RETURN_IF_ERROR(p_.journal_.DeferReport(p_.order_, identity_.hardware_id(), proof_));
      return Outcome::kProvisioned;
    }
  }
  if (!logged || !same(logged->certificate_der)) {
    return Fail(Code::kFailedPrecondition,
                "device claims to be provisioned with a certificate neither this station's "
                "allowance nor the CA, as this station recorded it, issued to it");
  }
  IMPRINT_ASSIGN_OR_RETURN(certificate_, x509::ParseCertificateDer(logged->certificate_der));
  IMPRINT_ASSIGN_OR_RETURN(bool proved, offline_->log().HasProof(identity_.hardware_id()));
  IMPRINT_ASSIGN_OR_RETURN(proof_, ProveOver(logged->challenge, certificate_.get()));
  if (proved) return Outcome::kSkipped;
  IMPRINT_RETURN_IF_ERROR(offline_->log().RecordProof(identity_.hardware_id(), proof_));
  return Outcome::kProvisioned;
}

Status Provisioner::Transaction::CreateCsr() {
  v1::CreateKeyAndCsrResponse response;
  auto status = (*agent_)->CreateKeyAndCsr(v1::CreateKeyAndCsrRequest(), &response);
  if (!status.ok()) return std::unexpected(StepError("create key", status));
  csr_der_.assign(response.csr_der().begin(), response.csr_der().end());
  auto csr = x509::ParseAndVerifyCsr(csr_der_);
  if (!csr) return std::unexpected(csr.error().WithContext("device CSR"));
  csr_key_ = std::move(csr->public_key);
  return p_.journal_.Step(p_.order_, identity_.hardware_id(), "csr");
}

// Within the allowance, with the station's subordinate key; the log entry is made before the
// certificate leaves the issuer. The response message carries it as the CA's answer would.
Status Provisioner::Transaction::IssueOffline() {
  auto offline = offline_->Issue(identity_.hardware_id(), csr_der_);
  if (!offline) {
    Code code = offline.error().code();
    if (code == Code::kResourceExhausted || code == Code::kFailedPrecondition) {
      std::lock_guard lock(p_.spent_mu_);
      if (!p_.allowance_spent_.exchange(true)) p_.spent_reason_ = offline.error().message();
    }
    return std::unexpected(offline.error().WithContext("issue offline"));
  }
  OfflineCertificate& issued = *offline;
  issued_.set_certificate_der(
      std::string(issued.certificate_der.begin(), issued.certificate_der.end()));
  for (const Bytes& der : issued.chain_der)
    issued_.add_chain_der(std::string(der.begin(), der.end()));
  issued_.set_serial_hex(issued.serial_hex);
  issued_.set_challenge(std::string(issued.challenge.begin(), issued.challenge.end()));
  IMPRINT_ASSIGN_OR_RETURN(certificate_, x509::ParseCertificateDer(issued.certificate_der));
  return p_.journal_.RecordCertificate(p_.order_, identity_.hardware_id(), issued.serial_hex,
                                       issued.certificate_der);
}

Status Provisioner::Transaction::AttestKey(v1::TpmKeyEvidence* evidence) {
  IMPRINT_ASSIGN_OR_RETURN(
      *evidence, AttestDeviceKey(
                     **agent_, *p_.ca_, [&](const CallAttempt& call) { return CaCall(call); },
                     p_.order_, identity_.hardware_id()));
  return p_.journal_.Step(p_.order_, identity_.hardware_id(), "attested");
}

Status Provisioner::Transaction::Issue() {
  if (offline_) return IssueOffline();
  v1::IssueDeviceCertificateRequest request;
  request.set_order_id(p_.order_);
  request.set_device_id(identity_.hardware_id());
  request.set_csr_der(std::string(csr_der_.begin(), csr_der_.end()));
  if (identity_.key_in_tpm()) IMPRINT_RETURN_IF_ERROR(AttestKey(request.mutable_tpm_evidence()));
  auto status =
      CaCall([&](grpc::ClientContext& c) { return p_.issuer_->Issue(c, request, &issued_); });
  if (!status.ok()) return std::unexpected(StepError("issue", status));
  IMPRINT_ASSIGN_OR_RETURN(certificate_,
                           x509::ParseCertificateDer(AsBytes(issued_.certificate_der())));
  return p_.journal_.RecordCertificate(
      p_.order_, identity_.hardware_id(), issued_.serial_hex(),
      Bytes(issued_.certificate_der().begin(), issued_.certificate_der().end()),
      Bytes(issued_.challenge().begin(), issued_.challenge().end()));
}

Status Provisioner::Transaction::VerifyIssued() {
  IMPRINT_ASSIGN_OR_RETURN(auto chain, p_.chains_.Get(issued_.chain_der()));
  std::vector<X509*> intermediates;
  for (size_t i = 0; i + 1 < chain->certificates.size(); ++i) {
    intermediates.push_back(chain->certificates[i].get());
  }
  // The root is the one pinned at enrollment, never the one in the response. A Matter DAC
  // chains to its PAA instead, which only the CA (authenticated by that root) names.
  X509* root = issued_.matter() ? chain->certificates.back().get() : p_.root_;
  auto verified = x509::VerifyChain(certificate_.get(), intermediates, root);
  if (!verified) return std::unexpected(verified.error().WithContext("certificate check"));
  if (EVP_PKEY_eq(X509_get0_pubkey(certificate_.get()), csr_key_.get()) != 1) {
    return Fail(Code::kInvalidArgument, "certificate check: key differs from the CSR's");
  }
  return {};
}

Status Provisioner::Transaction::FetchSecrets() {
  if (offline_) {
    IMPRINT_ASSIGN_OR_RETURN(Secret password, offline_->DrawPassword());
    auto* secret = secrets_.add_secrets();
    secret->set_name("default_password");
    secret->mutable_value()->assign(password.Reveal());
    return p_.journal_.Step(p_.order_, identity_.hardware_id(), "secrets");
  }
  v1::IssueDeviceSecretsRequest request;
  request.set_order_id(p_.order_);
  request.set_device_id(identity_.hardware_id());
  auto status = CaCall(
      [&](grpc::ClientContext& c) { return p_.ca_->IssueDeviceSecrets(&c, request, &secrets_); });
  if (!status.ok()) return std::unexpected(StepError("secrets", status));
  return p_.journal_.Step(p_.order_, identity_.hardware_id(), "secrets");
}

Status Provisioner::Transaction::Install() {
  v1::InstallCredentialsRequest request;
  request.set_certificate_der(issued_.certificate_der());
  *request.mutable_chain_der() = issued_.chain_der();
  for (const auto& secret : secrets_.secrets()) {
    // A Matter device answers with its verifier; its passcode goes on the label only.
    if (secret.name() != "matter_passcode") *request.add_secrets() = secret;
  }
  v1::InstallCredentialsResponse response;
  auto status = (*agent_)->InstallCredentials(request, &response);
  for (auto& s : *request.mutable_secrets()) {
    OPENSSL_cleanse(s.mutable_value()->data(), s.value().size());
  }
  if (!status.ok()) return std::unexpected(StepError("install", status));
  return p_.journal_.Step(p_.order_, identity_.hardware_id(), "installed");
}

// Asks the device to sign `nonce` and checks the signature with `certificate`'s key.
Result<Bytes> Provisioner::Transaction::ProveOver(ByteView nonce, X509* certificate) {
  v1::ProveIdentityRequest request;
  request.set_nonce(std::string(nonce.begin(), nonce.end()));
  v1::ProveIdentityResponse response;
  auto status = (*agent_)->ProveIdentity(request, &response);
  if (!status.ok()) return std::unexpected(StepError("prove", status));
  EVP_PKEY* key = X509_get0_pubkey(certificate);
  IMPRINT_ASSIGN_OR_RETURN(auto alg, x509::DefaultAlgorithmFor(key));
  Bytes signature(response.signature_der().begin(), response.signature_der().end());
  auto verified = x509::VerifySignature(key, alg, ProofMessage(nonce), signature);
  if (!verified) {
    return Fail(Code::kInvalidArgument,
                "prove: the device's signature does not match its certificate");
  }
  return signature;
}

// The device proves its key over the CA's challenge; the CA checks the same signature again
// when the station reports the device verified.
Status Provisioner::Transaction::Prove() {
  Bytes nonce(issued_.challenge().begin(), issued_.challenge().end());
  if (nonce.empty()) return Fail(Code::kFailedPrecondition, "the CA gave no challenge");
  if (issued_.matter()) {
    IMPRINT_RETURN_IF_ERROR(AttestOver(nonce, certificate_.get()));
  } else {
    IMPRINT_ASSIGN_OR_RETURN(proof_, ProveOver(nonce, certificate_.get()));
  }
  return p_.journal_.Step(p_.order_, identity_.hardware_id(), "proved");
}

Status Provisioner::Transaction::AttestOver(ByteView nonce, X509* certificate) {
  Bytes challenge(matter::kAttestationChallengeBytes);
  if (RAND_bytes(challenge.data(), static_cast<int>(challenge.size())) != 1) {
    return Fail(Code::kInternal, "no random attestation challenge");
  }
  v1::AttestRequest request;
  request.set_attestation_nonce(std::string(nonce.begin(), nonce.end()));
  request.set_attestation_challenge(std::string(challenge.begin(), challenge.end()));
  v1::AttestResponse response;
  auto status = (*agent_)->Attest(request, &response);
  if (!status.ok()) return std::unexpected(StepError("attest", status));
  Bytes elements(response.attestation_elements().begin(), response.attestation_elements().end());
  Bytes signature(response.signature().begin(), response.signature().end());
  auto der = x509::EcdsaRawToDer(signature, matter::kAttestationSignatureBytes / 2);
  if (!der ||
      !x509::VerifySignature(X509_get0_pubkey(certificate), x509::SignatureAlgorithm::kEcdsaSha256,
                             matter::AttestationTbs(elements, challenge), *der)) {
    x509::ClearOpenSslErrors();
    return Fail(Code::kInvalidArgument,
                "attest: the device's attestation signature does not match its DAC");
  }
  proof_ = std::move(signature);
  attestation_elements_ = std::move(elements);
  attestation_challenge_ = std::move(challenge);
  return {};
}

// The label of a Matter device: its passcode, QR payload and manual code (which carry the
// passcode), from the commissioning data the CA sent.
Status Provisioner::Transaction::AppendMatterLabel() {
  auto find = [&](const char* name) -> const std::string* {
    for (const auto& s : secrets_.secrets()) {
      if (s.name() == name) return &s.value();
    }
    return nullptr;
  };
  const std::string* passcode = find("matter_passcode");
  const std::string* discriminator = find("matter_discriminator");
  const std::string* vid = find("matter_vendor_id");
  const std::string* pid = find("matter_product_id");
  if (!passcode || !discriminator || !vid || !pid || passcode->size() != 8 ||
      passcode->find_first_not_of("0123456789") != std::string::npos || discriminator->empty() ||
      discriminator->size() > 4 ||
      discriminator->find_first_not_of("0123456789") != std::string::npos || vid->size() != 4 ||
      pid->size() != 4 || vid->find_first_not_of("0123456789ABCDEF") != std::string::npos ||
      pid->find_first_not_of("0123456789ABCDEF") != std::string::npos) {
    return Fail(Code::kInvalidArgument, "the CA's Matter commissioning data is malformed");
  }
  matter::OnboardingPayload payload;
  payload.vendor_id = static_cast<uint16_t>(std::stoul(*vid, nullptr, 16));
  payload.product_id = static_cast<uint16_t>(std::stoul(*pid, nullptr, 16));
  payload.discriminator = static_cast<uint16_t>(std::stoul(*discriminator));
  payload.passcode = static_cast<uint32_t>(std::stoul(*passcode));
  auto qr = matter::QrCodePayload(payload);
  auto manual = matter::ManualPairingCode(payload);
  payload.passcode = 0;
  if (!qr || !manual) return Fail(Code::kInvalidArgument, "the CA's Matter passcode is invalid");
  LabelWriter::MatterLabel label{Secret::CopyOf(*passcode),
                                 Secret::CopyOf(*qr),
                                 Secret::CopyOf(*manual),
                                 payload.discriminator,
                                 *vid,
                                 *pid};
  OPENSSL_cleanse(qr->data(), qr->size());
  OPENSSL_cleanse(manual->data(), manual->size());
  return p_.labels_.AppendMatter(p_.order_, identity_.hardware_id(), issued_.serial_hex(), label);
}

Status Provisioner::Transaction::Commit() {
  for (const auto& secret : secrets_.secrets()) {
    if (secret.name() == "default_password" && offline_) {
      // Offline, the CA learns it at reconcile, sealed to it; the station keeps no plain copy
      // but the label's.
      IMPRINT_RETURN_IF_ERROR(
          offline_->KeepPassword(identity_.hardware_id(), Secret::CopyOf(secret.value())));
    }
    if (secret.name() == "default_password") {
      IMPRINT_RETURN_IF_ERROR(p_.labels_.Append(p_.order_, identity_.hardware_id(),
                                                issued_.serial_hex(),
                                                Secret::CopyOf(secret.value())));
    }
  }
  if (issued_.matter()) IMPRINT_RETURN_IF_ERROR(AppendMatterLabel());
  IMPRINT_RETURN_IF_ERROR(p_.journal_.LabelFor(p_.order_, identity_.hardware_id(),
                                               AsBytes(issued_.certificate_der()),
                                               !!p_.on_provisioned_));
  v1::CommitResponse response;
  auto status = (*agent_)->Commit(&response);
  if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION && CommittedAlready()) {
    status = grpc::Status::OK;
  }
  if (!status.ok()) return std::unexpected(StepError("commit", status));
  return p_.journal_.Step(p_.order_, identity_.hardware_id(), "committed");
}

Status Provisioner::Transaction::Report(bool verified, const std::string& detail) {
  if (offline_) {
    // The CA learns both at reconcile: a proof from the log, a failure from a logged
    // certificate without one.
    if (!verified) return {};
    return offline_->log().RecordProof(identity_.hardware_id(), proof_);
  }
  v1::ReportProvisionedRequest request;
  request.set_order_id(p_.order_);
  request.set_device_id(identity_.hardware_id());
  request.set_serial_hex(issued_.serial_hex());
  request.set_verified(verified);
  request.set_detail(detail);
  if (verified) request.set_proof_signature(std::string(proof_.begin(), proof_.end()));
  if (verified && !attestation_elements_.empty()) {
    request.set_attestation_elements(
        std::string(attestation_elements_.begin(), attestation_elements_.end()));
    request.set_attestation_challenge(
        std::string(attestation_challenge_.begin(), attestation_challenge_.end()));
  }
  v1::ReportProvisionedResponse response;
  auto status = CaCall(
      [&](grpc::ClientContext& c) { return p_.ca_->ReportProvisioned(&c, request, &response); });
  if (!status.ok()) return std::unexpected(StepError("report", status));
  return {};
}

// A device that lost its answer to Commit (a serial device reset after its commit point; the
// retransmitted Commit then finds it locked) is committed if it says so with this certificate.
bool Provisioner::Transaction::CommittedAlready() {
  v1::DeviceIdentity now;
  return (*agent_)->GetIdentity(&now).ok() && now.state() == v1::COMMITTED &&
         now.hardware_id() == identity_.hardware_id() &&
         now.certificate_der() == issued_.certificate_der();
}

Result<Outcome> Provisioner::Transaction::Run(const std::string& address, std::string* device_id) {
  if (!agent_) return std::unexpected(agent_.error().WithContext("device link"));
  IMPRINT_RETURN_IF_ERROR(Identify());
  // The CA's rules for ids, before the id reaches the journal, the labels or the terminal.
  if (!IsValidIdentifier(identity_.hardware_id())) {
    // Escaped with the rest of the error when it is shown (Provisioner::Run).
    return Fail(Code::kInvalidArgument, "device reported an invalid hardware id \"" +
                                            identity_.hardware_id().substr(0, 80) + "\"");
  }
  *device_id = identity_.hardware_id();
  if (identity_.state() == v1::COMMITTED) {
    auto finished = FinishCommitted();
    if (!finished && SwitchOffline(std::unexpected(finished.error()))) {
      return FinishCommittedOffline();
    }
    return finished;
  }
  IMPRINT_RETURN_IF_ERROR(p_.journal_.Begin(p_.order_, *device_id, address));
  IMPRINT_RETURN_IF_ERROR(CreateCsr());
  Status issued = Issue();
  if (SwitchOffline(issued)) issued = Issue();
  IMPRINT_RETURN_IF_ERROR(issued);
  // From here the CA knows the certificate: a verdict against the device (its certificate,
  // key or proof, or a refusal) is reported to it before giving up, and the CA records the
  // device failed until an operator resets it. A CA or fixture contact that stayed away past
  // the retries is no verdict: the device stays issued and the next run resumes it, as after a
  // station crash (reporting it, once the CA answered again, needed an operator for nothing).
  Status checked = CheckAndInstall();
  if (SwitchOffline(checked)) {
    // The CA's certificate is left unused (reconcile supersedes it); the device goes on under
    // the allowance with the key it made.
    WipeSecrets(secrets_);
    secrets_.Clear();
    issued_.Clear();
    checked = Issue();
    if (checked) checked = CheckAndInstall();
  }
  if (!checked) {
    if (!IsTransient(checked.error().code())) {
      (void)Report(false, EscapeForDisplay(checked.error().message(), 400));
    }
    return std::unexpected(checked.error());
  }
  IMPRINT_RETURN_IF_ERROR(Commit());
  Status reported = Report(true, "provisioned");
  if (SwitchOffline(reported)) {
    // Committed, and the CA did not hear of it: the report waits for it (reconcile sends it).
    IMPRINT_RETURN_IF_ERROR(p_.journal_.DeferReport(p_.order_, *device_id, proof_));
    return Outcome::kProvisioned;
  }
  IMPRINT_RETURN_IF_ERROR(reported);
  return Outcome::kProvisioned;
}

Status Provisioner::Transaction::CheckAndInstall() {
  IMPRINT_RETURN_IF_ERROR(VerifyIssued());
  IMPRINT_RETURN_IF_ERROR(FetchSecrets());
  IMPRINT_RETURN_IF_ERROR(Install());
  return Prove();
}

OfflineIssuer* Provisioner::GoOffline(const Error& why) {
  std::lock_guard lock(switch_mu_);
  if (OfflineIssuer* issuer = offline_.load()) return issuer;
  if (!fallback_ || fallback_tried_) return nullptr;
  fallback_tried_ = true;
  auto opened = fallback_();
  if (!opened) {
    LogWarning("the CA was lost mid-run (" + why.message() +
               ") and the line cannot go offline: " + opened.error().message());
    return nullptr;
  }
  owned_issuer_ = std::move(*opened);
  lost_ca_ = why.ToString();
  LogWarning("the CA was lost mid-run (" + lost_ca_ +
             "): the line goes on offline under allowance " + owned_issuer_->allowance().id);
  offline_.store(owned_issuer_.get());
  return owned_issuer_.get();
}

DeviceResult Provisioner::Run(const std::string& address) {
  auto start = std::chrono::steady_clock::now();
  DeviceResult result;
  result.address = address;
  Transaction txn(*this, address);
  auto outcome = txn.Run(address, &result.device_id);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (outcome) {
    result.outcome = *outcome;
  } else {
    result.outcome = Outcome::kFailed;
    // Errors carry text the device sent (its gRPC messages): never print it raw.
    result.error = EscapeForDisplay(outcome.error().ToString(), 1024);
  }
  if (!result.device_id.empty()) {
    const char* name = result.outcome == Outcome::kProvisioned ? "provisioned"
                       : result.outcome == Outcome::kSkipped   ? "skipped"
                                                               : "failed";
    auto finished = journal_.Finish(order_, result.device_id, name, result.error,
                                    static_cast<int64_t>(result.seconds * 1000));
    // Skipped may be our own transaction resumed: the label queue asks the journal.
    if (finished && result.outcome != Outcome::kFailed && on_provisioned_)
      on_provisioned_(result.device_id);
  }
  return result;
}

}  // namespace imprint::station
