#include "tests/support/hostile_agent.h"

#include "common/file_util.h"
#include "common/matter/attestation.h"
#include "common/proof.h"
#include "common/x509/certificate_builder.h"
#include "common/x509/csr.h"
#include "common/x509/ecdsa_signature.h"
#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"
#include "device_agent/agent_service.h"

namespace imprint::testing {
namespace {

enum class Mode {
  kWrongProofKey,
  kSelfCommit,
  kCsrForOtherKey,
  kClaimsCommitted,
  kHostileStrings,
  kWrongAttestation,
  kP384Key,
  kBorrowedEk,
  kImportedKey,
  kCertifyOtherKey,
  kReplayCertify,
};

std::unique_ptr<x509::EvpSigner> OtherKey() {
  return x509::EvpSigner::Create(x509::GenerateKey("P-256").value()).value();
}

grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* context, grpc::Status status) {
  auto* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

grpc::Status Refused(const Error& e) {
  return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, e.message());
}

// A certificate for a fresh key from a self-made root with this line's names: what a rogue
// programmer on the fixture would install.
std::string RogueCertificate(const std::string& hardware_id) {
  auto root_signer = OtherKey();
  x509::CertificateProfile ca;
  ca.is_ca = true;
  ca.key_usage = {"keyCertSign"};
  x509::CertificateRequest root_request{&ca,
                                        {{{"CN", "Acme Devices Root CA"}}, {}, {}, {}},
                                        root_signer->public_key(),
                                        Bytes(16, 0x41)};
  auto root = x509::IssueCertificate(root_request, nullptr, *root_signer).value();
  auto device_key = OtherKey();
  x509::CertificateProfile leaf;
  leaf.extended_key_usage = {"clientAuth"};
  x509::CertificateRequest leaf_request{
      &leaf, {{{"CN", hardware_id}}, {}, {}, {}}, device_key->public_key(), Bytes(16, 0x42)};
  auto cert = x509::IssueCertificate(leaf_request, root.get(), *root_signer).value();
  Bytes der = x509::CertificateToDer(cert.get()).value();
  return std::string(der.begin(), der.end());
}

class HostileAgentService final : public imprint::v1::DeviceAgent::CallbackService {
 public:
  HostileAgentService(Mode mode, agent::Device& device)
      : mode_(mode), device_(device), honest_(device) {}

  grpc::ServerUnaryReactor* GetIdentity(grpc::CallbackServerContext* context,
                                        const imprint::v1::GetIdentityRequest* request,
                                        imprint::v1::DeviceIdentity* response) override {
    if (mode_ != Mode::kClaimsCommitted && mode_ != Mode::kHostileStrings) {
      return honest_.GetIdentity(context, request, response);
    }
    agent::Identity id = device_.GetIdentity();
    response->set_firmware_version(id.info.firmware_version);
    if (mode_ == Mode::kHostileStrings) {
      response->set_hardware_id(id.info.hardware_id + "\x1b[2J\nsummary: 999 provisioned");
      response->set_model("cam\x1b]0;owned\x07\r\nfailed: nothing");
      response->set_state(static_cast<imprint::v1::ProvisioningState>(id.state));
      return Done(context, grpc::Status::OK);
    }
    response->set_hardware_id(id.info.hardware_id);
    response->set_model(id.info.model);
    response->set_state(imprint::v1::COMMITTED);
    response->set_certificate_der(RogueCertificate(id.info.hardware_id));
    return Done(context, grpc::Status::OK);
  }

  grpc::ServerUnaryReactor* CreateKeyAndCsr(
      grpc::CallbackServerContext* context, const imprint::v1::CreateKeyAndCsrRequest* request,
      imprint::v1::CreateKeyAndCsrResponse* response) override {
    if (mode_ == Mode::kP384Key) {
      auto csr = device_.CreateKeyAndCsr("P-384", request->fresh_key());
      if (!csr) return Done(context, Refused(csr.error()));
      response->set_csr_der(std::string(csr->begin(), csr->end()));
      return Done(context, grpc::Status::OK);
    }
    if (mode_ != Mode::kCsrForOtherKey && mode_ != Mode::kImportedKey) {
      return honest_.CreateKeyAndCsr(context, request, response);
    }
    // The device makes and keeps its key; the CSR it sends is for another (imported-key: the
    // one made outside the TPM, which it loads into the TPM to have it certified).
    auto own = device_.CreateKeyAndCsr("", request->fresh_key());
    if (!own) return Done(context, Refused(own.error()));
    std::unique_ptr<x509::EvpSigner> fresh;
    x509::EvpSigner* other = nullptr;
    if (mode_ == Mode::kImportedKey) {
      other = &Imported();
    } else {
      fresh = OtherKey();
      other = fresh.get();
    }
    Bytes csr = x509::BuildCsr(*other, {{"CN", "device"}}).value();
    response->set_csr_der(std::string(csr.begin(), csr.end()));
    return Done(context, grpc::Status::OK);
  }

  grpc::ServerUnaryReactor* InstallCredentials(
      grpc::CallbackServerContext* context, const imprint::v1::InstallCredentialsRequest* request,
      imprint::v1::InstallCredentialsResponse* response) override {
    return honest_.InstallCredentials(context, request, response);
  }

  grpc::ServerUnaryReactor* ProveIdentity(grpc::CallbackServerContext* context,
                                          const imprint::v1::ProveIdentityRequest* request,
                                          imprint::v1::ProveIdentityResponse* response) override {
    if (mode_ != Mode::kWrongProofKey && mode_ != Mode::kSelfCommit) {
      return honest_.ProveIdentity(context, request, response);
    }
    Bytes nonce(request->nonce().begin(), request->nonce().end());
    auto honest = device_.ProveIdentity(nonce);  // the device's state rules still apply
    if (!honest) return Done(context, Refused(honest.error()));
    Bytes signature = OtherKey()->Sign(ProofMessage(nonce)).value();
    if (mode_ == Mode::kSelfCommit) (void)device_.Commit();
    response->set_signature_der(std::string(signature.begin(), signature.end()));
    return Done(context, grpc::Status::OK);
  }

  grpc::ServerUnaryReactor* Attest(grpc::CallbackServerContext* context,
                                   const imprint::v1::AttestRequest* request,
                                   imprint::v1::AttestResponse* response) override {
    if (mode_ != Mode::kWrongAttestation) return honest_.Attest(context, request, response);
    // The elements are the device's own; the signature is another key's.
    Bytes nonce(request->attestation_nonce().begin(), request->attestation_nonce().end());
    Bytes challenge(request->attestation_challenge().begin(),
                    request->attestation_challenge().end());
    auto honest = device_.Attest(nonce, challenge);
    if (!honest) return Done(context, Refused(honest.error()));
    Bytes der = OtherKey()->Sign(matter::AttestationTbs(honest->elements, challenge)).value();
    Bytes raw = x509::EcdsaDerToRaw(der, 32).value();
    response->set_attestation_elements(
        std::string(honest->elements.begin(), honest->elements.end()));
    response->set_signature(std::string(raw.begin(), raw.end()));
    return Done(context, grpc::Status::OK);
  }

  grpc::ServerUnaryReactor* Commit(grpc::CallbackServerContext* context,
                                   const imprint::v1::CommitRequest* request,
                                   imprint::v1::CommitResponse* response) override {
    return honest_.Commit(context, request, response);
  }

  grpc::ServerUnaryReactor* GetKeyAttestation(
      grpc::CallbackServerContext* context, const imprint::v1::GetKeyAttestationRequest* request,
      imprint::v1::KeyAttestationIdentity* response) override {
    if (mode_ != Mode::kBorrowedEk && mode_ != Mode::kImportedKey) {
      return honest_.GetKeyAttestation(context, request, response);
    }
    auto id = device_.GetKeyAttestation();
    if (!id) return Done(context, Refused(id.error()));
    response->set_ek_certificate_der(
        std::string(id->ek_certificate_der.begin(), id->ek_certificate_der.end()));
    response->set_ak_public(std::string(id->ak_public.begin(), id->ak_public.end()));
    response->set_key_public(std::string(id->key_public.begin(), id->key_public.end()));
    if (mode_ == Mode::kBorrowedEk) {
      // A genuine EK certificate, copied from another TPM (it is public).
      const char* path = std::getenv("IMPRINT_HOSTILE_EK_CERT");
      auto borrowed = ReadWholeFile(path != nullptr ? path : "", 64 * 1024);
      if (!borrowed) return Done(context, Refused(borrowed.error()));
      response->set_ek_certificate_der(*borrowed);
    } else {
      // The public area of the key made outside the TPM, as LoadExternal gives it.
      Bytes area;
      auto certified =
          device_.keys().tpm()->CertifyExternal(Imported().private_key(), Bytes(32, 0), &area);
      if (!certified) return Done(context, Refused(certified.error()));
      response->set_key_public(std::string(area.begin(), area.end()));
    }
    return Done(context, grpc::Status::OK);
  }

  grpc::ServerUnaryReactor* AttestKey(grpc::CallbackServerContext* context,
                                      const imprint::v1::AttestKeyRequest* request,
                                      imprint::v1::AttestKeyResponse* response) override {
    if (mode_ != Mode::kBorrowedEk && mode_ != Mode::kImportedKey &&
        mode_ != Mode::kCertifyOtherKey && mode_ != Mode::kReplayCertify) {
      return honest_.AttestKey(context, request, response);
    }
    agent::Tpm* tpm = device_.keys().tpm();
    if (tpm == nullptr) return Done(context, Refused(Error(Code::kFailedPrecondition, "no TPM")));
    Bytes nonce(request->nonce().begin(), request->nonce().end());
    Bytes secret;
    if (mode_ == Mode::kBorrowedEk) {
      secret = OtherKey()->Sign(nonce).value();  // the TPM cannot open it: anything will do
      secret.resize(32);
    } else {
      auto opened = tpm->ActivateCredential(AsBytes(request->credential_blob()),
                                            AsBytes(request->encrypted_secret()));
      if (!opened) return Done(context, Refused(opened.error()));
      secret = std::move(*opened);
    }
    Result<agent::TpmCertification> certified = Fail(Code::kInternal, "unset");
    if (mode_ == Mode::kImportedKey) {
      Bytes area;
      certified = tpm->CertifyExternal(Imported().private_key(), nonce, &area);
    } else if (mode_ == Mode::kCertifyOtherKey) {
      auto other = tpm->CreateSigningKey();
      if (!other) return Done(context, Refused(other.error()));
      certified = tpm->Certify(*other, nonce);
    } else {
      auto key = device_.keys().TpmKey();
      if (!key) return Done(context, Refused(key.error()));
      certified = tpm->Certify(*key, nonce);
    }
    if (!certified) return Done(context, Refused(certified.error()));
    if (mode_ == Mode::kReplayCertify) {
      // The first answer is kept and the attempt failed; every later one replays it.
      if (!saved_) {
        saved_ = *certified;
        return Done(context, Refused(Error(Code::kFailedPrecondition, "TPM busy")));
      }
      certified = *saved_;
    }
    response->set_activated_secret(std::string(secret.begin(), secret.end()));
    response->set_certify_info(
        std::string(certified->certify_info.begin(), certified->certify_info.end()));
    response->set_certify_signature(
        std::string(certified->signature.begin(), certified->signature.end()));
    return Done(context, grpc::Status::OK);
  }

 private:
  x509::EvpSigner& Imported() {
    if (!imported_) imported_ = OtherKey();
    return *imported_;
  }

  Mode mode_;
  agent::Device& device_;
  agent::AgentService honest_;
  std::unique_ptr<x509::EvpSigner> imported_;     // imported-key: made outside the TPM
  std::optional<agent::TpmCertification> saved_;  // replay-certify: the first answer
};

}  // namespace

bool IsHostileAgentMode(const std::string& mode) {
  return mode == "wrong-proof-key" || mode == "self-commit" || mode == "csr-for-other-key" ||
         mode == "claims-committed" || mode == "hostile-strings" || mode == "wrong-attestation" ||
         mode == "p384-key" || mode == "borrowed-ek" || mode == "imported-key" ||
         mode == "certify-other-key" || mode == "replay-certify";
}

std::unique_ptr<grpc::Service> MakeHostileAgentService(const std::string& mode,
                                                       agent::Device& device) {
  Mode m;
  if (mode == "wrong-proof-key") {
    m = Mode::kWrongProofKey;
  } else if (mode == "self-commit") {
    m = Mode::kSelfCommit;
  } else if (mode == "csr-for-other-key") {
    m = Mode::kCsrForOtherKey;
  } else if (mode == "claims-committed") {
    m = Mode::kClaimsCommitted;
  } else if (mode == "hostile-strings") {
    m = Mode::kHostileStrings;
  } else if (mode == "wrong-attestation") {
    m = Mode::kWrongAttestation;
  } else if (mode == "p384-key") {
    m = Mode::kP384Key;
  } else if (mode == "borrowed-ek") {
    m = Mode::kBorrowedEk;
  } else if (mode == "imported-key") {
    m = Mode::kImportedKey;
  } else if (mode == "certify-other-key") {
    m = Mode::kCertifyOtherKey;
  } else if (mode == "replay-certify") {
    m = Mode::kReplayCertify;
  } else {
    return nullptr;
  }
  return std::make_unique<HostileAgentService>(m, device);
}

}  // namespace imprint::testing
