// Fuzz target: the audit chain verifier. The input is read as a log: each line is
// "r|seq|time|actor|event|detail|prev_hex|hash_hex" (a record) or "c|seq|hash_hex|sig_hex"
// (a checkpoint), fed to ChainVerifier in order, as `audit verify` and export checks do.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "common/audit/verifier.h"
#include "common/x509/evp_signer.h"

namespace {

std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, '|')) out.push_back(field);
  return out;
}

uint64_t Number(const std::string& s) {
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') break;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

imprint::Bytes Hex(const std::string& s) {
  imprint::Bytes out;
  if (!imprint::HexDecode(s, &out)) out.clear();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static imprint::x509::PkeyPtr key = imprint::x509::GenerateKey("P-256").value();
  imprint::audit::ChainVerifier verifier(key.get());
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  for (std::string line; std::getline(in, line);) {
    auto f = Split(line);
    if (f.size() == 8 && f[0] == "r") {
      imprint::audit::Record r{Number(f[1]), static_cast<int64_t>(Number(f[2])), f[3], f[4], f[5],
                               Hex(f[6]), Hex(f[7])};
      if (!verifier.AddRecord(r)) break;
    } else if (f.size() == 4 && f[0] == "c") {
      imprint::audit::Checkpoint c{Number(f[1]), 0, Hex(f[2]), Hex(f[3])};
      if (!verifier.AddCheckpoint(c)) break;
    }
  }
  (void)verifier.Finish();
  return 0;
}
