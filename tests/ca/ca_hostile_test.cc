// Hostile input through the real gRPC server: each case gets the right code, a message with no
// internal detail, an audit record only where the design asks for one, and otherwise leaves the
// database unchanged (row counts and audit head compared).

#include <catch2/catch.hpp>
#include <functional>

#include "ca/admin_cli.h"
#include "ca/store/store.h"
#include "common/pkcs11/keygen.h"
#include "common/pkcs11/module.h"
#include "common/pkcs11/uri.h"
#include "common/secret.h"
#include "common/x509/certificate_builder.h"
#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"
#include "tests/ca/ca_test_util.h"
#include "tests/common/x509_test_util.h"
#include "tests/support/ca_fixture.h"

namespace imprint::testing {
namespace {

using grpc::StatusCode;

struct Snapshot {
  int64_t devices = 0, stations_active = 0, audit_head = 0, issued = 0;
  bool operator==(const Snapshot&) const = default;
};

Snapshot Take(const CaFixture& ca) {
  auto db = ca::OpenCaDatabase(ca.config());
  REQUIRE(db.has_value());
  auto one = [&](const char* q) {
    auto stmt = (*db)->Prepare(q);
    REQUIRE(stmt->Step().value());
    return stmt->ColumnInt64(0);
  };
  return {one("SELECT count(*) FROM devices"),
          one("SELECT count(*) FROM stations WHERE status = 'active'"),
          one("SELECT coalesce(max(seq), 0) FROM audit_log"),
          one("SELECT coalesce(sum(issued), 0) FROM orders")};
}

Bytes CsrWithSubject(int units, const std::string& san_count_dns = "") {
  auto key = TestKey("P-256");
  x509::X509ReqPtr req(X509_REQ_new());
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  std::string unit(60, 'A');
  for (int i = 0; i < units; ++i) {
    X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(unit.data()), 60, -1, 0);
  }
  if (!san_count_dns.empty()) {
    STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION* san =
        X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, san_count_dns.c_str());
    sk_X509_EXTENSION_push(exts, san);
    X509_REQ_add_extensions(req.get(), exts);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  }
  X509_REQ_set_pubkey(req.get(), key.get());
  X509_REQ_sign(req.get(), key.get(), EVP_sha256());
  unsigned char* der = nullptr;
  int len = i2d_X509_REQ(req.get(), &der);
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

Bytes OffCurveCsr() {
  auto key = TestKey("P-256");
  Bytes der = OpenSslCsr(key.get());
  unsigned char point[65];
  EVP_PKEY_get_octet_string_param(key.get(), "encoded-pub-key", point, sizeof(point), nullptr);
  auto at = std::search(der.begin(), der.end(), std::begin(point), std::end(point));
  *(at + 64) ^= 0x01;
  return der;
}

void ExpectNoInternalDetail(const std::string& message) {
  INFO(message);
  for (const char* leak : {"CKR_", "sqlite", "SQLITE", "error:", "OpenSSL", "ssl_", "constraint"}) {
    CHECK(message.find(leak) == std::string::npos);
  }
}

TEST_CASE("hostile issuance requests are refused cleanly and change nothing", "[hostile]") {
  CaFixture ca;
  auto station = StationClient::Enroll(ca, "line-1");
  auto other = StationClient::Enroll(ca, "line-2");
  ca.CreateOrder("PO-1", 50, {"line-1"});
  ca.CreateOrder("PO-CLOSED", 50, {"line-1"});
  REQUIRE(CloseOrder(ca, "PO-CLOSED").has_value());
  Bytes good = DeviceKey::Make().csr_der;
  Bytes wrong_sig = good;
  wrong_sig[wrong_sig.size() - 4] ^= 0x01;

  struct Case {
    std::string name;
    std::function<grpc::Status()> call;
    StatusCode code;
    bool audited;
  };
  auto issue = [&](StationClient& s, std::string order, std::string device, Bytes csr) {
    return [&s, order, device, csr] { return CallIssue(s.stub(), order, device, csr).status; };
  };
  std::vector<Case> cases = {
      {"wrong CSR signature", issue(station, "PO-1", "d1", wrong_sig), StatusCode::INVALID_ARGUMENT,
       false},
      {"wrong curve", issue(station, "PO-1", "d1", OpenSslCsr(TestKey("secp256k1").get())),
       StatusCode::INVALID_ARGUMENT, false},
      {"RSA-1024", issue(station, "PO-1", "d1", OpenSslCsr(TestKey("RSA-1024").get())),
       StatusCode::INVALID_ARGUMENT, false},
      {"EC point off the curve", issue(station, "PO-1", "d1", OffCurveCsr()),
       StatusCode::INVALID_ARGUMENT, false},
      {"20 KB subject", issue(station, "PO-1", "d1", CsrWithSubject(300)),
       StatusCode::INVALID_ARGUMENT, false},
      {"1 MB subject", issue(station, "PO-1", "d1", CsrWithSubject(16000)),
       StatusCode::RESOURCE_EXHAUSTED, false},
      {"garbage CSR", issue(station, "PO-1", "d1", Bytes(200, 0xff)), StatusCode::INVALID_ARGUMENT,
       false},
      {"SQL in device id", issue(station, "PO-1", "d1'); DROP TABLE devices;--", good),
       StatusCode::INVALID_ARGUMENT, false},
      {"path in device id", issue(station, "PO-1", "../../etc/passwd", good),
       StatusCode::INVALID_ARGUMENT, false},
      {"NUL in device id", issue(station, "PO-1", std::string("dev\0x", 5), good),
       StatusCode::INVALID_ARGUMENT, false},
      // proto3 string fields must be UTF-8: protobuf refuses to parse the request before our
      // code sees it, and gRPC answers INTERNAL with its own generic message (see
      // docs/reliability.md). Nothing reaches the CA.
      {"non-UTF-8 device id", issue(station, "PO-1", std::string("dev\xff\xfe"), good),
       StatusCode::INTERNAL, false},
      {"65-char device id", issue(station, "PO-1", std::string(65, 'a'), good),
       StatusCode::INVALID_ARGUMENT, false},
      {"empty device id", issue(station, "PO-1", "", good), StatusCode::INVALID_ARGUMENT, false},
      {"unknown order", issue(station, "PO-404", "d1", good), StatusCode::NOT_FOUND, false},
      {"closed order", issue(station, "PO-CLOSED", "d1", good), StatusCode::FAILED_PRECONDITION,
       false},
      {"station not on the order", issue(other, "PO-1", "d1", good), StatusCode::PERMISSION_DENIED,
       true},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    Snapshot before = Take(ca);
    grpc::Status status = c.call();
    CHECK(status.error_code() == c.code);
    INFO(status.error_message());
    ExpectNoInternalDetail(status.error_message());
    Snapshot after = Take(ca);
    CHECK(after.devices == before.devices);
    CHECK(after.issued == before.issued);
    CHECK((after.audit_head > before.audit_head) == c.audited);
  }
}

TEST_CASE("a CSR's own subject alternative names are ignored", "[hostile]") {
  CaFixture ca;
  auto station = StationClient::Enroll(ca, "line-1");
  ca.CreateOrder("PO-1", 5, {"line-1"});
  std::string sans;
  for (int i = 0; i < 100; ++i)
    sans += (i ? "," : "") + std::string("DNS:evil") + std::to_string(i) + ".example";
  auto call = CallIssue(station.stub(), "PO-1", "dev-1", CsrWithSubject(1, sans));
  REQUIRE(call.status.ok());
  auto cert = x509::ParseCertificateDer(AsBytes(call.response.certificate_der())).value();
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  REQUIRE(names != nullptr);
  CHECK(sk_GENERAL_NAME_num(names) == 1);  // only the CA's own device URI
  GENERAL_NAMES_free(names);
}

TEST_CASE("one EC key sent in three encodings gets one certificate and uses quota once",
          "[hostile]") {
  CaFixture ca;
  auto station = StationClient::Enroll(ca, "line-1");
  ca.CreateOrder("PO-1", 10, {"line-1"});
  auto key = TestKey("P-256");
  auto first = CallIssue(station.stub(), "PO-1", "dev-1", OpenSslCsr(key.get()));
  REQUIRE(first.status.ok());
  Snapshot before = Take(ca);

  auto compressed = ReencodedEcKey(key.get(), "compressed");
  auto again = CallIssue(station.stub(), "PO-1", "dev-2", OpenSslCsr(compressed.get()));
  CHECK(again.status.error_code() == StatusCode::ALREADY_EXISTS);
  auto explicit_key = ReencodedEcKey(key.get(), "explicit");
  auto odd = CallIssue(station.stub(), "PO-1", "dev-3", OpenSslCsr(explicit_key.get()));
  CHECK(odd.status.error_code() == StatusCode::INVALID_ARGUMENT);
  CHECK(Take(ca).issued == before.issued);
  CHECK(Take(ca).devices == before.devices);

  // A device that sends its compressed key first gets a certificate with the named curve
  // and the uncompressed point, which openssl verify -x509_strict accepts.
  auto other = ReencodedEcKey(TestKey("P-256").get(), "compressed");
  auto issued = CallIssue(station.stub(), "PO-1", "dev-4", OpenSslCsr(other.get()));
  REQUIRE(issued.status.ok());
  auto cert = x509::ParseCertificateDer(AsBytes(issued.response.certificate_der())).value();
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(X509_get0_pubkey(cert.get()), &der);
  REQUIRE(len == 91);  // P-256, named curve, uncompressed point
  OPENSSL_free(der);
}

TEST_CASE(
    "replayed or expired enrollment tokens and bad peers are refused and audited in "
    "aggregate",
    "[hostile]") {
  CaFixture ca;
  std::string token = ca.AddStation("line-1");
  std::string expired = ca.AddStation("line-2");
  {
    auto db = ca::OpenCaDatabase(ca.config());
    REQUIRE((*db)->Exec("UPDATE stations SET token_expires_ms = 1 WHERE name = 'line-2'"));
  }
  Bytes csr = DeviceKey::Make().csr_der;
  auto enroll = [&](const std::string& name, const std::string& t) {
    imprint::v1::EnrollStationRequest request;
    request.set_station_name(name);
    request.set_enrollment_token(t);
    request.set_csr_der(std::string(csr.begin(), csr.end()));
    imprint::v1::EnrollStationResponse response;
    grpc::ClientContext context;
    return ca.AnonymousStub()->EnrollStation(&context, request, &response);
  };
  // The token is checked before the CSR: a peer without one learns nothing about its CSR and
  // costs no signature check. Then keys larger than any profile allows are refused.
  std::string line3 = ca.AddStation("line-3");
  csr = Bytes{0x30, 0x03, 0x02, 0x01, 0x00};
  CHECK(enroll("line-3", "not-the-token").error_code() == StatusCode::PERMISSION_DENIED);
  csr = CsrClaimingRsaKey(8192);
  auto big = enroll("line-3", line3);
  CHECK(big.error_code() == StatusCode::INVALID_ARGUMENT);
  CHECK(big.error_message().find("8192") != std::string::npos);
  csr = DeviceKey::Make().csr_der;
  REQUIRE(enroll("line-1", token).ok());
  // A refused token costs no write: refusals are counted per source and audited as one
  // record when the window is flushed.
  ca.server().authority().auth_failures().Flush(true).value();
  Snapshot before = Take(ca);
  for (int round = 0; round < 20; ++round) {
    for (auto [name, t] : {std::pair{"line-1", token}, std::pair{"line-2", expired}}) {
      auto status = enroll(name, t);
      CHECK(status.error_code() == StatusCode::PERMISSION_DENIED);
      ExpectNoInternalDetail(status.error_message());
    }
  }
  CHECK(Take(ca) == before);
  REQUIRE(ca.server().authority().auth_failures().Flush(true).has_value());
  Snapshot after = Take(ca);
  CHECK(after.stations_active == before.stations_active);
  CHECK(after.audit_head == before.audit_head + 1);
  auto db = ca::OpenCaDatabase(ca.config());
  auto last = (*db)->Prepare("SELECT event, detail FROM audit_log ORDER BY seq DESC LIMIT 1");
  REQUIRE(last->Step().value());
  CHECK(last->ColumnText(0) == "auth.failed");
  auto detail = nlohmann::json::parse(last->ColumnText(1));
  CHECK(detail["count"] == 40);
  CHECK(detail["source"] == "ipv4:127.0.0.1");
  CHECK(detail["reasons"]["enrollment token invalid, expired or already used"] == 40);

  // Plaintext to the TLS port: the client cannot even speak to it.
  auto plain = imprint::v1::CertificateAuthority::NewStub(
      grpc::CreateChannel(ca.address(), grpc::InsecureChannelCredentials()));
  imprint::v1::GetCaChainResponse chain;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  auto status = plain->GetCaChain(&context, {}, &chain);
  CHECK(status.error_code() == StatusCode::UNAVAILABLE);
}

// Replaces the token's `label` key pair with one made CKA_EXTRACTABLE, as a careless ceremony
// with another tool would.
void MakeExtractableKey(const ca::CaConfig& config, const std::string& label) {
  auto module = p11::Module::Load(kSoftHsmModule).value();
  CK_SLOT_ID slot = module->FindTokenSlot(p11::Uri::Parse(config.token_uri).value()).value();
  auto pool = p11::SessionPool::Open(module, slot, ReadPinFile(config.pin_file).value(), 1).value();
  auto lease = pool->Acquire().value();
  REQUIRE(p11::DestroyObjects(lease, label).has_value());
  CK_BBOOL yes = CK_TRUE;
  Bytes curve = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};  // P-256
  CK_ATTRIBUTE pub[] = {{CKA_TOKEN, &yes, sizeof(yes)},
                        {CKA_LABEL, const_cast<char*>(label.data()), label.size()},
                        {CKA_EC_PARAMS, curve.data(), curve.size()}};
  CK_ATTRIBUTE priv[] = {{CKA_TOKEN, &yes, sizeof(yes)},
                         {CKA_PRIVATE, &yes, sizeof(yes)},
                         {CKA_SENSITIVE, &yes, sizeof(yes)},
                         {CKA_EXTRACTABLE, &yes, sizeof(yes)},
                         {CKA_SIGN, &yes, sizeof(yes)},
                         {CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
  CK_MECHANISM mech{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  CK_OBJECT_HANDLE pub_handle = 0, priv_handle = 0;
  REQUIRE(lease.api()->C_GenerateKeyPair(lease.handle(), &mech, pub, 3, priv, 6, &pub_handle,
                                         &priv_handle) == CKR_OK);
}

TEST_CASE("a CA refuses to serve with a key that can leave the token, naming the key",
          "[hostile]") {
  CaFixture ca;
  ca.Stop();
  MakeExtractableKey(ca.config(), "imprint-issuing");
  auto server = ca::CaServer::Start(ca.config(), "");
  REQUIRE_FALSE(server.has_value());
  CHECK(server.error().code() == Code::kFailedPrecondition);
  CHECK(server.error().message().find("label=imprint-issuing has CKA_EXTRACTABLE true") !=
        std::string::npos);
  // Admin commands run with the same keys and refuse alike.
  auto order = ca::OrderCreateCommand(ca.config(), {"PO-9", "cam", 5, {"line-1"}});
  REQUIRE_FALSE(order.has_value());
  CHECK(order.error().message().find("imprint-issuing") != std::string::npos);
}

}  // namespace
}  // namespace imprint::testing
