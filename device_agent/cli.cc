#include "device_agent/cli.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "common/file_util.h"
#include "common/log.h"
#include "common/x509/encoding.h"
#include "device_agent/harness.h"

namespace imprint::agent {

int RunCli(int argc, char** argv,
           std::function<std::unique_ptr<grpc::Service>(Device&)> make_service) {
  CLI::App app{"imprint-agent: the on-device provisioning agent (or a harness of simulated ones)"};
  HarnessOptions o;
  std::string devices_file;
  o.make_service = std::move(make_service);
  app.add_option("--simulate", o.count, "serve N simulated devices");
  app.add_option("--store-root", o.store_root, "directory holding one store per simulated device");
  app.add_option("--devices-file", devices_file, "write HOST:PORT of every device here");
  app.add_option("--id-prefix", o.id_prefix, "simulated hardware ids: PREFIX-00001 ...");
  app.add_option("--store", o.store, "single device: its store directory");
  app.add_option("--hardware-id", o.hardware_id, "single device: its hardware id");
  app.add_option("--model", o.model, "device model");
  std::string ca_root_path, ca_root_hex;
  app.add_option("--ca-root", ca_root_path,
                 "the only CA root the devices accept (PEM), as firmware would have it baked in");
  app.add_option("--ca-root-sha256", ca_root_hex, "the same, as the root's DER SHA-256 (hex)");
  app.add_option("--listen", o.listen, "HOST:PORT (port 0 picks free ports)");
  app.add_option("--key-backend", o.key_backend, "file, pkcs11 or tpm");
  app.add_option("--pkcs11-module", o.pkcs11_module, "pkcs11 backend: module path");
  app.add_option("--token-uri", o.token_uri, "pkcs11 backend: RFC 7512 token URI");
  app.add_option("--pin-file", o.pin_file, "pkcs11 backend: user PIN file (0600)");
  app.add_option("--tpm-tcti", o.tpm_tctis,
                 "tpm backend: the TPM of each device, as a TSS TCTI (e.g. swtpm:port=2321, "
                 "device:/dev/tpmrm0); once per device");
  app.add_flag(
      "--tpm-no-attestation", [&o](int64_t) { o.tpm_attestation = false; },
      "tpm backend: the devices do not offer key attestation");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!ca_root_path.empty() && !ca_root_hex.empty()) {
    std::cerr << "imprint-agent: give --ca-root or --ca-root-sha256, not both\n";
    return 2;
  }
  if (!ca_root_path.empty()) {
    auto pem = ReadWholeFile(ca_root_path);
    auto root = pem ? x509::ParseCertificatePem(*pem) : std::unexpected(pem.error());
    auto der = root ? x509::CertificateToDer(root->get()) : std::unexpected(root.error());
    if (!der) {
      std::cerr << "imprint-agent: --ca-root: " << der.error().ToString() << "\n";
      return 2;
    }
    o.ca_root_sha256 = x509::Sha256(*der);
  }
  if (!ca_root_hex.empty() &&
      (ca_root_hex.size() != 64 || !HexDecode(ca_root_hex, &o.ca_root_sha256))) {
    std::cerr << "imprint-agent: --ca-root-sha256 takes 64 hex digits\n";
    return 2;
  }
  if (o.ca_root_sha256.empty()) {
    LogWarning("no CA root pinned (--ca-root): the devices accept a chain to any root");
  }
  if (o.store.empty() && o.store_root.empty()) {
    std::cerr << "imprint-agent: give --store (one device) or --simulate N --store-root DIR\n";
    return 2;
  }
  auto status = ServeUntilSignal(o, devices_file);
  if (!status) {
    std::cerr << "imprint-agent: " << status.error().ToString() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace imprint::agent
