#pragma once
// Small helpers for calling the CA service in tests.

#include <grpcpp/grpcpp.h>

#include <stdexcept>
#include <string>

#include "ca/admin_cli.h"
#include "ca/hsm.h"
#include "ca/secret_generator.h"
#include "ca/store/store.h"
#include "common/bytes.h"
#include "common/proof.h"
#include "common/x509/evp_signer.h"
#include "imprint/v1/ca.grpc.pb.h"
#include "tests/support/build_paths.h"
#include "tests/support/ca_fixture.h"
#include "tests/support/temp_dir.h"

namespace imprint::testing {

struct IssueCall {
  grpc::Status status;
  imprint::v1::IssueDeviceCertificateResponse response;
};

inline IssueCall CallIssue(imprint::v1::CertificateAuthority::Stub& stub, const std::string& order,
                           const std::string& device, const Bytes& csr) {
  imprint::v1::IssueDeviceCertificateRequest request;
  request.set_order_id(order);
  request.set_device_id(device);
  request.set_csr_der(std::string(csr.begin(), csr.end()));
  IssueCall call;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  call.status = stub.IssueDeviceCertificate(&context, request, &call.response);
  return call;
}

inline grpc::Status CallSecrets(imprint::v1::CertificateAuthority::Stub& stub,
                                const std::string& order, const std::string& device,
                                imprint::v1::IssueDeviceSecretsResponse* response) {
  imprint::v1::IssueDeviceSecretsRequest request;
  request.set_order_id(order);
  request.set_device_id(device);
  grpc::ClientContext context;
  return stub.IssueDeviceSecrets(&context, request, response);
}

// `proof`: the device's signature over ProofMessage(the issuance's challenge); see DeviceProof.
inline grpc::Status CallReport(imprint::v1::CertificateAuthority::Stub& stub,
                               const std::string& order, const std::string& device,
                               const std::string& serial, bool verified, const Bytes& proof = {}) {
  imprint::v1::ReportProvisionedRequest request;
  request.set_order_id(order);
  request.set_device_id(device);
  request.set_serial_hex(serial);
  request.set_verified(verified);
  request.set_detail(verified ? "ok" : "prove failed");
  request.set_proof_signature(std::string(proof.begin(), proof.end()));
  imprint::v1::ReportProvisionedResponse response;
  grpc::ClientContext context;
  return stub.ReportProvisioned(&context, request, &response);
}

// Runs `imprint-ca ARGS --config CA.toml` against `ca`; the exit code, the output in `out`.
inline int RunCaCli(const CaFixture& ca, const std::string& args, std::string* out) {
  return RunCommand(
      CaBinary() + " " + args + " --config " + (ca.dir() / "ca.toml").string() + " 2>&1", out);
}

// The first column of the one row `query` returns from the CA's store.
inline int64_t QueryInt(const CaFixture& ca, const std::string& query) {
  auto db = ca::OpenCaDatabase(ca.config());
  if (!db) throw std::runtime_error("open store: " + db.error().ToString());
  auto stmt = (*db)->Prepare(query);
  if (!stmt) throw std::runtime_error("prepare: " + stmt.error().ToString());
  auto row = stmt->Step();
  if (!row || !*row) throw std::runtime_error("no row for " + query);
  return stmt->ColumnInt64(0);
}

// `order close` as the command runs it.
inline Status CloseOrder(const CaFixture& ca, const std::string& id) {
  return ca::OrderCloseCommand(ca.config(), id);
}

inline ca::OrderStatus Order(const CaFixture& ca, const std::string& id) {
  auto status = ca::OrderShowCommand(ca.config(), id);
  if (!status) throw std::runtime_error("order show: " + status.error().ToString());
  return *status;
}

// The keyed verifier the CA keeps for `device`'s default `password`, made with the CA's own
// token as the CA makes it (ca/secret_generator.h).
inline Bytes ExpectedVerifier(const CaFixture& ca, const std::string& device,
                              const std::string& password) {
  auto hsm = ca::CaHsm::Open(ca.config());
  if (!hsm) throw std::runtime_error("open token: " + hsm.error().ToString());
  if (auto loaded = (*hsm)->LoadKeys(false); !loaded) {
    throw std::runtime_error("keys: " + loaded.error().ToString());
  }
  Secret message = ca::VerifierMessage(device, ca::kDefaultPasswordName, password);
  return (*hsm)->verifier().Mac(AsBytes(message.Reveal())).value();
}

// The verifier the CA's store holds for `device`'s default password; empty when none.
inline Bytes StoredVerifier(const CaFixture& ca, const std::string& device) {
  auto db = ca::OpenCaDatabase(ca.config()).value();
  auto row = db->Prepare(
                   "SELECT verifier FROM secret_verifiers WHERE device_id = ? AND name = "
                   "'default_password'")
                 .value();
  row.BindAll(device);
  return row.Step().value() ? row.ColumnBlob(0) : Bytes{};
}

// What an honest device answers to ProveIdentity with the CA's challenge as nonce.
inline Bytes DeviceProof(EVP_PKEY* device_key, const std::string& challenge) {
  auto signer = x509::EvpSigner::Create(x509::ShareKey(device_key)).value();
  return signer->Sign(ProofMessage(AsBytes(challenge))).value();
}

}  // namespace imprint::testing
