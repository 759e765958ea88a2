#include "device_agent/harness.h"

#include <signal.h>

#include <algorithm>
#include <cstdio>

#include "common/file_util.h"
#include "common/log.h"
#include "common/pkcs11/uri.h"
#include "common/signals.h"

namespace imprint::agent {
namespace {

std::string SimulatedId(const std::string& prefix, int index) {
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "%05d", index);
  return prefix + "-" + buffer;
}

}  // namespace

Result<std::unique_ptr<Harness>> Harness::Start(const HarnessOptions& o) {
  std::unique_ptr<Harness> h(new Harness());
  if (o.key_backend == "pkcs11") {
    IMPRINT_ASSIGN_OR_RETURN(p11::Uri uri, p11::Uri::Parse(o.token_uri));
    IMPRINT_ASSIGN_OR_RETURN(h->module_, p11::Module::Load(o.pkcs11_module));
    IMPRINT_ASSIGN_OR_RETURN(CK_SLOT_ID slot, h->module_->FindTokenSlot(uri));
    IMPRINT_ASSIGN_OR_RETURN(Secret pin, ReadPinFile(o.pin_file));
    IMPRINT_ASSIGN_OR_RETURN(auto pool,
                             p11::SessionPool::Open(h->module_, slot, std::move(pin), 4));
    h->pool_ = std::move(pool);
  } else if (o.key_backend == "tpm") {
    size_t devices = o.store.empty() ? static_cast<size_t>(std::max(o.count, 0)) : 1;
    if (o.tpm_tctis.size() != devices) {
      return Fail(Code::kInvalidArgument, "key backend tpm: give one --tpm-tcti per device (" +
                                              std::to_string(devices) + ")");
    }
  } else if (o.key_backend != "file") {
    return Fail(Code::kInvalidArgument, "key backend must be file, pkcs11 or tpm");
  }
  if (!o.store.empty()) {
    if (o.hardware_id.empty()) return Fail(Code::kInvalidArgument, "--hardware-id is required");
    IMPRINT_RETURN_IF_ERROR(h->Add(0, o.hardware_id, o.store, o));
    return h;
  }
  if (o.count < 1 || o.count > 10000)
    return Fail(Code::kInvalidArgument, "--simulate takes 1..10000");
  IMPRINT_RETURN_IF_ERROR(MakePrivateDirectory(o.store_root, 0700));
  for (int i = 1; i <= o.count; ++i) {
    std::string id = SimulatedId(o.id_prefix, i);
    IMPRINT_RETURN_IF_ERROR(h->Add(static_cast<size_t>(i - 1), id, o.store_root + "/" + id, o));
  }
  return h;
}

Status Harness::Add(size_t index, const std::string& hardware_id, const std::string& dir,
                    const HarnessOptions& o) {
  IMPRINT_ASSIGN_OR_RETURN(auto store, DeviceStore::Open(dir));
  std::unique_ptr<KeyBackend> keys =
      pool_                    ? MakePkcs11KeyBackend(pool_, "device:" + hardware_id)
      : o.key_backend == "tpm" ? MakeTpmKeyBackend(dir, o.tpm_tctis.at(index), o.tpm_attestation)
                               : MakeFileKeyBackend(dir);
  IMPRINT_ASSIGN_OR_RETURN(
      auto device, Device::Open({hardware_id, o.model, "1.0.0", o.ca_root_sha256}, std::move(store),
                                std::move(keys)));
  Served s;
  s.device = std::move(device);
  if (o.make_service) {
    s.service = o.make_service(*s.device);
  } else {
    s.service = std::make_unique<AgentService>(*s.device);
  }
  grpc::ServerBuilder builder;
  int port = 0;
  // The fixture link (USB network, loopback in tests) is point to point inside the factory.
  builder.AddListeningPort(o.listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(s.service.get());
  builder.SetMaxReceiveMessageSize(64 * 1024);
  s.server = builder.BuildAndStart();
  if (!s.server || port == 0) return Fail(Code::kUnavailable, "cannot listen on " + o.listen);
  addresses_.push_back(ListenHost(o.listen) + ":" + std::to_string(port));
  served_.push_back(std::move(s));
  return {};
}

Harness::~Harness() { Shutdown(); }

void Harness::Shutdown() {
  for (auto& s : served_) {
    if (s.server) s.server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  }
  served_.clear();
}

Status ServeUntilSignal(const HarnessOptions& options, const std::string& devices_file) {
  sigset_t signals = BlockTerminationSignals();
  IMPRINT_ASSIGN_OR_RETURN(auto harness, Harness::Start(options));
  std::string list;
  for (const auto& address : harness->addresses()) {
    std::printf("listening on %s\n", address.c_str());
    list += address + "\n";
  }
  std::fflush(stdout);
  if (!devices_file.empty()) IMPRINT_RETURN_IF_ERROR(WriteFileAtomic(devices_file, list, 0644));
  WaitForTermination(signals);
  harness->Shutdown();
  return {};
}

}  // namespace imprint::agent
