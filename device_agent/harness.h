#pragma once
// Harness: serves one or many devices, each with its own store directory, Device and gRPC
// server on its own port. `imprint-agent --simulate N` is a whole test line in one process.

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "device_agent/agent_service.h"
#include "device_agent/device.h"

namespace imprint::agent {

struct HarnessOptions {
  int count = 1;
  std::string store_root;         // devices live in store_root/<hardware_id>/
  std::string store;              // single-device mode: this exact directory
  std::string hardware_id;        // single-device mode: this id
  std::string id_prefix = "SIM";  // simulated ids: PREFIX-00001, ...
  std::string model = "imprint-sim";
  Bytes ca_root_sha256;  // the root every device trusts (DeviceInfo::ca_root_sha256)
  std::string listen = "127.0.0.1:0";
  // Makes each device's gRPC service; empty: AgentService. Tests wrap it to play a hostile
  // device (tests/support/hostile_agent.cc); nothing in imprint-agent sets it.
  std::function<std::unique_ptr<grpc::Service>(Device&)> make_service;
  // key_backend "pkcs11": keys in this token (label "device:<hardware_id>").
  std::string key_backend = "file";
  std::string pkcs11_module;
  std::string token_uri;
  std::string pin_file;
  // key_backend "tpm": device i (from 1) keeps its key in the TPM at tpm_tctis[i-1]; one TCTI
  // per device (a device has its own TPM).
  std::vector<std::string> tpm_tctis;
  bool tpm_attestation = true;  // false: the devices do not offer key attestation
};

class Harness {
 public:
  static Result<std::unique_ptr<Harness>> Start(const HarnessOptions& options);
  ~Harness();

  const std::vector<std::string>& addresses() const { return addresses_; }
  void Shutdown();

 private:
  Harness() = default;
  struct Served {
    std::unique_ptr<Device> device;
    std::unique_ptr<grpc::Service> service;
    std::unique_ptr<grpc::Server> server;
  };
  // Device `index` (0-based) of the harness.
  Status Add(size_t index, const std::string& hardware_id, const std::string& dir,
             const HarnessOptions& o);

  std::shared_ptr<p11::SessionPool> pool_;  // pkcs11 backend only
  std::shared_ptr<p11::Module> module_;
  std::vector<Served> served_;
  std::vector<std::string> addresses_;
};

// Runs a harness until SIGINT/SIGTERM: prints "listening on HOST:PORT" per device and, when
// `devices_file` is set, writes the addresses there (one per line) once all accept calls.
Status ServeUntilSignal(const HarnessOptions& options, const std::string& devices_file);

}  // namespace imprint::agent
