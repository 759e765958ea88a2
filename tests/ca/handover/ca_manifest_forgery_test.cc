// Forged manifests through the real `imprint-ca manifest verify`: entries re-signed with keys
// that chain to the CA's root but are not the manifest key's (a station's, a device's, the
// CA's TLS key), and, under a signer that does carry the manifest usage, entries that claim
// another device's certificate, repeat an id, repeat a member or put terminal escapes in alg.

#include <openssl/pem.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/file_util.h"
#include "common/jose/jws.h"
#include "common/x509/certificate_builder.h"
#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"
#include "tests/ca/handover/handover_line.h"

namespace imprint::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDocumentSigning = "1.3.6.1.5.5.7.3.36";

std::string Decoded(const std::string& b64url) {
  Bytes b = Base64UrlDecode(b64url).value();
  return std::string(b.begin(), b.end());
}

// Signs `payloads` (uniqueId -> payload JSON) with `key` under a header naming `cert`.
nlohmann::json SignEntries(const std::vector<nlohmann::json>& payloads, EVP_PKEY* key,
                           const X509* cert) {
  EVP_PKEY_up_ref(key);
  auto signer = x509::EvpSigner::Create(x509::PkeyPtr(key));
  REQUIRE(signer.has_value());
  Bytes der = x509::CertificateToDer(cert).value();
  jose::JwsSigner jws(**signer,
                      {{"kid", "forged"}, {"x5t#S256", Base64UrlEncode(x509::Sha256(der))}});
  nlohmann::json out = nlohmann::json::array();
  for (const auto& payload : payloads) {
    auto entry = jws.Sign(payload.dump(), {{"uniqueId", payload["uniqueId"]}});
    REQUIRE(entry.has_value());
    out.push_back(*entry);
  }
  return out;
}

// The genuine payloads, every device marked verified, plus a rogue device that carries v00's
// certificate and key under its own id.
std::vector<nlohmann::json> ForgedPayloads(const nlohmann::json& genuine) {
  std::vector<nlohmann::json> payloads;
  for (const auto& entry : genuine) {
    auto payload = nlohmann::json::parse(Decoded(entry["payload"].get<std::string>()));
    payload["status"] = "verified";
    if (payload["uniqueId"] == "v00") {
      auto rogue = payload;
      rogue["uniqueId"] = "rogue";
      payloads.push_back(rogue);
    }
    payloads.push_back(payload);
  }
  return payloads;
}

std::string Pem(const X509* cert) { return x509::CertificateToPem(cert).value(); }

x509::PkeyPtr PrivateKey(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), int(pem.size())),
                                                &BIO_free);
  x509::PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  REQUIRE(key);
  return key;
}

TEST_CASE("a manifest re-signed with a station's, a device's or the TLS key does not verify",
          "[handover]") {
  HandoverLine line;
  std::string out;
  std::string m = line.Path("m");
  REQUIRE(line.Cli("export --order PO-1 --format manifest --out " + m, &out) == 0);
  auto at = out.find("manifest signer sha256 ");
  REQUIRE(at != std::string::npos);
  std::string pinned = out.substr(at + 23, 64);
  REQUIRE(line.Tool("manifest verify --root " + line.Root() + " --signer-sha256 " + pinned + " " +
                        m + "/manifest.json",
                    &out) == 0);
  CHECK(Has(out, "14 of 14 entries verify (signer sha256 " + pinned + ")"));
  // The fingerprint as `openssl x509 -fingerprint -sha256` prints it (upper case, colons) too.
  std::string colons;
  for (size_t i = 0; i < pinned.size(); i += 2) {
    colons += (i ? ":" : "") + pinned.substr(i, 2);
  }
  for (auto& c : colons) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(line.Tool("manifest verify --root " + line.Root() + " --signer-sha256 " + colons + " " + m +
                      "/manifest.json",
                  &out) == 0);
  // The signer certificate carries id-kp-documentSigning; openssl names it.
  REQUIRE(RunCommand("openssl x509 -in " + m + "/manifest-signer.pem -noout -ext extendedKeyUsage",
                     &out) == 0);
  CHECK((Has(out, "Document Signing") || Has(out, kDocumentSigning)));

  auto genuine = nlohmann::json::parse(ReadWholeFile(m + "/manifest.json").value());
  auto payloads = ForgedPayloads(genuine);
  std::string chain = ReadWholeFile(line.ca.config().ChainPemPath()).value();
  std::string issuing_pem = chain.substr(0, chain.find("-----END CERTIFICATE-----") + 26);

  // A device the forger owns: made on the line like any other.
  DeviceKey device = DeviceKey::Make();
  auto issued = CallIssue(line.a.stub(), "PO-2", "mine", device.csr_der);
  REQUIRE(issued.status.ok());
  const std::string& device_der = issued.response.certificate_der();
  auto device_cert = x509::ParseCertificateDer(AsBytes(device_der)).value();

  auto station_key = PrivateKey(line.a.key_pem());
  // The station's and the TLS files hold a chain: the first certificate is theirs.
  auto station_cert = std::move(x509::ParseCertificatesPem(line.a.cert_pem()).value().front());
  auto tls_key = PrivateKey(ReadWholeFile(line.ca.config().TlsKeyPath()).value());
  auto tls_cert =
      std::move(x509::ParseCertificatesPem(ReadWholeFile(line.ca.config().TlsCertPath()).value())
                    .value()
                    .front());

  struct Key {
    const char* whose;
    EVP_PKEY* key;
    const X509* cert;
  };
  for (const Key& k : {Key{"station", station_key.get(), station_cert.get()},
                       Key{"device", device.key.get(), device_cert.get()},
                       Key{"tls", tls_key.get(), tls_cert.get()}}) {
    INFO(k.whose);
    std::string dir = line.Path(std::string("forged-") + k.whose);
    fs::create_directories(dir);
    WriteFile(dir + "/manifest.json", SignEntries(payloads, k.key, k.cert).dump());
    WriteFile(dir + "/manifest-signer.pem", Pem(k.cert) + issuing_pem);
    // The forger's signer does chain to the root: only the usage tells it apart.
    REQUIRE(RunCommand("openssl verify -CAfile " + line.Root() + " -untrusted " + dir +
                           "/manifest-signer.pem " + dir + "/manifest-signer.pem",
                       &out) == 0);
    CHECK(line.Tool("manifest verify --root " + line.Root() + " " + dir + "/manifest.json", &out) !=
          0);
    CHECK(Has(out, "is not a manifest signer's"));
    CHECK_FALSE(Has(out, "entries verify"));
    // jwcrypto with the same rule (python3-cryptography reads the usage) refuses it too.
    CHECK(line.Check("manifest", dir, &out) != 0);
    CHECK(Has(out, "documentSigning"));
  }

  // The genuine signer, but not the one the brand owner pinned.
  CHECK(line.Tool("manifest verify --root " + line.Root() + " --signer-sha256 " +
                      std::string(64, 'a') + " " + m + "/manifest.json",
                  &out) != 0);
  CHECK(Has(out, "not the pinned"));
}

// A root of the test's own and a signer certificate with the manifest usage: what the
// manifest key could sign if it were used to lie, entry by entry.
struct OwnPki {
  std::unique_ptr<x509::EvpSigner> root_signer =
      x509::EvpSigner::Create(x509::GenerateKey("P-256").value()).value();
  x509::PkeyPtr signer_key = x509::GenerateKey("P-256").value();
  x509::X509Ptr root;
  x509::X509Ptr signer;

  OwnPki() {
    x509::CertificateProfile ca;
    ca.is_ca = true;
    ca.key_usage = {"keyCertSign", "cRLSign"};
    root = Issue(ca, {{"CN", "Test Root"}}, root_signer->public_key(), nullptr);
    x509::CertificateProfile manifest;
    manifest.extended_key_usage = {kDocumentSigning};
    signer = Issue(manifest, {{"CN", "Test Manifest Signer"}}, signer_key.get(), root.get());
  }

  x509::X509Ptr Device(const std::string& cn, EVP_PKEY* key) {
    x509::CertificateProfile device;
    device.extended_key_usage = {"clientAuth"};
    return Issue(device, {{"CN", cn}}, key, root.get());
  }

  x509::X509Ptr Issue(const x509::CertificateProfile& profile,
                      std::vector<std::pair<std::string, std::string>> name, EVP_PKEY* key,
                      const X509* issuer) {
    x509::CertificateRequest request;
    request.profile = &profile;
    request.subject.name = std::move(name);
    request.public_key = key;
    request.serial = x509::MakeSerial(Bytes(16, 0x42));
    auto cert = x509::IssueCertificate(request, issuer, *root_signer);
    REQUIRE(cert.has_value());
    return std::move(*cert);
  }
};

nlohmann::json DevicePayload(const std::string& id, const X509* cert) {
  Bytes der = x509::CertificateToDer(cert).value();
  auto jwk = jose::PublicJwk(X509_get0_pubkey(cert)).value();
  jwk["x5c"] = {Base64Encode(der)};
  return {{"version", 1},
          {"model", "test"},
          {"uniqueId", id},
          {"status", "verified"},
          {"publicKeySet", {{"keys", {jwk}}}}};
}

TEST_CASE("manifest entries that lie about their device are refused one by one", "[handover]") {
  OwnPki pki;
  auto key_a = x509::GenerateKey("P-256").value();
  auto key_b = x509::GenerateKey("P-256").value();
  auto cert_a = pki.Device("dev-a", key_a.get());
  auto cert_b = pki.Device("dev-b", key_b.get());
  std::vector<nlohmann::json> payloads = {
      DevicePayload("dev-a", cert_a.get()), DevicePayload("dev-b", cert_b.get()),
      DevicePayload("rogue", cert_a.get()),  // another device's certificate
      DevicePayload("dev-b", cert_b.get()),  // the same device again
  };
  auto entries = SignEntries(payloads, pki.signer_key.get(), pki.signer.get());
  // An entry with a second, unsigned payload member after the signed one: a reader that keeps
  // the first member and one that keeps the last see different devices.
  std::string doubled = entries[0].dump();
  doubled.insert(doubled.size() - 1,
                 ",\"payload\":\"" + Base64UrlEncode(AsBytes(R"({"uniqueId":"x"})")) + "\"");
  // An entry whose alg would drive the operator's terminal.
  nlohmann::json escape = entries[1];
  auto header = nlohmann::json::parse(Decoded(escape["protected"].get<std::string>()));
  header["alg"] = "\x1b[2J\x1b]0;owned\x07";
  escape["protected"] = Base64UrlEncode(AsBytes(header.dump()));

  auto dir = fs::temp_directory_path() / ("imprint-forgery-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string root = (dir / "root.pem").string();
  std::string signer = (dir / "signer.pem").string();
  std::string manifest = (dir / "manifest.json").string();
  WriteFile(root, Pem(pki.root.get()));
  WriteFile(signer, Pem(pki.signer.get()));
  WriteFile(manifest, "[" + entries[0].dump() + "," + entries[1].dump() + "," + entries[2].dump() +
                          "," + entries[3].dump() + "," + doubled + "," + escape.dump() + "]");
  std::string out;
  CHECK(HandoverLine::Tool(
            "manifest verify --root " + root + " --signer " + signer + " " + manifest, &out) == 1);
  CHECK(Has(out, "entry 2 (rogue): the device certificate is for dev-a, not rogue"));
  CHECK(Has(out, "entry 3 (dev-b): uniqueId appears in an earlier entry"));
  CHECK(Has(out, "entry 4 (?): member \"payload\" appears twice in one object"));
  CHECK(Has(out, "entry 5 "));
  CHECK(Has(out, "\\x1b[2J"));
  CHECK(out.find('\x1b') == std::string::npos);
  CHECK(out.find('\x07') == std::string::npos);
  CHECK(Has(out, "2 of 6 entries verify"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace imprint::testing
