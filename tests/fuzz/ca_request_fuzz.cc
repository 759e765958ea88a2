// Fuzz target: the CA's IssueDeviceCertificate handler (protobuf bytes in, Status out) on a
// real CA: SoftHSM token, key ceremony, station and order, Authority and Writer in process.
#include <cstddef>
#include <cstdint>
#include <sstream>

#include "ca/admin_cli.h"
#include "ca/authority.h"
#include "ca/store/store.h"
#include "imprint/v1/ca.pb.h"
#include "tests/support/softhsm_token.h"

namespace {

struct Ca {
  Ca() : token("imprint-ca", false) {
    std::ostringstream toml;
    toml << "[hsm]\nmodule = \"" << imprint::testing::kSoftHsmModule
         << "\"\ntoken_uri = \"pkcs11:token=imprint-ca\"\npin_file = \""
         << token.pin_file().string() << "\"\n[ca]\nstate_dir = \""
         << (token.dir() / "state").string() << "\"\norganization = \"Fuzz\"\n";
    imprint::testing::WriteFile(token.dir() / "ca.toml", toml.str(), 0644);
    config = imprint::ca::CaConfig::Load((token.dir() / "ca.toml").string()).value();
    std::ostringstream out;
    (void)imprint::ca::Init(config, false, out);
    (void)imprint::ca::StationAddCommand(config, "line-1");
    auto db = imprint::ca::OpenCaDatabase(config).value();
    (void)db->Exec("UPDATE stations SET status = 'active' WHERE name = 'line-1'");
    (void)imprint::ca::OrderCreateCommand(config, {"PO-1", "fuzz", 1000000000, {"line-1"}});
    certs = imprint::ca::CaCertificates::Load(config).value();
    hsm = imprint::ca::CaHsm::Open(config).value();
    (void)hsm->LoadKeys(false);
    reads = imprint::ca::OpenCaReadPool(config, 2).value();
    anchor = std::make_unique<imprint::ca::AuditAnchor>(hsm->pool(),
                                                        imprint::ca::MakeSealLocker(config));
    writer = std::make_unique<imprint::ca::Writer>(
        imprint::ca::OpenCaDatabase(config).value(),
        imprint::ca::SealPolicy{&hsm->audit(), anchor.get(), config.checkpoint_every});
    authority = std::make_unique<imprint::ca::Authority>(config, *hsm, certs, *reads, *writer);
  }
  imprint::testing::SoftHsmToken token;
  imprint::ca::CaConfig config;
  imprint::ca::CaCertificates certs;
  std::unique_ptr<imprint::ca::CaHsm> hsm;
  std::unique_ptr<imprint::ca::AuditAnchor> anchor;
  std::unique_ptr<imprint::sql::ConnectionPool> reads;
  std::unique_ptr<imprint::ca::Writer> writer;
  std::unique_ptr<imprint::ca::Authority> authority;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Ca* ca = new Ca();  // lives for the whole run; the token dir goes with the process
  imprint::v1::IssueDeviceCertificateRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  imprint::ca::IssueRequest r{request.order_id(), request.device_id(),
                              imprint::Bytes(request.csr_der().begin(), request.csr_der().end()),
                              request.profile()};
  auto result = ca->authority->IssueDeviceCertificate("line-1", r);
  if (!result && result.error().code() == imprint::Code::kInternal) __builtin_trap();
  return 0;
}
