// The C agent's core (mcu_agent/core) driven through its frames: the transaction against a
// test CA, with OpenSSL as the independent judge of its CSR and signatures; repeated requests;
// resets; refusals that change nothing; and records that are torn or altered.
#include <openssl/x509.h>

#include <catch2/catch.hpp>

#include "common/proof.h"
#include "common/x509/csr.h"
#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"
#include "common/x509/signer.h"
#include "imprint/v1/agent.pb.h"
#include "tests/common/x509_test_util.h"
#include "tests/mcu/mcu_test_device.h"

namespace imprint::testing {
namespace {

namespace v1 = imprint::v1;
using x509::EvpSigner;

// A root and an issuing CA that certify whatever key a device's CSR carries.
struct TestCa {
  std::unique_ptr<EvpSigner> root_signer = EvpSigner::Create(TestKey("P-256")).value();
  std::unique_ptr<EvpSigner> issuing_signer = EvpSigner::Create(TestKey("P-256")).value();
  x509::X509Ptr root =
      Issue(RootProfile(), "Test Root", root_signer->public_key(), nullptr, *root_signer);
  x509::X509Ptr issuing = Issue(IssuingProfile(), "Test Issuing", issuing_signer->public_key(),
                                root.get(), *root_signer);

  Bytes Der(const X509* cert) const { return x509::CertificateToDer(cert).value(); }
  Bytes RootSha256() const { return x509::Sha256(Der(root.get())); }

  v1::InstallCredentialsRequest Credentials(EVP_PKEY* key, const std::string& cn) {
    auto cert = Issue(DeviceProfile(), cn, key, issuing.get(), *issuing_signer);
    v1::InstallCredentialsRequest request;
    Bytes der = Der(cert.get());
    request.set_certificate_der(std::string(der.begin(), der.end()));
    for (const X509* link : {issuing.get(), root.get()}) {
      Bytes d = Der(link);
      request.add_chain_der(std::string(d.begin(), d.end()));
    }
    auto* secret = request.add_secrets();
    secret->set_name("default_password");
    secret->set_value("Tz7-qL4v-Wm2x");
    return request;
  }
};

v1::DeviceIdentity Identity(McuDevice& d, uint16_t seq) {
  v1::DeviceIdentity id;
  REQUIRE(d.Call(IMPRINT_METHOD_GET_IDENTITY, v1::GetIdentityRequest(), &id, seq) == 0);
  return id;
}

// The CSR checked by OpenSSL's own parser, and its key.
x509::PkeyPtr CheckedCsrKey(const std::string& der, const std::string& cn) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509_REQ* raw = d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size()));
  REQUIRE(raw != nullptr);
  REQUIRE(p == reinterpret_cast<const unsigned char*>(der.data()) + der.size());
  EVP_PKEY* key = X509_REQ_get0_pubkey(raw);
  REQUIRE(X509_REQ_verify(raw, key) == 1);
  char name[128] = {};
  X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(raw), NID_commonName, name, sizeof name);
  CHECK(std::string(name) == cn);
  EVP_PKEY_up_ref(key);
  x509::PkeyPtr out(key);
  X509_REQ_free(raw);
  // And by the CA's own CSR check.
  REQUIRE(x509::ParseAndVerifyCsr(AsBytes(der)).has_value());
  return out;
}

TEST_CASE("mcu agent: HELLO agrees version 1 and announces the device's request limit") {
  McuDevice d;
  serial::Frame hello{serial::FrameType::kHello, 7, 0, Bytes{1, 1}};
  auto frames = McuDevice::Frames(d.Feed(serial::EncodeFrame(hello)));
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].type == serial::FrameType::kHelloAck);
  CHECK(frames[0].seq == 7);
  CHECK(frames[0].code == 0);
  REQUIRE(frames[0].payload.size() == 3);
  CHECK(frames[0].payload[0] == 1);
  CHECK((frames[0].payload[1] | frames[0].payload[2] << 8) == IMPRINT_AGENT_MAX_REQUEST);

  serial::Frame future{serial::FrameType::kHello, 8, 0, Bytes{2, 3}};
  frames = McuDevice::Frames(d.Feed(serial::EncodeFrame(future)));
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].code == 9);  // FAILED_PRECONDITION: no version in common
}

TEST_CASE("mcu agent: the whole transaction, judged by OpenSSL") {
  TestCa ca;
  Bytes root_sha = ca.RootSha256();
  McuDevice d("mcu-00042", root_sha.data());
  auto id = Identity(d, 1);
  CHECK(id.hardware_id() == "mcu-00042");
  CHECK(id.state() == v1::FACTORY_NEW);

  v1::CreateKeyAndCsrResponse csr;
  REQUIRE(d.Call(IMPRINT_METHOD_CREATE_KEY_AND_CSR, v1::CreateKeyAndCsrRequest(), &csr, 2) == 0);
  auto key = CheckedCsrKey(csr.csr_der(), "mcu-00042");
  CHECK(Identity(d, 3).state() == v1::KEY_GENERATED);

  v1::InstallCredentialsResponse installed;
  REQUIRE(d.Call(IMPRINT_METHOD_INSTALL_CREDENTIALS, ca.Credentials(key.get(), "mcu-00042"),
                 &installed, 4) == 0);
  CHECK(Identity(d, 5).state() == v1::CREDENTIALS_STAGED);

  v1::ProveIdentityRequest prove;
  Bytes nonce(32, 0x5A);
  prove.set_nonce(std::string(nonce.begin(), nonce.end()));
  v1::ProveIdentityResponse proof;
  REQUIRE(d.Call(IMPRINT_METHOD_PROVE_IDENTITY, prove, &proof, 6) == 0);
  auto alg = x509::DefaultAlgorithmFor(key.get()).value();
  CHECK(x509::VerifySignature(key.get(), alg, ProofMessage(nonce), AsBytes(proof.signature_der()))
            .has_value());

  v1::CommitResponse committed;
  REQUIRE(d.Call(IMPRINT_METHOD_COMMIT, v1::CommitRequest(), &committed, 7) == 0);
  auto after = Identity(d, 8);
  CHECK(after.state() == v1::COMMITTED);
  CHECK_FALSE(after.certificate_der().empty());
  CHECK(d.Call(IMPRINT_METHOD_COMMIT, v1::CommitRequest(), &committed, 9) == 9);
  CHECK(d.Call(IMPRINT_METHOD_CREATE_KEY_AND_CSR, v1::CreateKeyAndCsrRequest(), &csr, 10) == 9);

  // Durable: three saves (key, staged, commit), and a restart finds the device committed.
  CHECK(d.record().saves == 3);
  REQUIRE(d.Start() == 0);
  CHECK(Identity(d, 11).certificate_der() == after.certificate_der());
  REQUIRE(d.Call(IMPRINT_METHOD_PROVE_IDENTITY, prove, &proof, 12) == 0);
}

TEST_CASE("mcu agent: a repeated request is answered again, not done twice") {
  McuDevice d;
  v1::CreateKeyAndCsrRequest fresh;
  fresh.set_fresh_key(true);
  Bytes first, again, next;
  REQUIRE(d.Request(IMPRINT_METHOD_CREATE_KEY_AND_CSR, fresh, 100, &first) == 0);
  REQUIRE(d.Request(IMPRINT_METHOD_CREATE_KEY_AND_CSR, fresh, 100, &again) == 0);
  CHECK(again == first);
  CHECK(d.record().saves == 1);
  CHECK(d.agent().stats.repeated == 1);
  // A new number is a new request: a fresh key, another CSR.
  REQUIRE(d.Request(IMPRINT_METHOD_CREATE_KEY_AND_CSR, fresh, 101, &next) == 0);
  CHECK(next != first);
  CHECK(d.record().saves == 2);

  // A HELLO begins a session: the cached answer is not given to a new session's request.
  serial::Frame hello{serial::FrameType::kHello, 5, 0, Bytes{1, 1}};
  d.Feed(serial::EncodeFrame(hello));
  REQUIRE(d.Request(IMPRINT_METHOD_CREATE_KEY_AND_CSR, fresh, 101, &again) == 0);
  CHECK(again != next);
  CHECK(d.record().saves == 3);
}

TEST_CASE("mcu agent: after a reset the key is the same and a staged install survives") {
  TestCa ca;
  McuDevice d("mcu-reset");
  v1::CreateKeyAndCsrResponse csr, csr_again;
  REQUIRE(d.Call(IMPRINT_METHOD_CREATE_KEY_AND_CSR, v1::CreateKeyAndCsrRequest(), &csr, 1) == 0);
  auto key = CheckedCsrKey(csr.csr_der(), "mcu-reset");
  REQUIRE(d.Start() == 0);  // power lost: the answer cache with it
  REQUIRE(d.Call(IMPRINT_METHOD_CREATE_KEY_AND_CSR, v1::CreateKeyAndCsrRequest(), &csr_again, 1) ==
          0);
  auto key_again = CheckedCsrKey(csr_again.csr_der(), "mcu-reset");
  CHECK(EVP_PKEY_eq(key.get(), key_again.get()) == 1);

  v1::InstallCredentialsResponse installed;
  REQUIRE(d.Call(IMPRINT_METHOD_INSTALL_CREDENTIALS, ca.Credentials(key.get(), "mcu-reset"),
                 &installed, 2) == 0);
  REQUIRE(d.Start() == 0);
  CHECK(Identity(d, 3).state() == v1::CREDENTIALS_STAGED);
  v1::CommitResponse committed;
  CHECK(d.Call(IMPRINT_METHOD_COMMIT, v1::CommitRequest(), &committed, 4) == 0);
}

TEST_CASE("mcu agent: refused credentials change nothing") {
  TestCa ca, other_ca;
  Bytes root_sha = ca.RootSha256();
  McuDevice d("mcu-refuse", root_sha.data());
  v1::CreateKeyAndCsrResponse csr;
  REQUIRE(d.Call(IMPRINT_METHOD_CREATE_KEY_AND_CSR, v1::CreateKeyAndCsrRequest(), &csr, 1) == 0);
  auto key = CheckedCsrKey(csr.csr_der(), "mcu-refuse");
  Bytes stored = d.record().bytes;
  v1::InstallCredentialsResponse out;
  Bytes why;
  uint16_t seq = 10;
  auto refused = [&](const v1::InstallCredentialsRequest& request, const std::string& reason) {
    INFO(reason);
    REQUIRE(d.Request(IMPRINT_METHOD_INSTALL_CREDENTIALS, request, ++seq, &why) == 3);
    CHECK(std::string(why.begin(), why.end()).find(reason) != std::string::npos);
    CHECK(d.record().bytes == stored);
    CHECK(Identity(d, ++seq).state() == v1::KEY_GENERATED);
  };
  auto other_key = TestKey("P-256");
  refused(ca.Credentials(other_key.get(), "mcu-refuse"), "not for this device's key");
  refused(other_ca.Credentials(key.get(), "mcu-refuse"), "trusted CA root");
  auto bad_link = ca.Credentials(key.get(), "mcu-refuse");
  Bytes other_issuing = other_ca.Der(other_ca.issuing.get());
  bad_link.set_chain_der(0, std::string(other_issuing.begin(), other_issuing.end()));
  refused(bad_link, "chain does not link");
  auto passcode = ca.Credentials(key.get(), "mcu-refuse");
  passcode.mutable_secrets(0)->set_name("matter_passcode");
  refused(passcode, "never be given its passcode");
  auto control = ca.Credentials(key.get(), "mcu-refuse");
  control.mutable_secrets(0)->set_value("line\nbreak");
  refused(control, "secret is malformed");
  auto garbage = ca.Credentials(key.get(), "mcu-refuse");
  garbage.set_certificate_der("not a certificate");
  refused(garbage, "not DER X.509");

  // A storage that fails at the commit point leaves the device staged, not committed.
  REQUIRE(d.Call(IMPRINT_METHOD_INSTALL_CREDENTIALS, ca.Credentials(key.get(), "mcu-refuse"), &out,
                 ++seq) == 0);
  d.record().fail_saves = 1;
  v1::CommitResponse committed;
  CHECK(d.Call(IMPRINT_METHOD_COMMIT, v1::CommitRequest(), &committed, ++seq) == 13);
  CHECK(Identity(d, ++seq).state() == v1::CREDENTIALS_STAGED);
  CHECK(d.Call(IMPRINT_METHOD_COMMIT, v1::CommitRequest(), &committed, ++seq) == 0);
}

TEST_CASE("mcu agent: a torn or altered record is refused at start") {
  McuDevice d;
  v1::CreateKeyAndCsrResponse csr;
  REQUIRE(d.Call(IMPRINT_METHOD_CREATE_KEY_AND_CSR, v1::CreateKeyAndCsrRequest(), &csr, 1) == 0);
  Bytes good = d.record().bytes;
  for (size_t cut : {size_t{0}, size_t{3}, good.size() / 2, good.size() - 1}) {
    d.record().bytes.assign(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
    CHECK(d.Start() == -1);
  }
  for (size_t i = 0; i < good.size(); ++i) {
    d.record().bytes = good;
    d.record().bytes[i] ^= 0x01;
    INFO("byte " << i);
    CHECK(d.Start() == -1);
  }
  d.record().bytes = good;
  CHECK(d.Start() == 0);
}

TEST_CASE("mcu agent: bad frames are counted and never answered") {
  McuDevice d;
  serial::Frame hello{serial::FrameType::kHello, 1, 0, Bytes{1, 1}};
  Bytes wire = serial::EncodeFrame(hello);
  Bytes flipped = wire;
  flipped[4] ^= 0x40;
  CHECK(d.Feed(flipped).empty());
  Bytes endless(IMPRINT_FRAME_ENCODED_MAX(IMPRINT_AGENT_MAX_REQUEST) + 10, 0x41);
  endless.push_back(0);
  CHECK(d.Feed(endless).empty());
  Bytes stuffed_wrong{0x00, 0x05, 0x01, 0x00};
  CHECK(d.Feed(stuffed_wrong).empty());
  CHECK(d.agent().stats.bad_crc + d.agent().stats.malformed == 2);
  CHECK(d.agent().stats.oversize == 1);
  // And the link still works.
  CHECK(McuDevice::Frames(d.Feed(wire)).size() == 1);
}

}  // namespace
}  // namespace imprint::testing
