// Reconcile at the CA (ca/allowance/reconcile.cc) against logs a test forges with the
// subordinate key it fetched with, as a station's token would sign them: each way a log may be
// wrong is refused with its reason and an audit record, and nothing of it is recorded; a sealed
// password becomes the verifier the CA would have made online; the one online record an offline
// certificate may replace (docs/offline.md, "Switching mid-run") is superseded, and no other.

#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/offline/log_format.h"
#include "common/offline/sealed_secret.h"
#include "common/offline/signed_allowance.h"
#include "common/utc_time.h"
#include "tests/ca/allowance/allowance_desk.h"

namespace imprint::testing {
namespace {

namespace v1 = imprint::v1;

// The station's side of one allowance, in software: its log from seq 1, and the request that
// uploads it with one checkpoint at its end.
struct ForgedLog {
  ForgedLog(const DeviceKey& key, const v1::FetchAllowanceResponse& fetched,
            EVP_PKEY* ca_secret_key)
      : sub(key), allowance(fetched), secret_key(ca_secret_key) {}
  const DeviceKey& sub;
  const v1::FetchAllowanceResponse& allowance;
  EVP_PKEY* secret_key;  // the CA's secret-transport key, from the signed allowance
  std::vector<offline::LogEntry> entries;
  std::vector<Bytes> proofs;
  std::vector<Bytes> sealed;
  std::vector<Bytes> sealed_signatures;
  uint8_t serial = 0;

  // The password sealed to the CA for `device`, signed by `signer` (the subordinate's key).
  void Seal(const std::string& device, const std::string& password, EVP_PKEY* signer) {
    offline::SealedFor binding{allowance.allowance_id(), device, "default_password"};
    sealed.back() = offline::SealSecret(secret_key, binding, password).value();
    auto sign = x509::EvpSigner::Create(x509::ShareKey(signer)).value();
    sealed_signatures.back() =
        sign->Sign(offline::SealedSecretMessage(binding, sealed.back())).value();
  }

  // A certificate for `key` signed by the subordinate, the device's proof over its challenge,
  // and its password sealed to the CA.
  void Add(const std::string& device, EVP_PKEY* key, int64_t issued_ms = NowMs()) {
    offline::LogEntry e;
    e.seq = static_cast<int64_t>(entries.size()) + 1;
    e.device = device;
    std::string pem = IssueUnder(sub, DerToPem(allowance.subordinate_certificate_der()), key, false,
                                 Bytes(16, ++serial));
    auto cert = x509::ParseCertificatePem(pem).value();
    e.certificate_der = x509::CertificateToDer(cert.get()).value();
    e.serial_hex = x509::SerialHex(cert.get()).value();
    e.challenge = Bytes(32, serial);
    e.issued_ms = issued_ms;
    Bytes previous = entries.empty() ? Bytes(32, 0) : entries.back().hash;
    e.hash = offline::ChainHash(allowance.allowance_id(), previous, e);
    proofs.push_back(DeviceProof(key, std::string(e.challenge.begin(), e.challenge.end())));
    entries.push_back(std::move(e));
    sealed.emplace_back();
    sealed_signatures.emplace_back();
    Seal(device, "password-of-" + device, sub.key.get());
  }

  v1::ReconcileAllowanceRequest Request() const {
    v1::ReconcileAllowanceRequest request;
    request.set_allowance_id(allowance.allowance_id());
    for (size_t i = 0; i < entries.size(); ++i) {
      const offline::LogEntry& e = entries[i];
      auto* m = request.add_entries();
      m->set_seq(e.seq);
      m->set_device_id(e.device);
      m->set_serial_hex(e.serial_hex);
      m->set_certificate_der(std::string(e.certificate_der.begin(), e.certificate_der.end()));
      m->set_challenge(std::string(e.challenge.begin(), e.challenge.end()));
      m->set_issued_ms(e.issued_ms);
      m->set_hash(std::string(e.hash.begin(), e.hash.end()));
      m->set_proof_signature(std::string(proofs[i].begin(), proofs[i].end()));
      m->set_sealed_password(std::string(sealed[i].begin(), sealed[i].end()));
      m->set_sealed_password_signature(
          std::string(sealed_signatures[i].begin(), sealed_signatures[i].end()));
    }
    const offline::LogEntry& last = entries.back();
    auto signer = x509::EvpSigner::Create(x509::ShareKey(sub.key.get())).value();
    Bytes signature =
        signer->Sign(offline::CheckpointMessage(allowance.allowance_id(), last.seq, last.hash))
            .value();
    auto* c = request.add_checkpoints();
    c->set_seq(last.seq);
    c->set_hash(std::string(last.hash.begin(), last.hash.end()));
    c->set_signature(std::string(signature.begin(), signature.end()));
    return request;
  }
};

v1::ReconcileAllowanceResponse Upload(v1::CertificateAuthority::Stub& stub,
                                      const v1::ReconcileAllowanceRequest& request) {
  v1::ReconcileAllowanceResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::Status status = stub.ReconcileAllowance(&context, request, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return response;
}

// Online issuance by `station` of `device` for `key`; reported verified when `report`.
std::string IssueOnline(StationClient& station, const std::string& device, const DeviceKey& key,
                        bool report) {
  IssueCall issued = CallIssue(station.stub(), "PO-1", device, key.csr_der);
  INFO(issued.status.error_message());
  REQUIRE(issued.status.ok());
  if (report) {
    REQUIRE(CallReport(station.stub(), "PO-1", device, issued.response.serial_hex(), true,
                       DeviceProof(key.key.get(), issued.response.challenge()))
                .ok());
  }
  return issued.response.serial_hex();
}

TEST_CASE(
    "reconcile refuses each wrong log with its reason, keeps a good log's passwords as verifiers "
    "and supersedes only the station's own unreported online certificate",
    "[allowance]") {
  Desk d;
  REQUIRE(d.Cli("allowance grant --order PO-1 --station cm-line-3 --count 3 --valid-for 72h") == 0);
  DeviceKey sub = DeviceKey::Make();
  FetchCall fetched = CallFetch(d.cm.stub(), "PO-1", sub.csr_der);
  REQUIRE(fetched.status.ok());
  const v1::FetchAllowanceResponse& allowance = fetched.response;
  auto root = x509::ParseCertificatePem(d.ca.root_pem()).value();
  auto signed_allowance = offline::VerifySignedAllowance(allowance.signed_allowance(), root.get());
  REQUIRE(signed_allowance.has_value());
  REQUIRE_FALSE(signed_allowance->secret_key_spki.empty());  // the grant made the CA's key
  auto secret_key = x509::ParsePublicKeyDer(signed_allowance->secret_key_spki).value();

  // Online: dev-1 by this station, its answer "lost" (never reported); dev-2 the same by the
  // other station; dev-3 reported verified; dev-4 unreported.
  DeviceKey k1 = DeviceKey::Make(), k2 = DeviceKey::Make(), k3 = DeviceKey::Make(),
            k4 = DeviceKey::Make();
  std::string online_1 = IssueOnline(d.cm, "dev-1", k1, false);
  IssueOnline(d.line, "dev-2", k2, false);
  IssueOnline(d.cm, "dev-3", k3, true);
  IssueOnline(d.cm, "dev-4", k4, false);
  ca::OrderStatus before = Order(d.ca, "PO-1");
  REQUIRE(before.issued == 4);
  int64_t audited = 0;

  struct Wrong {
    const char* what;
    std::function<void(ForgedLog&)> forge;
    bool by_other_station;
    std::string reason;
  };
  DeviceKey other = DeviceKey::Make();
  int64_t after_end = allowance.not_after_ms() + 1000;
  std::vector<Wrong> wrongs = {
      {"another station's unreported device",
       [&](ForgedLog& log) { log.Add("dev-2", k2.key.get()); }, false,
       "seq 1: device dev-2 is already dev-2 (order PO-1)"},
      {"the station's unreported device with another key",
       [&](ForgedLog& log) { log.Add("dev-4", other.key.get()); }, false,
       "seq 1: device dev-4 is already dev-4 (order PO-1)"},
      {"a device reported verified online", [&](ForgedLog& log) { log.Add("dev-3", k3.key.get()); },
       false, "seq 1: device dev-3 is already dev-3 (order PO-1)"},
      {"one key on an online and an offline device",
       [&](ForgedLog& log) { log.Add("dev-9", k3.key.get()); }, false,
       "seq 1: the key of device dev-9 is already bound to dev-3 (order PO-1)"},
      {"a log uploaded by another station", [&](ForgedLog& log) { log.Add("dev-1", k1.key.get()); },
       true, "seq 0: the log of station cm-line-3's allowance was uploaded by station line-1"},
      {"past the count",
       [&](ForgedLog& log) {
         for (int i = 0; i < 4; ++i) {
           DeviceKey k = DeviceKey::Make();
           log.Add("past-" + std::to_string(i), k.key.get());
         }
       },
       false, "seq 4: past the count: entry 4 of an allowance of 3"},
      {"after the allowance ended",
       [&](ForgedLog& log) { log.Add("late-1", other.key.get(), after_end); }, false,
       "seq 1: issued after the allowance ended"},
      {"a committed device without its password sealed to the CA",
       [&](ForgedLog& log) {
         log.Add("dev-1", k1.key.get());
         log.sealed.back().clear();
         log.sealed_signatures.back().clear();
       },
       false, "seq 1: device dev-1 committed without its password sealed to the CA"},
      {"a sealed password signed by another key",
       [&](ForgedLog& log) {
         log.Add("dev-1", k1.key.get());
         log.Seal("dev-1", "chosen-by-someone-else", other.key.get());
       },
       false, "seq 1: the sealed password of device dev-1 is not signed by the subordinate key"},
      {"a password sealed for another device",
       [&](ForgedLog& log) {
         log.Add("dev-1", k1.key.get());
         Bytes signature = log.sealed_signatures.back();
         log.Seal("dev-7", "password-of-dev-7", sub.key.get());
         // Signed as dev-1's: it is dev-7's sealed value under dev-1's name.
         offline::SealedFor as_dev1{allowance.allowance_id(), "dev-1", "default_password"};
         auto sign = x509::EvpSigner::Create(x509::ShareKey(sub.key.get())).value();
         log.sealed_signatures.back() =
             sign->Sign(offline::SealedSecretMessage(as_dev1, log.sealed.back())).value();
       },
       false, "seq 1: the sealed password of device dev-1 does not open"},
  };
  for (const Wrong& w : wrongs) {
    INFO(w.what);
    ForgedLog log(sub, allowance, secret_key.get());
    w.forge(log);
    auto answer = Upload((w.by_other_station ? d.line : d.cm).stub(), log.Request());
    std::string all;
    for (const auto& v : answer.violations()) all += v + "\n";
    INFO(all);
    CHECK(answer.recorded() == 0);
    CHECK(all.find(w.reason) != std::string::npos);
    CHECK(d.Count("SELECT count(*) FROM audit_log WHERE event = 'allowance.violation'") > audited);
    audited = d.Count("SELECT count(*) FROM audit_log WHERE event = 'allowance.violation'");
    CHECK(d.Count("SELECT count(*) FROM devices WHERE allowance_id IS NOT NULL") == 0);
    CHECK(d.Count("SELECT count(*) FROM revocations") == 0);
    ca::OrderStatus now = Order(d.ca, "PO-1");
    CHECK(now.issued == before.issued);
    CHECK(now.reserved == before.reserved);
  }

  // The station's own unreported dev-1, the same key: the offline certificate replaces it.
  ForgedLog log(sub, allowance, secret_key.get());
  log.Add("dev-1", k1.key.get());
  auto answer = Upload(d.cm.stub(), log.Request());
  CHECK(answer.violations_size() == 0);
  CHECK(answer.recorded() == 1);
  ca::OrderStatus after = Order(d.ca, "PO-1");
  CHECK(after.issued == before.issued);  // the online unit went back: dev-1 counts once
  CHECK(after.verified == before.verified + 1);
  CHECK(after.reserved == before.reserved - 1);
  CHECK(d.Count("SELECT count(*) FROM revocations WHERE serial_hex = '" + online_1 +
                "' AND reason = 'superseded'") == 1);
  CHECK(d.Count("SELECT count(*) FROM device_history WHERE serial_hex = '" + online_1 + "'") == 1);
  CHECK(d.Count("SELECT count(*) FROM devices WHERE device_id = 'dev-1' AND serial_hex = '" +
                log.entries[0].serial_hex + "' AND status = 'verified'") == 1);
  // Its password reached the CA sealed: the CA keeps the verifier it would have made online.
  CHECK(StoredVerifier(d.ca, "dev-1") == ExpectedVerifier(d.ca, "dev-1", "password-of-dev-1"));
  CHECK(d.Count("SELECT count(*) FROM secret_verifiers") == 1);
  CHECK(d.Count("SELECT count(*) FROM audit_log WHERE event = 'device.superseded' AND detail "
                "LIKE '%" +
                online_1 + "%'") == 1);
  // The superseded certificate is in the issuing CA's next CRL.
  std::string out;
  REQUIRE(d.Cli("crl issue", &out) == 0);
  CHECK(out.find("with 1 entries") != std::string::npos);
  REQUIRE(d.Cli("audit verify", &out) == 0);
}

TEST_CASE(
    "reconcile checks a part's devices on concurrent threads and keeps each device's own "
    "verifier",
    "[allowance]") {
  // 96 devices in one part: the proofs and passwords are checked on the machine's threads, the
  // sealed passwords share one ephemeral key (one ECDH in the token), and each verifier must
  // still land on its own device.
  constexpr int kDevices = 96;
  Desk d({}, kDevices);
  REQUIRE(d.Cli("allowance grant --order PO-1 --station cm-line-3 --count 96 --valid-for 72h") ==
          0);
  DeviceKey sub = DeviceKey::Make();
  FetchCall fetched = CallFetch(d.cm.stub(), "PO-1", sub.csr_der);
  REQUIRE(fetched.status.ok());
  auto root = x509::ParseCertificatePem(d.ca.root_pem()).value();
  auto signed_allowance =
      offline::VerifySignedAllowance(fetched.response.signed_allowance(), root.get()).value();
  auto secret_key = x509::ParsePublicKeyDer(signed_allowance.secret_key_spki).value();
  auto sealer = offline::Sealer::For(secret_key.get()).value();
  ForgedLog log(sub, fetched.response, secret_key.get());
  std::vector<DeviceKey> keys;
  for (int i = 0; i < kDevices; ++i) keys.push_back(DeviceKey::Make());
  for (int i = 0; i < kDevices; ++i) {
    std::string device = "many-" + std::to_string(i);
    log.Add(device, keys[static_cast<size_t>(i)].key.get());
    // As a station seals a run: one ephemeral key for all.
    offline::SealedFor binding{fetched.response.allowance_id(), device, "default_password"};
    log.sealed.back() = sealer.Seal(binding, "password-of-" + device).value();
    auto sign = x509::EvpSigner::Create(x509::ShareKey(sub.key.get())).value();
    log.sealed_signatures.back() =
        sign->Sign(offline::SealedSecretMessage(binding, log.sealed.back())).value();
  }
  auto answer = Upload(d.cm.stub(), log.Request());
  CHECK(answer.violations_size() == 0);
  CHECK(answer.recorded() == kDevices);
  CHECK(d.Count("SELECT count(*) FROM secret_verifiers") == kDevices);
  CHECK(d.Count("SELECT count(*) FROM devices WHERE status = 'verified'") == kDevices);
  for (int i : {0, 47, kDevices - 1}) {
    std::string device = "many-" + std::to_string(i);
    INFO(device);
    CHECK(StoredVerifier(d.ca, device) == ExpectedVerifier(d.ca, device, "password-of-" + device));
  }
  std::string out;
  REQUIRE(d.Cli("audit verify", &out) == 0);
}

}  // namespace
}  // namespace imprint::testing
