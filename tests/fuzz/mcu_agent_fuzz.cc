// Fuzz target: the C agent's core (mcu_agent/core) as a hostile station or cable would reach
// it. The first byte picks the device's state (factory new, key made, staged, committed) and
// how the rest arrives: raw bytes into the frame receiver (stuffing, CRC, lengths), or as one
// request payload for the method in the second byte, framed correctly so the protobuf readers
// and every handler see arbitrary messages; then the record parser on the same bytes. The
// crypto port is a stand-in (fixed key, accepted certificates): what is fuzzed is the core.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "imprint_agent.h"
#include "imprint_record.h"

namespace {

std::vector<uint8_t> g_record;
bool g_present = false;

int Load(void*, uint8_t* buf, size_t cap, size_t* len) {
  if (!g_present) return 1;
  if (g_record.size() > cap) return -1;
  std::memcpy(buf, g_record.data(), g_record.size());
  *len = g_record.size();
  return 0;
}
int Save(void*, const uint8_t* buf, size_t len) {
  g_record.assign(buf, buf + len);
  g_present = true;
  return 0;
}
void Send(void*, const uint8_t*, size_t) {}
int Generate(void*, uint8_t* ref, size_t cap, size_t* len) {
  if (cap < 32) return -1;
  std::memset(ref, 0x11, 32);
  *len = 32;
  return 0;
}
int PublicKey(void*, const uint8_t*, size_t, uint8_t point[65]) {
  point[0] = 0x04;
  std::memset(point + 1, 0x22, 64);
  return 0;
}
int Sign(void*, const uint8_t*, size_t, const uint8_t digest[32], uint8_t sig[64]) {
  std::memcpy(sig, digest, 32);
  std::memset(sig + 32, 0x80, 32);
  return 0;
}
void Sha256(void*, const uint8_t* data, size_t len, uint8_t digest[32]) {
  std::memset(digest, 0, 32);
  for (size_t i = 0; i < len; ++i) digest[i % 32] ^= data[i];
}
int Check(void*, const uint8_t*, const uint8_t*, size_t, const uint8_t* const*, const size_t*,
          size_t, const uint8_t*, char*, size_t) {
  return 0;
}

// A device in `state`, reached by the calls a station would make.
void Prepare(imprint_agent* agent, int state) {
  g_record.clear();
  g_present = false;
  imprint_device_info info{"FUZZ-1", "fuzz", "1.0", nullptr};
  imprint_link link{nullptr, Send};
  imprint_storage storage{nullptr, Load, Save};
  imprint_crypto crypto{nullptr, Generate, PublicKey, Sign, Sha256, Check};
  imprint_agent_start(agent, &info, &link, &storage, &crypto);
  // InstallCredentialsRequest { certificate_der: "c", chain_der: "r" }
  static const uint8_t kInstall[] = {0x0A, 0x01, 'c', 0x12, 0x01, 'r'};
  const uint8_t methods[] = {IMPRINT_METHOD_CREATE_KEY_AND_CSR, IMPRINT_METHOD_INSTALL_CREDENTIALS,
                             IMPRINT_METHOD_COMMIT};
  for (int i = 0; i < state && i < 3; ++i) {
    imprint_frame f{IMPRINT_FRAME_REQUEST, static_cast<uint16_t>(i + 1), methods[i],
                    methods[i] == IMPRINT_METHOD_INSTALL_CREDENTIALS ? kInstall : nullptr,
                    static_cast<uint16_t>(
                        methods[i] == IMPRINT_METHOD_INSTALL_CREDENTIALS ? sizeof kInstall : 0)};
    imprint_agent_handle_frame(agent, &f);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static imprint_agent* agent = new imprint_agent;
  if (size < 2) return 0;
  Prepare(agent, data[0] & 3);
  if (data[0] & 4) {
    size_t n = std::min<size_t>(size - 2, IMPRINT_AGENT_MAX_REQUEST);
    imprint_frame f{IMPRINT_FRAME_REQUEST, 9, data[1], data + 2, static_cast<uint16_t>(n)};
    imprint_agent_handle_frame(agent, &f);
  } else {
    imprint_agent_receive(agent, data + 1, size - 1);
  }
  imprint_record record;
  (void)imprint_record_parse(data, size, &record);
  return 0;
}
