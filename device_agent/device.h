#pragma once
// Device: one simulated (or real) device's provisioning logic behind imprint.v1.DeviceAgent,
// free of gRPC. States FACTORY_NEW -> KEY_GENERATED -> CREDENTIALS_STAGED -> COMMITTED; after
// COMMITTED every provisioning call is FAILED_PRECONDITION.
//
// Thread-safe: calls are serialised by an internal mutex (one device does one thing at a time).

#include <memory>
#include <mutex>
#include <string>

#include "common/bytes.h"
#include "device_agent/device_store.h"
#include "device_agent/key_backend.h"

namespace imprint::agent {

struct DeviceInfo {
  std::string hardware_id;
  std::string model;
  std::string firmware_version = "1.0.0";
  // SHA-256 of the DER root certificate the firmware trusts (baked in at build time): a chain
  // that ends in any other root is refused. Empty: any root (logged as a warning at start).
  Bytes ca_root_sha256;
};

struct Identity {
  DeviceInfo info;
  State state;
  Bytes certificate_der;    // committed devices only
  bool key_in_tpm = false;  // the key backend is a TPM that can attest the key
};

// The TPM's identity for key attestation (docs/attestation.md), marshalled TPM structures.
struct KeyAttestationIdentity {
  Bytes ek_certificate_der;
  Bytes ak_public;
  Bytes key_public;
};

struct KeyAttestation {
  Bytes activated_secret;
  TpmCertification certification;
};

class Device {
 public:
  static Result<std::unique_ptr<Device>> Open(DeviceInfo info, std::unique_ptr<DeviceStore> store,
                                              std::unique_ptr<KeyBackend> keys);

  Identity GetIdentity();
  // A CSR for the device key; generates one if there is none or `fresh_key` is set.
  // `key_type` empty: the existing key's type, or P-256.
  Result<Bytes> CreateKeyAndCsr(const std::string& key_type, bool fresh_key);
  // Checks the certificate is for this device's key, that the chain links and ends in the
  // trusted root, then stages.
  // INVALID_ARGUMENT changes nothing.
  Status InstallCredentials(Credentials credentials);
  // Signs ProofMessage(nonce) with the device key.
  Result<Bytes> ProveIdentity(ByteView nonce);
  // A Matter device's AttestationResponse (docs/matter.md): the attestation elements (the CD
  // it was given, `nonce`, a timestamp) and the DAC key's r || s over elements || challenge.
  // FAILED_PRECONDITION without Matter credentials.
  struct Attestation {
    Bytes elements;
    Bytes signature;
  };
  Result<Attestation> Attest(ByteView nonce, ByteView challenge);
  Status Commit();
  // Key attestation (device_tpm.cc): FAILED_PRECONDITION unless the key is in a TPM the agent
  // drives and has been made. Allowed in every state: a buyer may ask a committed device.
  Result<KeyAttestationIdentity> GetKeyAttestation();
  // ActivateCredential with the CA's blob, then Certify of the device key with `nonce`.
  Result<KeyAttestation> AttestKey(ByteView credential_blob, ByteView encrypted_secret,
                                   ByteView nonce);

  DeviceStore& store() { return *store_; }
  KeyBackend& keys() { return *keys_; }

 private:
  Device(DeviceInfo info, std::unique_ptr<DeviceStore> store, std::unique_ptr<KeyBackend> keys)
      : info_(std::move(info)), store_(std::move(store)), keys_(std::move(keys)) {}
  Status RefuseIfCommitted() const;
  Status CheckCredentials(const Credentials& c) const;

  std::mutex mu_;
  DeviceInfo info_;
  std::unique_ptr<DeviceStore> store_;
  std::unique_ptr<KeyBackend> keys_;
  std::unique_ptr<x509::Signer> key_;  // loaded once there is a key
};

}  // namespace imprint::agent
