// Fuzz target: the agent's InstallCredentials input (protobuf bytes in, Status out), on a
// device with a key and a file store in a temp dir.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "device_agent/device.h"
#include "imprint/v1/agent.pb.h"

namespace {

imprint::agent::Device& TheDevice() {
  static std::unique_ptr<imprint::agent::Device> device = [] {
    std::string dir = "/tmp/imprint-install-fuzz-" + std::to_string(::getpid());
    std::filesystem::remove_all(dir);
    auto store = imprint::agent::DeviceStore::Open(dir).value();
    auto d = imprint::agent::Device::Open({"FUZZ-1", "fuzz", "1.0"}, std::move(store),
                                          imprint::agent::MakeFileKeyBackend(dir))
                 .value();
    (void)d->CreateKeyAndCsr("P-256", false);
    return d;
  }();
  return *device;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  imprint::v1::InstallCredentialsRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  imprint::agent::Credentials c;
  c.certificate_der.assign(request.certificate_der().begin(), request.certificate_der().end());
  for (const auto& der : request.chain_der()) c.chain_der.emplace_back(der.begin(), der.end());
  for (const auto& s : request.secrets())
    c.secrets.emplace_back(s.name(), imprint::Secret::CopyOf(s.value()));
  (void)TheDevice().InstallCredentials(std::move(c));
  return 0;
}
