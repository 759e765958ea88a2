#pragma once
// `imprint-bench issue`: issuance through the real server over mutual TLS with C concurrent
// clients (each its own connection) using CSRs made up front; spot-checks the certificates.
// `imprint-bench line`: end-to-end provisioning of N simulated devices (served in process)
// with P in parallel, through the real station code.

#include <string>
#include <vector>

#include "common/error.h"

namespace imprint::bench {

struct IssueOptions {
  std::vector<std::string> cas;  // one or more CA nodes of one store; clients take turns
  std::string station_dir;
  std::string order;
  int clients = 16;
  int count = 2000;
  std::string rpc = "unary";  // or "stream": one issuance stream per client, `depth` in flight
  int depth = 1;
  std::vector<int> ca_pids;     // when set, the CA nodes' CPU per certificate is reported too
  std::vector<int> store_pids;  // when set, the store's (PostgreSQL's processes') CPU too
};
Status RunIssue(const IssueOptions& options);

struct LineOptions {
  std::string ca;
  std::string station_dir;
  std::string order;
  int devices = 200;
  int parallel = 16;
  int ca_pid = 0;  // when set, the CA's CPU per device is reported too
  // Where the simulated devices keep their keys: "file", or "pkcs11" in this token (a TPM
  // through tpm2-pkcs11 in scripts/bench.sh), as imprint-agent's options of the same names.
  std::string key_backend = "file";
  std::string pkcs11_module;
  std::string token_uri;
  std::string pin_file;
  // "tpm": one TPM per device; tpm_attestation false leaves key attestation out.
  std::vector<std::string> tpm_tctis;
  bool tpm_attestation = true;
  // Issue within the station's allowance instead of at the CA (docs/offline.md).
  bool offline = false;
};
Status RunLineBench(const LineOptions& options);

}  // namespace imprint::bench
