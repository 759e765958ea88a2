// imprint-bench: measures the HSM ceiling, the crypto floor, issuance through the server, and
// whole-line provisioning; each subcommand prints one JSON object as its last stdout line.
#include <CLI/CLI.hpp>
#include <iostream>

#include "bench/crypto_bench.h"
#include "bench/est_bench.h"
#include "bench/export_bench.h"
#include "bench/ocsp_bench.h"
#include "bench/scale_bench.h"
#include "bench/service_bench.h"

int main(int argc, char** argv) {
  using namespace imprint::bench;
  CLI::App app{"imprint-bench"};
  app.require_subcommand(1);
  CryptoOptions crypto;
  auto* hsm = app.add_subcommand("hsm", "raw C_Sign rate with the CA key: the HSM ceiling");
  auto* floor = app.add_subcommand("floor", "CSR verify + HSM sign on all cores: the crypto floor");
  for (auto* cmd : {hsm, floor}) {
    cmd->add_option("--config", crypto.config)->required();
    cmd->add_option("--threads", crypto.threads);
    cmd->add_option("--seconds", crypto.seconds);
  }
  IssueOptions issue;
  auto* issue_cmd = app.add_subcommand("issue", "issuance through the server over mTLS");
  issue_cmd->add_option("--ca", issue.cas, "CA HOST:PORT; repeat for several nodes of one store")
      ->required();
  issue_cmd->add_option("--station-dir", issue.station_dir)->required();
  issue_cmd->add_option("--order", issue.order)->required();
  issue_cmd->add_option("--clients", issue.clients);
  issue_cmd->add_option("--count", issue.count);
  issue_cmd->add_option("--rpc", issue.rpc, "unary, or stream (one issuance stream per client)");
  issue_cmd->add_option("--depth", issue.depth, "stream: requests in flight on each stream");
  issue_cmd->add_option("--ca-pid", issue.ca_pids,
                        "a CA node's process id (repeatable): report their CPU per certificate");
  issue_cmd->add_option("--store-pid", issue.store_pids,
                        "a database process id (repeatable): report its CPU per certificate");
  EstOptions est;
  auto* est_cmd = app.add_subcommand("est", "EST simpleenroll through the EST listener");
  est_cmd->add_option("--est", est.est, "the CA's [est] listen HOST:PORT")->required();
  est_cmd->add_option("--station-dir", est.station_dir)->required();
  est_cmd->add_option("--order", est.order)->required();
  est_cmd->add_option("--clients", est.clients);
  est_cmd->add_option("--count", est.count);
  est_cmd->add_option("--ca-pid", est.ca_pids,
                      "the CA's process id: report its CPU per certificate");
  LineOptions line;
  auto* line_cmd = app.add_subcommand("line", "end-to-end provisioning of simulated devices");
  line_cmd->add_option("--ca", line.ca)->required();
  line_cmd->add_option("--station-dir", line.station_dir)->required();
  line_cmd->add_option("--order", line.order)->required();
  line_cmd->add_option("--devices", line.devices);
  line_cmd->add_option("--parallel", line.parallel);
  line_cmd->add_option("--ca-pid", line.ca_pid, "the CA's process id: report its CPU per device");
  line_cmd->add_option("--key-backend", line.key_backend, "device keys: file, pkcs11 or tpm");
  line_cmd->add_option("--tpm-tcti", line.tpm_tctis, "tpm backend: each device's TPM (TCTI)");
  line_cmd->add_flag(
      "--tpm-no-attestation", [&line](int64_t) { line.tpm_attestation = false; },
      "tpm backend: the devices do not offer key attestation");
  line_cmd->add_option("--pkcs11-module", line.pkcs11_module, "pkcs11 backend: module path");
  line_cmd->add_option("--token-uri", line.token_uri, "pkcs11 backend: RFC 7512 token URI");
  line_cmd->add_option("--pin-file", line.pin_file, "pkcs11 backend: user PIN file (0600)");
  line_cmd->add_flag("--offline", line.offline, "issue within the station's allowance, no CA");
  ScaleOptions scale;
  auto* scale_cmd = app.add_subcommand("scale", "registry size effects: 0 vs N registered devices");
  scale_cmd->add_option("--config", scale.config)->required();
  scale_cmd->add_option("--devices", scale.devices);
  scale_cmd->add_option("--count", scale.count);
  scale_cmd->add_option("--threads", scale.threads);
  OcspOptions ocsp;
  auto* ocsp_cmd =
      app.add_subcommand("ocsp", "OCSP responses per second over HTTP, nothing cached");
  ocsp_cmd->add_option("--config", ocsp.config, "the serving CA's configuration")->required();
  ocsp_cmd->add_option("--url", ocsp.url, "http://HOST:PORT of its status listener")->required();
  ocsp_cmd->add_option("--clients", ocsp.clients);
  ocsp_cmd->add_option("--seconds", ocsp.seconds);
  ocsp_cmd->add_flag("--nonce", ocsp.nonce, "a nonce in each request: every answer signed anew");
  ocsp_cmd->add_option("--ca-pid", ocsp.ca_pid, "the CA's process id: report its CPU per response");
  ExportBenchOptions exports;
  auto* export_cmd = app.add_subcommand("export", "hand-over exports of a large order, per format");
  export_cmd->add_option("--config", exports.config)->required();
  export_cmd->add_option("--imprint-ca", exports.imprint_ca, "the imprint-ca binary")->required();
  export_cmd->add_option("--devices", exports.devices);
  export_cmd->add_option("--ceiling-seconds", exports.ceiling_seconds);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  imprint::Status status;
  try {
    if (*hsm)
      status = RunHsm(crypto);
    else if (*floor)
      status = RunFloor(crypto);
    else if (*issue_cmd)
      status = RunIssue(issue);
    else if (*est_cmd)
      status = RunEst(est);
    else if (*line_cmd)
      status = RunLineBench(line);
    else if (*ocsp_cmd)
      status = RunOcsp(ocsp);
    else if (*export_cmd)
      status = RunExportBench(exports);
    else
      status = RunScale(scale);
  } catch (const std::exception& e) {
    std::cerr << "imprint-bench: unexpected error: " << e.what() << "\n";
    return 1;
  }
  if (!status) {
    std::cerr << "imprint-bench: " << status.error().ToString() << "\n";
    return 1;
  }
  return 0;
}
