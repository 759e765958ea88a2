#include "device_agent/device.h"

#include <ctime>

#include "common/base64.h"
#include "common/matter/attestation.h"
#include "common/proof.h"
#include "common/x509/chain.h"
#include "common/x509/csr.h"
#include "common/x509/ecdsa_signature.h"
#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"
#include "common/x509/key_policy.h"

namespace imprint::agent {
namespace {

constexpr size_t kMaxSecrets = 16;
constexpr size_t kMaxSecretBytes = 1024;  // a Matter CD in base64 takes up to 800
constexpr size_t kMaxChain = 4;

// The key type names CreateKeyAndCsr accepts, for a key found on start.
Result<std::string> KeyTypeName(EVP_PKEY* key) {
  IMPRINT_ASSIGN_OR_RETURN(auto info, x509::CheckKeyPolicy(key));
  switch (info.kind) {
    case x509::KeyKind::kEcP256:
      return std::string("P-256");
    case x509::KeyKind::kEcP384:
      return std::string("P-384");
    case x509::KeyKind::kRsa:
      return "RSA-" + std::to_string(info.bits);
  }
  return Fail(Code::kDataLoss, "device key of unknown type");
}

bool PrintableAscii(std::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<Device>> Device::Open(DeviceInfo info, std::unique_ptr<DeviceStore> store,
                                             std::unique_ptr<KeyBackend> keys) {
  std::unique_ptr<Device> device(new Device(std::move(info), std::move(store), std::move(keys)));
  // Before commit the key is the only record of KEY_GENERATED (the store writes nothing then).
  auto key = device->keys_->Load();
  if (!key) {
    if (key.error().code() != Code::kNotFound || device->store_->state() == State::kCommitted) {
      return std::unexpected(key.error());
    }
    return device;
  }
  device->key_ = std::move(*key);
  if (device->store_->state() != State::kCommitted) {
    IMPRINT_ASSIGN_OR_RETURN(std::string type, KeyTypeName(device->key_->public_key()));
    IMPRINT_RETURN_IF_ERROR(device->store_->MarkKeyGenerated(type));
  }
  return device;
}

Status Device::RefuseIfCommitted() const {
  if (store_->state() == State::kCommitted) {
    return Fail(Code::kFailedPrecondition, "device is committed and locked");
  }
  return {};
}

Identity Device::GetIdentity() {
  std::lock_guard lock(mu_);
  Identity id{info_, store_->state(), {}, keys_->tpm() != nullptr};
  if (id.state == State::kCommitted)
    id.certificate_der = store_->CommittedCertificate().value_or(Bytes{});
  return id;
}

Result<Bytes> Device::CreateKeyAndCsr(const std::string& key_type, bool fresh_key) {
  std::lock_guard lock(mu_);
  IMPRINT_RETURN_IF_ERROR(RefuseIfCommitted());
  bool have_key = key_ != nullptr;
  if (have_key && !fresh_key && !key_type.empty() && key_type != store_->key_type()) {
    return Fail(Code::kFailedPrecondition,
                "device already has a " + store_->key_type() + " key; ask for a fresh key");
  }
  if (!have_key || fresh_key) {
    std::string type = key_type.empty() ? "P-256" : key_type;
    IMPRINT_ASSIGN_OR_RETURN(key_, keys_->Generate(type));
    IMPRINT_RETURN_IF_ERROR(store_->MarkKeyGenerated(type));
  }
  return x509::BuildCsr(*key_, {{"CN", info_.hardware_id}});
}

Status Device::CheckCredentials(const Credentials& c) const {
  IMPRINT_ASSIGN_OR_RETURN(auto cert, x509::ParseCertificateDer(c.certificate_der));
  if (EVP_PKEY_eq(X509_get0_pubkey(cert.get()), key_->public_key()) != 1) {
    return Fail(Code::kInvalidArgument, "certificate is not for this device's key");
  }
  if (c.chain_der.empty() || c.chain_der.size() > kMaxChain) {
    return Fail(Code::kInvalidArgument, "chain must hold 1 to 4 certificates");
  }
  std::vector<x509::X509Ptr> chain;
  for (const auto& der : c.chain_der) {
    IMPRINT_ASSIGN_OR_RETURN(auto link, x509::ParseCertificateDer(der));
    chain.push_back(std::move(link));
  }
  std::vector<X509*> intermediates;
  for (size_t i = 0; i + 1 < chain.size(); ++i) intermediates.push_back(chain[i].get());
  if (!info_.ca_root_sha256.empty() && x509::Sha256(c.chain_der.back()) != info_.ca_root_sha256) {
    return Fail(Code::kInvalidArgument, "chain does not end in this device's trusted CA root");
  }
  auto linked = x509::VerifyChain(cert.get(), intermediates, chain.back().get());
  if (!linked)
    return Fail(Code::kInvalidArgument, "chain does not link: " + linked.error().message());
  if (c.secrets.size() > kMaxSecrets) return Fail(Code::kInvalidArgument, "too many secrets");
  for (const auto& [name, value] : c.secrets) {
    // A Matter device answers PASE with its verifier; its passcode belongs on the label only.
    if (name == "matter_passcode") {
      return Fail(Code::kInvalidArgument, "a Matter device must never be given its passcode");
    }
    if (name.empty() || name.size() > 64 || !PrintableAscii(name) || value.empty() ||
        value.size() > kMaxSecretBytes || !PrintableAscii(value.Reveal())) {
      return Fail(Code::kInvalidArgument, "secret " + name.substr(0, 64) + " is malformed");
    }
  }
  return {};
}

Status Device::InstallCredentials(Credentials credentials) {
  std::lock_guard lock(mu_);
  IMPRINT_RETURN_IF_ERROR(RefuseIfCommitted());
  if (key_ == nullptr) return Fail(Code::kFailedPrecondition, "device has no key yet");
  IMPRINT_RETURN_IF_ERROR(CheckCredentials(credentials));
  return store_->Stage(std::move(credentials));
}

Result<Bytes> Device::ProveIdentity(ByteView nonce) {
  std::lock_guard lock(mu_);
  // A committed device still proves its identity: that is what a station checks before it
  // counts the device as already provisioned.
  if (store_->state() != State::kCredentialsStaged && store_->state() != State::kCommitted) {
    return Fail(Code::kFailedPrecondition, "no credentials installed");
  }
  if (key_ == nullptr) return Fail(Code::kFailedPrecondition, "device has no key");
  if (nonce.size() < kMinNonceBytes || nonce.size() > kMaxNonceBytes) {
    return Fail(Code::kInvalidArgument, "nonce must be 16 to 64 bytes");
  }
  return key_->Sign(ProofMessage(nonce));
}

Result<Device::Attestation> Device::Attest(ByteView nonce, ByteView challenge) {
  std::lock_guard lock(mu_);
  if (store_->state() != State::kCredentialsStaged && store_->state() != State::kCommitted) {
    return Fail(Code::kFailedPrecondition, "no credentials installed");
  }
  if (key_ == nullptr) return Fail(Code::kFailedPrecondition, "device has no key");
  if (nonce.size() != matter::kAttestationNonceBytes ||
      challenge.size() != matter::kAttestationChallengeBytes) {
    return Fail(Code::kInvalidArgument, "attestation nonce must be 32 bytes, challenge 16");
  }
  auto cd_text = store_->FindSecret("matter_cd");
  if (!cd_text) return Fail(Code::kFailedPrecondition, "not a Matter device (no CD installed)");
  auto cd = Base64Decode(cd_text->Reveal());
  if (!cd) return Fail(Code::kFailedPrecondition, "the installed CD is not base64");
  // Matter's epoch is 2000-01-01 00:00:00 UTC (Matter Core Specification 7.19.2.5).
  constexpr int64_t kMatterEpochUnix = 946684800;
  int64_t now = std::time(nullptr) - kMatterEpochUnix;
  matter::AttestationElements e;
  e.certification_declaration = std::move(*cd);
  e.attestation_nonce.assign(nonce.begin(), nonce.end());
  e.timestamp = now > 0 ? static_cast<uint32_t>(now) : 0;
  Attestation out;
  IMPRINT_ASSIGN_OR_RETURN(out.elements, matter::BuildAttestationElements(e));
  IMPRINT_ASSIGN_OR_RETURN(Bytes der, key_->Sign(matter::AttestationTbs(out.elements, challenge)));
  IMPRINT_ASSIGN_OR_RETURN(out.signature,
                           x509::EcdsaDerToRaw(der, matter::kAttestationSignatureBytes / 2));
  return out;
}

Status Device::Commit() {
  std::lock_guard lock(mu_);
  IMPRINT_RETURN_IF_ERROR(RefuseIfCommitted());
  if (store_->state() != State::kCredentialsStaged) {
    return Fail(Code::kFailedPrecondition, "no credentials installed");
  }
  return store_->Commit();
}

}  // namespace imprint::agent
