#pragma once
// An allowance desk for tests (ca/allowance): a CA with stations cm-line-3 and line-1 on order
// PO-1, the FetchAllowance and ReconcileAllowance calls, and certificates signed as a station
// would sign them offline, with a subordinate key the test holds in software.

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <string>

#include "common/x509/certificate_builder.h"
#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"
#include "tests/ca/ca_test_util.h"
#include "tests/support/ca_fixture.h"

namespace imprint::testing {

struct FetchCall {
  grpc::Status status;
  imprint::v1::FetchAllowanceResponse response;
};

inline FetchCall CallFetch(imprint::v1::CertificateAuthority::Stub& stub, const std::string& order,
                           const Bytes& csr) {
  imprint::v1::FetchAllowanceRequest request;
  request.set_order_id(order);
  request.set_csr_der(std::string(csr.begin(), csr.end()));
  FetchCall call;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  call.status = stub.FetchAllowance(&context, request, &call.response);
  return call;
}

struct Desk {
  CaFixture ca;
  StationClient cm = StationClient::Enroll(ca, "cm-line-3");
  StationClient line = StationClient::Enroll(ca, "line-1");

  explicit Desk(CaFixtureOptions options = {}, int64_t quota = 10) : ca(std::move(options)) {
    ca.CreateOrder("PO-1", quota, {"line-1", "cm-line-3"});
  }
  int Cli(const std::string& args, std::string* out = nullptr) const {
    std::string ignored;
    return RunCaCli(ca, args, out ? out : &ignored);
  }
  int64_t Count(const std::string& query) const { return QueryInt(ca, query); }
  std::filesystem::path Write(const std::string& name, const std::string& content) const {
    std::filesystem::path path = ca.dir() / name;
    WriteFile(path, content, 0644);
    return path;
  }
};

// A certificate for `key` signed by `issuer_key` (certified by `issuer_pem`), as a station
// would offline.
inline std::string IssueUnder(const DeviceKey& issuer_key, const std::string& issuer_pem,
                              EVP_PKEY* key, bool is_ca, const Bytes& serial = Bytes(16, 0x42)) {
  auto issuer = x509::ParseCertificatePem(issuer_pem);
  REQUIRE(issuer.has_value());
  auto signer = x509::EvpSigner::Create(x509::ShareKey(issuer_key.key.get()));
  REQUIRE(signer.has_value());
  x509::CertificateProfile profile;
  profile.is_ca = is_ca;
  profile.key_usage = is_ca ? std::vector<std::string>{"keyCertSign"}
                            : std::vector<std::string>{"digitalSignature"};
  profile.extended_key_usage = {"clientAuth"};
  x509::CertificateRequest request;
  request.profile = &profile;
  request.subject.name = {{"CN", is_ca ? "rogue-ca" : "offline-device"}};
  request.public_key = key;
  request.serial = x509::MakeSerial(serial);
  auto cert = x509::IssueCertificate(request, issuer->get(), **signer);
  REQUIRE(cert.has_value());
  auto pem = x509::CertificateToPem(cert->get());
  REQUIRE(pem.has_value());
  return *pem;
}

// ReconcileAllowance about one allowance with only `delegate` (empty: asks where the CA stands).
inline grpc::Status CallDelegate(imprint::v1::CertificateAuthority::Stub& stub,
                                 const std::string& id, const Bytes& delegate,
                                 imprint::v1::ReconcileAllowanceResponse* out) {
  imprint::v1::ReconcileAllowanceRequest request;
  request.set_allowance_id(id);
  request.set_ocsp_delegate_der(std::string(delegate.begin(), delegate.end()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return stub.ReconcileAllowance(&context, request, out);
}

}  // namespace imprint::testing
