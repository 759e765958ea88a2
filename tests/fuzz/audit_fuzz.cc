// Fuzz target: what a third party feeds `imprint-ca audit verify --export`: each line of the
// input is parsed as an export line (ParseAuditLine, untrusted JSON) and the records and
// checkpoints it yields go through ChainVerifier in order, then Finish. The verifier's key is
// the one the seed corpus was made with, so valid checkpoints in the corpus verify and the
// fuzzer can reach the checks behind a good signature.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "ca/audit/json.h"
#include "common/audit/verifier.h"
#include "common/x509/encoding.h"

namespace {

// The audit public key of the CA whose export is tests/fuzz/corpus/audit_fuzz/export.jsonl.
constexpr const char* kSeedAuditKey = R"(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEPAnSrZFpwhaKQq9rUPKUmX8UwtDG
kWn5r6WqvZfiitJ2t2AZiiAx6LHbtXPxhX867rCDO4W8y+7zuBysaj3uWA==
-----END PUBLIC KEY-----
)";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static imprint::x509::PkeyPtr key = imprint::x509::ParsePublicKeyPem(kSeedAuditKey).value();
  imprint::audit::ChainVerifier verifier(key.get());
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  for (std::string line; std::getline(in, line);) {
    auto entry = imprint::ca::ParseAuditLine(line);
    if (!entry) continue;
    if (auto* record = std::get_if<imprint::audit::Record>(&*entry)) {
      if (!verifier.AddRecord(*record)) break;
    } else if (!verifier.AddCheckpoint(std::get<imprint::audit::Checkpoint>(*entry))) {
      break;
    }
  }
  (void)verifier.Finish();
  return 0;
}
