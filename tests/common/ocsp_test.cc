// OCSP requests as openssl writes them, read by ParseOcspRequest; responses from
// BuildOcspResponse judged by openssl ocsp (signature, nonce, each status) and
// python3-cryptography (every field).

#include "common/x509/ocsp.h"

#include <openssl/obj_mac.h>

#include <catch2/catch.hpp>

#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"
#include "tests/common/x509_test_util.h"
#include "tests/support/temp_dir.h"

namespace imprint::testing {
namespace {

struct Issuer {
  TempDir dir;
  std::unique_ptr<x509::EvpSigner> signer = x509::EvpSigner::Create(TestKey("P-256")).value();
  x509::X509Ptr cert =
      Issue(RootProfile(), "Test OCSP Issuer", signer->public_key(), nullptr, *signer);

  Issuer() { WriteFile(dir / "issuer.pem", ToPem(cert.get())); }

  std::string Path(const std::string& name) const { return (dir / name).string(); }

  // `openssl ocsp` writes a request for ARGS (e.g. "-serial 0x12") to NAME.
  Bytes Request(const std::string& args, const std::string& name = "req.der") {
    std::string out;
    REQUIRE(RunCommand("openssl ocsp -issuer " + Path("issuer.pem") + " " + args + " -reqout " +
                           Path(name) + " 2>&1",
                       &out) == 0);
    std::string der = ReadFile(dir / name);
    return Bytes(der.begin(), der.end());
  }
};

TEST_CASE("an OCSP request from openssl reads back: CertIDs, issuer hashes, serials, nonce",
          "[ocsp]") {
  Issuer issuer;
  auto request = x509::ParseOcspRequest(issuer.Request("-serial 0x12ab -serial 7"), 16);
  REQUIRE(request.has_value());
  REQUIRE(request->ids.size() == 2);
  CHECK(request->nonce_extension.has_value());
  auto sha1 = x509::IssuerHashes(issuer.cert.get(), NID_sha1);
  REQUIRE(sha1.has_value());
  const x509::OcspCertId& first = request->ids[0];
  CHECK(first.hash_nid == NID_sha1);
  CHECK(first.issuer_name_hash == sha1->name_hash);
  CHECK(first.issuer_key_hash == sha1->key_hash);
  CHECK(first.serial == Bytes{0x12, 0xab});
  CHECK_FALSE(first.serial_negative);
  CHECK(request->ids[1].serial == Bytes{0x07});

  auto sha256 = x509::ParseOcspRequest(issuer.Request("-sha256 -no_nonce -serial -0x05"), 16);
  REQUIRE(sha256.has_value());
  CHECK_FALSE(sha256->nonce_extension.has_value());
  CHECK(sha256->ids[0].hash_nid == NID_sha256);
  CHECK(sha256->ids[0].issuer_key_hash ==
        x509::IssuerHashes(issuer.cert.get(), NID_sha256)->key_hash);
  CHECK(sha256->ids[0].serial == Bytes{0x05});
  CHECK(sha256->ids[0].serial_negative);
}

TEST_CASE("requests that are not one OCSP request, or ask about too many, are refused", "[ocsp]") {
  Issuer issuer;
  Bytes three = issuer.Request("-serial 1 -serial 2 -serial 3");
  CHECK(x509::ParseOcspRequest(three, 3).has_value());
  auto too_many = x509::ParseOcspRequest(three, 2);
  REQUIRE_FALSE(too_many.has_value());
  CHECK(too_many.error().code() == Code::kInvalidArgument);
  Bytes trailing = three;
  trailing.push_back(0x00);
  CHECK(x509::ParseOcspRequest(trailing, 16).error().code() == Code::kInvalidArgument);
  CHECK(x509::ParseOcspRequest(Bytes{0x30, 0x00}, 16).error().code() == Code::kInvalidArgument);
  CHECK(x509::ParseOcspRequest(Bytes{}, 16).error().code() == Code::kInvalidArgument);
  CHECK(x509::OcspStatusOnly(x509::OcspResponseStatus::kMalformedRequest) ==
        Bytes{0x30, 0x03, 0x0a, 0x01, 0x01});
}

TEST_CASE(
    "an OCSP response verifies with openssl and python3-cryptography, each status as "
    "built",
    "[ocsp]") {
  Issuer issuer;
  Bytes req = issuer.Request("-serial 0x01 -serial 0x02 -serial 0x03");
  auto request = x509::ParseOcspRequest(req, 16);
  REQUIRE(request.has_value());

  // The issuer answers for itself (RFC 6960 4.2.2.2: the CA that issued the certificates).
  x509::OcspResponseSpec spec;
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  REQUIRE(X509_pubkey_digest(issuer.cert.get(), EVP_sha1(), hash, &len) == 1);
  spec.responder_key_hash.assign(hash, hash + len);
  spec.responder_cert = x509::CertificateToDer(issuer.cert.get()).value();
  spec.produced_ms = 1'790'000'000'000;  // 2026-09-21T14:13:20Z
  spec.next_update_ms = spec.produced_ms + 3'600'000;
  spec.nonce_extension = request->nonce_extension;
  using Status = x509::OcspAnswer::Status;
  spec.answers = {
      {request->ids[0].der, Status::kGood},
      {request->ids[1].der, Status::kRevoked, 1'780'000'000'000, x509::CrlReason::kKeyCompromise},
      {request->ids[2].der, Status::kUnknown}};
  auto response = x509::BuildOcspResponse(spec, *issuer.signer);
  REQUIRE(response.has_value());
  WriteFile(issuer.dir / "resp.der", std::string(response->begin(), response->end()));

  std::string out;
  // openssl checks a nonce only against a request it makes itself: python checks the echo.
  int rc = RunCommand("openssl ocsp -no_nonce -respin " + issuer.Path("resp.der") + " -issuer " +
                          issuer.Path("issuer.pem") + " -CAfile " + issuer.Path("issuer.pem") +
                          " -serial 0x01 -serial 0x02 -serial 0x03 -validity_period 315360000 2>&1",
                      &out);
  INFO(out);
  REQUIRE(rc == 0);
  CHECK(out.find("Response verify OK") != std::string::npos);
  CHECK(out.find("0x01: good") != std::string::npos);
  CHECK(out.find("0x02: revoked") != std::string::npos);
  CHECK(out.find("Reason: keyCompromise") != std::string::npos);
  CHECK(out.find("0x03: unknown") != std::string::npos);
  CHECK(out.find("WARNING") == std::string::npos);  // the times are as -validity_period allows

  WriteFile(issuer.dir / "check.py", R"(
import datetime, sys
from cryptography import x509
from cryptography.x509 import ocsp
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
resp = ocsp.load_der_ocsp_response(open(sys.argv[1], 'rb').read())
assert resp.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
issuer = x509.load_pem_x509_certificate(open(sys.argv[2], 'rb').read())
issuer.public_key().verify(resp.signature, resp.tbs_response_bytes, ec.ECDSA(hashes.SHA256()))
assert resp.produced_at == datetime.datetime(2026, 9, 21, 14, 13, 20)
singles = list(resp.responses)
assert [s.serial_number for s in singles] == [1, 2, 3]
assert [s.certificate_status for s in singles] == [ocsp.OCSPCertStatus.GOOD,
    ocsp.OCSPCertStatus.REVOKED, ocsp.OCSPCertStatus.UNKNOWN]
assert singles[1].revocation_time == datetime.datetime(2026, 5, 28, 20, 26, 40)
assert singles[1].revocation_reason == x509.ReasonFlags.key_compromise
assert all((s.next_update - s.this_update).total_seconds() == 3600 for s in singles)
assert resp.responder_key_hash is not None and resp.certificates[0] == issuer
# The nonce as `openssl ocsp -req_text` prints it: the OCTET STRING that wraps it.
sent = bytes.fromhex(sys.argv[3])
assert sent[0] == 0x04 and sent[1] == len(sent) - 2
assert resp.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == sent[2:]
print("OK")
)");
  REQUIRE(RunCommand("openssl ocsp -req_text -reqin " + issuer.Path("req.der") + " 2>&1", &out) ==
          0);
  size_t nonce_at = out.find("OCSP Nonce:");
  REQUIRE(nonce_at != std::string::npos);
  std::string nonce_hex = out.substr(out.find_first_of("0123456789ABCDEF", nonce_at + 11));
  nonce_hex = nonce_hex.substr(0, nonce_hex.find_first_not_of("0123456789ABCDEF"));
  REQUIRE(nonce_hex.size() == 36);  // 04 10 and 16 bytes
  rc = RunCommand("/usr/bin/python3 " + issuer.Path("check.py") + " " + issuer.Path("resp.der") +
                      " " + issuer.Path("issuer.pem") + " " + nonce_hex + " 2>&1",
                  &out);
  INFO(out);
  CHECK(rc == 0);
  CHECK(out == "OK\n");
}

}  // namespace
}  // namespace imprint::testing
