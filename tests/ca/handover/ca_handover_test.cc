// Hand-over of an order through the real imprint-ca binary: the signed manifest, the AWS IoT
// and Azure DPS files, the CSV, the cloud verification certificate and the evidence pack,
// each checked by tools imprint did not write (python3-jwcrypto, openssl, Python's json and
// csv); and the hostile side: bad input writes nothing, a tampered entry fails verification at
// that entry, a copied verifier or an edited audit log shows FAIL. On SQLite and PostgreSQL.

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/x509/encoding.h"
#include "tests/ca/handover/handover_line.h"

namespace imprint::testing {
namespace {

namespace fs = std::filesystem;

TEST_CASE("an order's hand-over files verify with tools imprint did not write", "[handover]") {
  HandoverLine line;
  std::string out;

  INFO("manifest");
  std::string m = line.Path("out-manifest");
  REQUIRE(line.Cli("export --order PO-1 --format manifest --out " + m, &out) == 0);
  CHECK(Has(out, "exported 14 devices of order PO-1"));
  REQUIRE(line.Tool("manifest verify --root " + line.Root() + " " + m + "/manifest.json", &out) ==
          0);
  CHECK(Has(out, "14 of 14 entries verify"));
  REQUIRE(line.Check("manifest", m, &out) == 0);
  CHECK(Has(out, "manifest ok 14"));
  CHECK(Has(out, "\"f1\": \"failed\""));
  CHECK(Has(out, "\"r1\": \"revoked\""));
  CHECK(Has(out, "\"v00\": \"verified\""));
  CHECK_FALSE(Has(out, "o1"));

  INFO("AWS IoT: verified devices only");
  std::string aws = line.Path("out-aws");
  REQUIRE(line.Cli("export --order PO-1 --format aws-iot --out " + aws, &out) == 0);
  CHECK(Has(out, "exported 12 devices"));
  CHECK(Has(out, "skipped 1 failed"));
  CHECK(Has(out, "skipped 1 revoked"));
  REQUIRE(line.Check("aws", aws, &out) == 0);
  CHECK(Has(out, "aws ok 12 v00,v01,v02,v03,v04,v05,v06,v07,v08,v09,v10,v11"));

  INFO("Azure DPS: at most 10 enrollments per bulk body");
  std::string az = line.Path("out-azure");
  REQUIRE(line.Cli("export --order PO-1 --format azure-dps --out " + az, &out) == 0);
  REQUIRE(line.Check("azure", az, &out) == 0);
  CHECK(Has(out, "azure ok 12 [10, 2]"));
  CHECK(fs::exists(az + "/azure-enrollments-001.json"));
  CHECK(fs::exists(az + "/azure-enrollments-002.json"));

  INFO("CSV");
  std::string csv = line.Path("out-csv");
  REQUIRE(line.Cli("export --order PO-1 --format csv --out " + csv, &out) == 0);
  REQUIRE(line.Check("csv", csv, &out) == 0);
  CHECK(Has(out, "csv ok 14"));
  // The fingerprint is the SHA-256 of the certificate the registry holds.
  auto db = ca::OpenCaDatabase(line.ca.config()).value();
  auto stmt = db->Prepare("SELECT certificate_der FROM devices WHERE device_id = 'v03'").value();
  REQUIRE(stmt.Step().value());
  CHECK(
      Has(out, "\"v03\": [\"" + HexEncode(x509::Sha256(stmt.ColumnBlob(0))) + "\", \"verified\"]"));

  INFO("evidence");
  std::string ev = line.Path("out-evidence");
  REQUIRE(line.Cli("evidence --order PO-1 --out " + ev, &out) == 0);
  CHECK(Has(out, "evidence for order PO-1: PASS"));
  REQUIRE(line.Check("evidence", ev, &out) == 0);
  CHECK(Has(out, "evidence ok PASS"));
  CHECK(Has(out, "\"5.1-1\": \"PASS\""));
  CHECK(Has(out, "\"5.5-8\": \"PASS\""));
  auto evidence = nlohmann::json::parse(ReadFile(ev + "/evidence.json"));
  const auto& facts = evidence["facts"];
  CHECK(facts["devices"]["total"] == 14);
  CHECK(facts["devices"]["verified"] == 13);  // r1 was verified; its revocation is counted apart
  CHECK(facts["passwords"]["verifiers"] == 14);
  CHECK(facts["passwords"]["distinct_verifiers"] == 14);
  CHECK(facts["device_keys"]["distinct"] == 14);
  CHECK(facts["device_keys"]["types"]["EC P-256"] == 14);
  CHECK(facts["revocations"]["total"] == 1);
  CHECK(facts["revocations"]["by_reason"]["key-compromise"] == 1);
  CHECK(facts["audit"]["verified"] == true);
  for (const auto& key : facts["ca"]["keys"]) {
    INFO(key.dump());
    CHECK(key["CKA_EXTRACTABLE"] == false);
    CHECK(key["CKA_NEVER_EXTRACTABLE"] == true);
  }
}

TEST_CASE("the cloud verification certificate carries the code, chains to the root, is audited",
          "[handover]") {
  HandoverLine line;
  std::string out;
  std::string code = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  std::string cert = line.Path("verification.pem");
  int64_t before = line.Count("SELECT COUNT(*) FROM audit_log");
  REQUIRE(line.Cli("cloud verification-cert --code " + code + " --out " + cert, &out) == 0);
  REQUIRE(RunCommand("openssl verify -CAfile " + line.Root() + " -untrusted " +
                         line.ca.config().ChainPemPath() + " " + cert + " 2>&1",
                     &out) == 0);
  REQUIRE(RunCommand("openssl x509 -noout -subject -in " + cert, &out) == 0);
  CHECK(Has(out, "CN = " + code));
  CHECK(line.Count("SELECT COUNT(*) FROM audit_log WHERE event = 'cloud.verification_certificate' "
                   "AND detail LIKE '%" +
                   code + "%'") == 1);
  CHECK(line.Count("SELECT COUNT(*) FROM audit_log") > before);

  // A code that is not one: refused, nothing written, nothing audited. (The serving CA's CRL
  // keeper may publish, and audit, the CRL that r1's revocation made stale at any moment.)
  auto admin_records = [&] {
    return line.Count("SELECT COUNT(*) FROM audit_log WHERE event <> 'crl.issued'");
  };
  int64_t head = admin_records();
  std::string bad = line.Path("bad.pem");
  CHECK(line.Cli("cloud verification-cert --code 'a b' --out " + bad, &out) == 1);
  CHECK(Has(out, "--code must be"));
  CHECK(line.Cli("cloud verification-cert --code " + std::string(65, 'a') + " --out " + bad,
                 &out) == 1);
  CHECK_FALSE(fs::exists(bad));
  CHECK(admin_records() == head);
}

TEST_CASE("bad export input writes nothing", "[handover]") {
  HandoverLine line;
  std::string out;
  std::string dir = line.Path("out");
  CHECK(line.Cli("export --order NOPE --format manifest --out " + dir, &out) == 1);
  CHECK(Has(out, "unknown order NOPE"));
  CHECK(line.Cli("evidence --order NOPE --out " + dir, &out) == 1);
  CHECK(line.Cli("export --order PO-1 --format xml --out " + dir, &out) == 1);
  CHECK(Has(out, "unknown export format"));
  CHECK_FALSE(fs::exists(dir));

  // A directory with something in it is refused unless --force, and what is there stays.
  fs::create_directories(dir);
  WriteFile(dir + "/keep.txt", "operator's notes");
  CHECK(line.Cli("export --order PO-1 --format csv --out " + dir, &out) == 1);
  CHECK(Has(out, "is not empty"));
  CHECK_FALSE(fs::exists(dir + "/devices.csv"));
  REQUIRE(line.Cli("export --order PO-1 --format csv --out " + dir + " --force", &out) == 0);
  CHECK(fs::exists(dir + "/devices.csv"));
  CHECK(ReadFile(dir + "/keep.txt") == "operator's notes");
  // No temporary file is left behind.
  for (const auto& entry : fs::directory_iterator(dir)) {
    CHECK(entry.path().filename().string().find(".tmp-") == std::string::npos);
  }
}

TEST_CASE("a tampered manifest entry fails verification at that entry", "[handover]") {
  HandoverLine line;
  std::string out;
  std::string m = line.Path("m");
  REQUIRE(line.Cli("export --order PO-1 --format manifest --out " + m, &out) == 0);
  auto manifest = nlohmann::json::parse(ReadFile(m + "/manifest.json"));
  REQUIRE(manifest.size() == 14);

  auto rewrite = [&](const nlohmann::json& changed, const std::string& name) {
    std::string path = m + "/" + name;
    WriteFile(path, changed.dump());
    return path;
  };
  // 1. Entry 3's payload says "verified" for a failed device... any change breaks its signature.
  nlohmann::json forged = manifest;
  auto payload = nlohmann::json::parse([&] {
    auto b = Base64UrlDecode(forged[3]["payload"].get<std::string>()).value();
    return std::string(b.begin(), b.end());
  }());
  payload["status"] = "verified";
  payload["uniqueId"] = "someone-else";
  forged[3]["payload"] = Base64UrlEncode(AsBytes(payload.dump()));
  // 2. Entry 5 claims another device in its (unsigned) header.
  forged[5]["header"]["uniqueId"] = "v99";
  // 3. Entry 7 is signed, but by a key that is not the manifest signer's (its header copied).
  forged[7]["protected"] = Base64UrlEncode(AsBytes(R"({"alg":"ES256","kid":"x","x5t#S256":"y"})"));
  std::string path = rewrite(forged, "forged.json");
  REQUIRE(line.Tool("manifest verify --root " + line.Root() + " --signer " + m +
                        "/manifest-signer.pem " + path,
                    &out) == 1);
  CHECK(Has(out, "entry 3 "));
  CHECK(Has(out, "signature does not verify"));
  CHECK(Has(out, "entry 5 (v99): header uniqueId v99 is not the signed"));
  CHECK(Has(out, "entry 7 "));
  CHECK(Has(out, "signed by another key"));
  CHECK(Has(out, "11 of 14 entries verify"));
  // jwcrypto agrees that the forged file does not verify.
  fs::rename(path, m + "/manifest.json");
  CHECK(line.Check("manifest", m, &out) == 1);

  // Another trust anchor does not vouch for the signer; a file that is not a manifest is refused.
  std::string chain = ReadFile(line.ca.config().ChainPemPath());
  std::string issuing = chain.substr(0, chain.find("-----END CERTIFICATE-----") + 26);
  WriteFile(m + "/issuing.pem", issuing);
  CHECK(line.Tool("manifest verify --root " + m + "/issuing.pem " + m + "/manifest.json", &out) !=
        0);
  CHECK(Has(out, "does not chain"));
  WriteFile(m + "/object.json", "{\"not\": \"an array\"}");
  CHECK(line.Tool("manifest verify --root " + line.Root() + " " + m + "/object.json", &out) != 0);
  CHECK(Has(out, "is not a JSON array"));
}

TEST_CASE("evidence shows FAIL for a copied password verifier and for an edited audit log",
          "[handover]") {
  HandoverLine line;
  std::string out;
  // Someone with write access to the store gives v01 the verifier of v00.
  line.Exec(
      "UPDATE secret_verifiers SET verifier = (SELECT verifier FROM secret_verifiers "
      "WHERE device_id = 'v00') WHERE device_id = 'v01'");
  std::string ev = line.Path("ev1");
  REQUIRE(line.Cli("evidence --order PO-1 --out " + ev, &out) == 0);
  CHECK(Has(out, "evidence for order PO-1: FAIL"));
  REQUIRE(line.Check("evidence", ev, &out) == 0);  // still a correctly signed pack
  CHECK(Has(out, "\"5.1-1\": \"FAIL\""));
  CHECK(Has(out, "\"5.5-8\": \"PASS\""));
  CHECK(Has(ReadFile(ev + "/evidence.html"), "<td class=\"fail\">FAIL</td>"));

  // ... and an audit record rewritten.
  line.Exec(
      "UPDATE audit_log SET detail = replace(detail, 'r1', 'r2') WHERE event = "
      "'certificate.revoked'");
  ev = line.Path("ev2");
  REQUIRE(line.Cli("evidence --order PO-1 --out " + ev, &out) == 0);
  REQUIRE(line.Check("evidence", ev, &out) == 0);
  CHECK(Has(out, "\"5.5-8\": \"FAIL\""));
  auto evidence = nlohmann::json::parse(ReadFile(ev + "/evidence.json"));
  CHECK(evidence["facts"]["audit"]["verified"] == false);
  CHECK_FALSE(evidence["facts"]["audit"]["error"].get<std::string>().empty());
  // The first pack was audited; nothing can be added to a log that fails verification.
  CHECK(Has(out, "evidence ok"));
  CHECK(line.Count("SELECT COUNT(*) FROM audit_log WHERE event = 'evidence.signed'") == 1);
}

// sha256sum's digest of `path`: a tool imprint did not write.
std::string Sha256Sum(const std::string& path) {
  std::string out;
  REQUIRE(RunCommand("sha256sum " + path, &out) == 0);
  return out.substr(0, 64);
}

TEST_CASE("signing a manifest or an evidence pack is audited with the files' digests",
          "[handover]") {
  HandoverLine line;
  std::string out;
  auto details = [&](const std::string& event) {
    auto db = ca::OpenCaDatabase(line.ca.config()).value();
    auto stmt =
        db->Prepare("SELECT actor, detail FROM audit_log WHERE event = ? ORDER BY seq").value();
    stmt.BindAll(event);
    std::vector<nlohmann::json> found;
    while (stmt.Step().value()) {
      CHECK(stmt.ColumnText(0) == "admin");
      found.push_back(nlohmann::json::parse(stmt.ColumnText(1)));
    }
    return found;
  };

  std::string m = line.Path("m");
  REQUIRE(line.Cli("export --order PO-1 --format manifest --out " + m, &out) == 0);
  std::string digest = Sha256Sum(m + "/manifest.json");
  CHECK(Has(out, "manifest.json sha256 " + digest));
  auto signed_manifests = details("manifest.signed");
  REQUIRE(signed_manifests.size() == 1);
  CHECK(signed_manifests[0]["order"] == "PO-1");
  CHECK(signed_manifests[0]["entries"] == 14);
  CHECK(signed_manifests[0]["sha256"] == digest);

  std::string ev = line.Path("ev");
  REQUIRE(line.Cli("evidence --order PO-1 --out " + ev, &out) == 0);
  CHECK(Has(out, "(evidence.signed)"));
  auto packs = details("evidence.signed");
  REQUIRE(packs.size() == 1);
  CHECK(packs[0]["order"] == "PO-1");
  CHECK(packs[0]["verdict"] == "PASS");
  CHECK(packs[0]["sha256"]["evidence.json"] == Sha256Sum(ev + "/evidence.json"));
  CHECK(packs[0]["sha256"]["evidence.html"] == Sha256Sum(ev + "/evidence.html"));

  // The unsigned formats read the store and add nothing; a refused export records nothing.
  auto records = [&] {
    return line.Count("SELECT COUNT(*) FROM audit_log WHERE event <> 'crl.issued'");
  };
  int64_t head = records();
  REQUIRE(line.Cli("export --order PO-1 --format csv --out " + line.Path("c"), &out) == 0);
  CHECK(line.Cli("export --order PO-1 --format manifest --out " + m, &out) == 1);  // not empty
  CHECK(line.Cli("export --order NOPE --format manifest --out " + line.Path("n"), &out) == 1);
  CHECK(records() == head);
  CHECK(line.Cli("audit verify", &out) == 0);
  CHECK(Has(out, "audit log OK"));
}

}  // namespace
}  // namespace imprint::testing
