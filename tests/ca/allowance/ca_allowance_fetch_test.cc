// `allowance fetch` at the CA (ca/allowance/fetch): a station with a live allowance gets its
// subordinate key certified by the root (path length 0) and an allowance signed by the root's
// document signer. Checked with tools
// nobody here wrote: openssl verify -x509_strict for the chain, path length and validity, and
// python3-jwcrypto with python3-cryptography for the allowance's signature. Every refusal
// leaves the store as it was.

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "common/base64.h"
#include "common/offline/ocsp_delegate.h"
#include "common/offline/signed_allowance.h"
#include "common/x509/certificate_builder.h"
#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"
#include "tests/ca/allowance/allowance_desk.h"

namespace imprint::testing {
namespace {

TEST_CASE("fetch certifies the station's key as a subordinate CA that openssl and jwcrypto accept",
          "[allowance]") {
  Desk d;
  REQUIRE(d.Cli("allowance grant --order PO-1 --station cm-line-3 --count 5 --valid-for 72h") == 0);
  DeviceKey sub = DeviceKey::Make();
  FetchCall fetched = CallFetch(d.cm.stub(), "PO-1", sub.csr_der);
  REQUIRE(fetched.status.ok());
  const auto& r = fetched.response;
  CHECK(r.count() == 5);
  REQUIRE(r.chain_der_size() == 1);
  CHECK(DerToPem(r.chain_der(0)) == d.ca.root_pem());

  auto root = d.Write("root.pem", d.ca.root_pem());
  auto subordinate = d.Write("subordinate.pem", DerToPem(r.subordinate_certificate_der()));
  auto jws = d.Write("allowance.jws", r.signed_allowance());
  // `purpose`: sslclient for a device (its extended key usage, and every CA's above it).
  auto verify = [&](const std::filesystem::path& untrusted, const std::filesystem::path& leaf,
                    const std::string& purpose) {
    std::string out;
    int code = RunCommand("openssl verify -x509_strict " + purpose + " -CAfile " + root.string() +
                              " -untrusted " + untrusted.string() + " " + leaf.string() + " 2>&1",
                          &out);
    return std::pair{code, out};
  };
  auto [code, out] = verify(root, subordinate, "");
  INFO(out);
  CHECK(code == 0);
  REQUIRE(RunCommand("openssl x509 -noout -text -in " + subordinate.string(), &out) == 0);
  CHECK(out.find("CA:TRUE, pathlen:0") != std::string::npos);
  CHECK(out.find("TLS Web Client Authentication") != std::string::npos);
  CHECK(out.find("serialNumber = " + r.allowance_id()) != std::string::npos);
  CHECK(out.find("OU = PO-1") != std::string::npos);
  CHECK(AsBytes(r.subordinate_certificate_der()).size() > 0);

  std::string check = "/usr/bin/python3 " + SourceDir() +
                      "/tests/ca/allowance/check_allowance.py " + jws.string() + " " +
                      subordinate.string() + " " + root.string() + " 2>&1";
  REQUIRE(RunCommand(check, &out) == 0);
  CHECK(out == "allowance " + r.allowance_id() + " order PO-1 station cm-line-3 count 5\n");

  // A device the subordinate signs offline chains to the root; a CA it signs does not.
  DeviceKey device = DeviceKey::Make();
  auto leaf = d.Write("device.pem", IssueUnder(sub, DerToPem(r.subordinate_certificate_der()),
                                               device.key.get(), false));
  std::tie(code, out) = verify(subordinate, leaf, "-purpose sslclient");
  INFO(out);
  CHECK(code == 0);
  DeviceKey rogue = DeviceKey::Make();
  std::string rogue_pem =
      IssueUnder(sub, DerToPem(r.subordinate_certificate_der()), rogue.key.get(), true);
  auto rogue_chain =
      d.Write("rogue-chain.pem", rogue_pem + DerToPem(r.subordinate_certificate_der()));
  DeviceKey victim = DeviceKey::Make();
  auto rogue_leaf =
      d.Write("rogue-device.pem", IssueUnder(rogue, rogue_pem, victim.key.get(), false));
  std::tie(code, out) = verify(rogue_chain, rogue_leaf, "");
  CHECK(code != 0);
  CHECK(out.find("path length constraint exceeded") != std::string::npos);

  // A payload edited after signing fails jwcrypto (the count raised from 5 to 50).
  std::string edited = r.signed_allowance();
  auto json = nlohmann::json::parse(edited);
  std::string payload = json["payload"];
  auto decoded = Base64UrlDecode(payload);
  REQUIRE(decoded.has_value());
  std::string text(decoded->begin(), decoded->end());
  text.replace(text.find("\"count\":5"), 9, "\"count\":50");
  json["payload"] = Base64UrlEncode(AsBytes(text));
  d.Write("allowance.jws", json.dump());
  CHECK(RunCommand(check, &out) == 1);
  CHECK(out.find("FAIL: signature") != std::string::npos);

  // Fetched again with the same key: the same answer, nothing new in the log.
  FetchCall again = CallFetch(d.cm.stub(), "PO-1", sub.csr_der);
  REQUIRE(again.status.ok());
  CHECK(again.response.subordinate_certificate_der() == r.subordinate_certificate_der());
  CHECK(again.response.signed_allowance() == r.signed_allowance());
  // Another key for the same allowance is refused: one allowance, one key.
  FetchCall other = CallFetch(d.cm.stub(), "PO-1", DeviceKey::Make().csr_der);
  CHECK(other.status.error_code() == grpc::StatusCode::ALREADY_EXISTS);
  CHECK(other.status.error_message().find("was fetched for another key") != std::string::npos);

  CHECK(d.Count("SELECT count(*) FROM audit_log WHERE event = 'allowance.fetched'") == 1);
  REQUIRE(d.Cli("audit verify", &out) == 0);
}

TEST_CASE("fetch refuses a station without a live allowance, a bad request and a used key",
          "[allowance]") {
  Desk d;
  DeviceKey key = DeviceKey::Make();
  FetchCall none = CallFetch(d.cm.stub(), "PO-1", key.csr_der);
  CHECK(none.status.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(none.status.error_message() ==
        "station cm-line-3 holds no live allowance for order PO-1 (the brand owner grants one)");
  REQUIRE(d.Cli("allowance grant --order PO-1 --station cm-line-3 --count 4 --valid-for 1h") == 0);

  // Another station, the open listener, a bad order id, a CSR that is not one.
  CHECK(CallFetch(d.line.stub(), "PO-1", key.csr_der).status.error_code() ==
        grpc::StatusCode::NOT_FOUND);
  CHECK(CallFetch(*d.ca.AnonymousStub(), "PO-1", key.csr_der).status.error_code() ==
        grpc::StatusCode::UNIMPLEMENTED);
  CHECK(CallFetch(d.cm.stub(), "PO 1", key.csr_der).status.error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  Bytes forged = key.csr_der;
  forged[forged.size() - 3] ^= 1;  // inside the signature: no proof of possession
  CHECK(CallFetch(d.cm.stub(), "PO-1", forged).status.error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(d.Count("SELECT count(*) FROM allowances WHERE subordinate_der IS NOT NULL") == 0);

  // Fetched, then revoked: nothing live to fetch; a new grant never certifies the old key.
  REQUIRE(CallFetch(d.cm.stub(), "PO-1", key.csr_der).status.ok());
  REQUIRE(d.Cli("allowance revoke --order PO-1 --station cm-line-3 --reason moved") == 0);
  CHECK(CallFetch(d.cm.stub(), "PO-1", key.csr_der).status.error_code() ==
        grpc::StatusCode::NOT_FOUND);
  REQUIRE(d.Cli("allowance grant --order PO-1 --station cm-line-3 --count 2 --valid-for 1h") == 0);
  FetchCall reused = CallFetch(d.cm.stub(), "PO-1", key.csr_der);
  CHECK(reused.status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(reused.status.error_message().starts_with(offline::kKeyUsedBeforeMessage));
  CHECK(CallFetch(d.cm.stub(), "PO-1", DeviceKey::Make().csr_der).status.ok());

  // An allowance past its end, and one whose order was closed.
  REQUIRE(d.Cli("allowance grant --order PO-1 --station line-1 --count 1 --valid-for 1s") == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  FetchCall late = CallFetch(d.line.stub(), "PO-1", DeviceKey::Make().csr_der);
  CHECK(late.status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(late.status.error_message().find("expired at") != std::string::npos);
  d.ca.CreateOrder("PO-2", 5, {"cm-line-3"});
  REQUIRE(d.Cli("allowance grant --order PO-2 --station cm-line-3 --count 1 --valid-for 1h") == 0);
  REQUIRE(CloseOrder(d.ca, "PO-2").has_value());
  FetchCall closed = CallFetch(d.cm.stub(), "PO-2", DeviceKey::Make().csr_der);
  CHECK(closed.status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(closed.status.error_message() == "order PO-2 is closed");

  CHECK(d.Count("SELECT count(*) FROM audit_log WHERE event = 'allowance.fetched'") == 2);
  CHECK(d.Count("SELECT count(*) FROM allowances WHERE subordinate_der IS NOT NULL") == 2);
}

TEST_CASE("reconcile asks the allowance's station for an OCSP delegate and keeps one good one",
          "[allowance][ocsp]") {
  CaFixtureOptions options;
  options.status_toml = "http_listen = \"127.0.0.1:0\"\n";
  Desk d(options);
  REQUIRE(d.Cli("allowance grant --order PO-1 --station cm-line-3 --count 5 --valid-for 72h") == 0);
  DeviceKey sub = DeviceKey::Make();
  FetchCall fetched = CallFetch(d.cm.stub(), "PO-1", sub.csr_der);
  REQUIRE(fetched.status.ok());
  const std::string& id = fetched.response.allowance_id();
  auto subordinate =
      x509::ParseCertificateDer(AsBytes(fetched.response.subordinate_certificate_der())).value();
  auto sub_signer = x509::EvpSigner::Create(x509::ShareKey(sub.key.get())).value();

  imprint::v1::ReconcileAllowanceResponse asked;
  REQUIRE(CallDelegate(d.cm.stub(), id, {}, &asked).ok());
  REQUIRE_FALSE(asked.ocsp_responder_der().empty());
  auto responder = x509::ParseCertificateDer(AsBytes(asked.ocsp_responder_der())).value();
  uint8_t serials = 0;
  auto delegate = [&](EVP_PKEY* key) {
    x509::CertificateProfile profile = offline::OcspDelegateProfile();
    x509::CertificateRequest request;
    request.profile = &profile;
    request.subject.name = {{"CN", "OCSP responder"}};
    request.public_key = key;
    request.serial = x509::MakeSerial(Bytes(16, ++serials));
    request.not_after = std::chrono::system_clock::now() + std::chrono::hours(24);
    return x509::IssueCertificateDer(request, subordinate.get(), *sub_signer).value();
  };
  auto kept = [&] {
    return d.Count("SELECT count(*) FROM allowances WHERE ocsp_delegate_der IS NOT NULL");
  };

  // For a key of the station's own: refused, nothing kept, asked again.
  DeviceKey own = DeviceKey::Make();
  imprint::v1::ReconcileAllowanceResponse answer;
  grpc::Status refused = CallDelegate(d.cm.stub(), id, delegate(own.key.get()), &answer);
  CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(refused.error_message().find("not for this CA's OCSP responder key") != std::string::npos);
  CHECK(kept() == 0);
  // Another station sending one for this allowance: not kept (and its upload is a violation).
  Bytes good = delegate(X509_get0_pubkey(responder.get()));
  REQUIRE(CallDelegate(d.line.stub(), id, good, &answer).ok());
  CHECK(answer.ocsp_responder_der().empty());
  CHECK(kept() == 0);
  // The station's good one is kept, audited, and not asked for again; a second is ignored.
  REQUIRE(CallDelegate(d.cm.stub(), id, good, &answer).ok());
  CHECK(answer.ocsp_responder_der().empty());
  CHECK(kept() == 1);
  REQUIRE(CallDelegate(d.cm.stub(), id, delegate(X509_get0_pubkey(responder.get())), &answer).ok());
  CHECK(d.Count("SELECT count(*) FROM audit_log WHERE event = 'allowance.ocsp_delegated'") == 1);
  REQUIRE(CallDelegate(d.cm.stub(), id, {}, &answer).ok());
  CHECK(answer.ocsp_responder_der().empty());  // on either store (PostgreSQL once said again)
  auto db = ca::OpenCaDatabase(d.ca.config()).value();
  auto row = db->Prepare("SELECT ocsp_delegate_der FROM allowances WHERE id = ?").value();
  row.BindAll(id);
  REQUIRE(row.Step().value());
  CHECK(row.ColumnBlob(0) == good);
  std::string out;
  REQUIRE(d.Cli("audit verify", &out) == 0);
}

}  // namespace
}  // namespace imprint::testing
