// VerifyLog (common/offline/log_format): a log the subordinate key signed is accepted as it is,
// and each way of changing it afterwards, or of issuing outside the allowance, is named: an
// edit, a truncation, a reordering, an unsigned tail, a forged checkpoint, a certificate from
// another key, one past the count or after not-after, a device twice.

#include <catch2/catch.hpp>

#include "common/offline/log_format.h"
#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"
#include "tests/common/x509_test_util.h"

namespace imprint::testing {
namespace {

struct Log {
  offline::SignedAllowance allowance;
  // Shared, so a copy of the log (to tamper with) keeps the same subordinate.
  std::shared_ptr<x509::EvpSigner> sub = x509::EvpSigner::Create(TestKey("P-256")).value();
  std::shared_ptr<X509> sub_cert{
      Issue(IssuingProfile(), "sub", sub->public_key(), nullptr, *sub).release(), X509_free};
  std::vector<offline::LogEntry> entries;
  std::vector<offline::LogCheckpoint> checkpoints;

  explicit Log(int64_t count) {
    allowance.id = std::string(32, 'b');
    allowance.count = count;
    allowance.not_after_ms = 4102444800000;  // 2100-01-01
  }

  // A device certificate from the subordinate (or from `signer`, certified as `issuer`), entered
  // next.
  void Add(const std::string& device, int64_t issued_ms = 1000, x509::Signer* signer = nullptr,
           const X509* issuer = nullptr) {
    auto key = TestKey("P-256");
    x509::X509Ptr cert = Issue(DeviceProfile(), device, key.get(), issuer ? issuer : sub_cert.get(),
                               signer ? *signer : *sub);
    AddDer(device, x509::CertificateToDer(cert.get()).value(), x509::SerialHex(cert.get()).value(),
           issued_ms);
  }
  // An entry holding `der` as its certificate, chained as the station chains it.
  void AddDer(const std::string& device, const Bytes& der, const std::string& serial_hex,
              int64_t issued_ms = 1000) {
    offline::LogEntry e;
    e.seq = static_cast<int64_t>(entries.size()) + 1;
    e.device = device;
    e.serial_hex = serial_hex;
    e.certificate_der = der;
    e.challenge = Bytes(32, 0x5a);
    e.issued_ms = issued_ms;
    Bytes previous = entries.empty() ? Bytes(32, 0) : entries.back().hash;
    e.hash = offline::ChainHash(allowance.id, previous, e);
    entries.push_back(e);
  }
  void Checkpoint() {
    const offline::LogEntry& head = entries.back();
    checkpoints.push_back(
        {head.seq, head.hash,
         sub->Sign(offline::CheckpointMessage(allowance.id, head.seq, head.hash)).value()});
  }
  std::vector<offline::LogViolation> Verify() const {
    return offline::VerifyLog(allowance, sub_cert.get(), entries, checkpoints);
  }
};

bool Names(const std::vector<offline::LogViolation>& found, const std::string& reason) {
  for (const auto& v : found) {
    if (v.reason.find(reason) != std::string::npos) return true;
  }
  return false;
}

TEST_CASE("a log as the subordinate signed it verifies", "[offline]") {
  Log log(5);
  for (const char* d : {"d1", "d2", "d3"}) log.Add(d);
  log.Checkpoint();
  CHECK(log.Verify().empty());
  CHECK(Log(5).Verify().empty());  // nothing issued, nothing to sign
}

TEST_CASE("an edited, truncated, reordered or unsigned log is refused", "[offline]") {
  Log log(5);
  for (const char* d : {"d1", "d2", "d3", "d4"}) log.Add(d);
  log.Checkpoint();
  REQUIRE(log.Verify().empty());

  Log edited = log;  // the certificate is from the log, the device id changed
  edited.entries[1].device = "other";
  CHECK(Names(edited.Verify(), "the hash chain breaks here"));

  Log truncated = log;  // the last entry dropped, its checkpoint kept
  truncated.entries.pop_back();
  CHECK(Names(truncated.Verify(), "a checkpoint names a hash the log does not have"));

  Log reordered = log;
  std::swap(reordered.entries[1], reordered.entries[2]);
  CHECK(Names(reordered.Verify(), "the log has a gap or is reordered"));

  Log gap = log;
  gap.entries.erase(gap.entries.begin() + 1);
  CHECK(Names(gap.Verify(), "the log has a gap or is reordered"));

  Log tail = log;  // one more entry, chained, never signed
  tail.Add("d5");
  CHECK(Names(tail.Verify(), "entries past the last signed checkpoint"));

  Log forged = log;  // a checkpoint signed by another key
  auto other = x509::EvpSigner::Create(TestKey("P-256")).value();
  forged.checkpoints.back().signature =
      other->Sign(offline::CheckpointMessage(log.allowance.id, 4, log.entries.back().hash)).value();
  CHECK(Names(forged.Verify(), "a checkpoint's signature does not verify"));

  Log another_station = log;  // the same entries read as another allowance's
  another_station.allowance.id = std::string(32, 'c');
  CHECK(Names(another_station.Verify(), "the hash chain breaks here"));
}

TEST_CASE("certificates outside the allowance are named in a well-formed log", "[offline]") {
  Log log(2);
  log.Add("d1");
  log.Add("d1");  // twice
  log.Add("d3");  // the third of two
  // Another key under the subordinate's name: not the subordinate's signature.
  auto foreign = x509::EvpSigner::Create(TestKey("P-256")).value();
  x509::X509Ptr impostor = Issue(IssuingProfile(), "sub", foreign->public_key(), nullptr, *foreign);
  log.Add("d4", 1000, foreign.get(), impostor.get());
  log.Add("d5", log.allowance.not_after_ms + 1);  // after the end
  log.Checkpoint();
  auto found = log.Verify();
  CHECK(Names(found, "device d1 appears twice"));
  CHECK(Names(found, "past the count: entry 3 of an allowance of 2"));
  CHECK(Names(found, "the certificate was not signed by the subordinate key"));
  CHECK(Names(found, "issued after the allowance ended"));
}

TEST_CASE(
    "a certificate the subordinate key signed in another name, or that does not read, is "
    "not the subordinate's",
    "[offline]") {
  for (int which = 0; which < 3; ++which) {
    Log log(4);
    log.Add("d1");
    if (which == 0) {
      // The subordinate's own key, but issued in another CA's name: it chains to nothing.
      x509::X509Ptr other =
          Issue(IssuingProfile(), "other", log.sub->public_key(), nullptr, *log.sub);
      log.Add("d2", 1000, log.sub.get(), other.get());
    } else {
      Bytes der = log.entries[0].certificate_der;
      if (which == 1) der.push_back(0);             // trailing bytes
      if (which == 2) der[der.size() / 2] ^= 0xFF;  // a byte changed
      log.AddDer("d2", der, log.entries[0].serial_hex);
    }
    log.Checkpoint();
    INFO("case " << which);
    auto found = log.Verify();
    REQUIRE(found.size() == 1);
    CHECK(found[0].seq == 2);
    CHECK(found[0].reason == "the certificate was not signed by the subordinate key");
  }
}

}  // namespace
}  // namespace imprint::testing
