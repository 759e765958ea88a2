// The serial link's framing, written twice from docs/agent-protocol.md: the station's
// (common/serial/frame.h, C++ with zlib's CRC) and the C agent's (mcu_agent/core). Each must
// read what the other writes, at every payload size around COBS's 254-byte blocks, and both
// must refuse the same damage.
#include <openssl/rand.h>

#include <catch2/catch.hpp>
#include <cstring>

#include "common/serial/frame.h"
#include "imprint_frame.h"

namespace imprint::serial {
namespace {

Bytes RandomPayload(size_t n, bool with_zeros) {
  Bytes b(n);
  if (n > 0) REQUIRE(RAND_bytes(b.data(), static_cast<int>(n)) == 1);
  if (!with_zeros) {
    for (auto& x : b) x = x == 0 ? 1 : x;
  } else {
    for (size_t i = 0; i < n; i += 7) b[i] = 0;
  }
  return b;
}

Bytes CEncode(const Frame& f) {
  Bytes out(IMPRINT_FRAME_ENCODED_MAX(kProtocolMaxPayload));
  imprint_frame c{static_cast<uint8_t>(f.type), f.seq, f.code, f.payload.data(),
                  static_cast<uint16_t>(f.payload.size())};
  size_t n = imprint_frame_encode(&c, out.data(), out.size());
  REQUIRE(n > 0);
  out.resize(n);
  return out;
}

std::vector<Frame> CppDecode(ByteView wire) {
  FrameReader reader(kProtocolMaxPayload);
  std::vector<Frame> frames;
  for (uint8_t byte : wire) {
    std::optional<Discard> discarded;
    if (auto f = reader.Push(byte, &discarded)) frames.push_back(*f);
    REQUIRE_FALSE(discarded.has_value());
  }
  return frames;
}

TEST_CASE("serial frames: the station's and the C agent's framing read each other") {
  std::vector<size_t> sizes = {
      0, 1, 2, 243, 244, 245, 253, 254, 255, 507, 508, 509, 1000, 4096, kProtocolMaxPayload};
  for (size_t n : sizes) {
    for (bool zeros : {false, true}) {
      INFO("payload " << n << (zeros ? " with zeros" : " without zeros"));
      Frame f{FrameType::kResponse, static_cast<uint16_t>(n * 31), 3, RandomPayload(n, zeros)};
      Bytes cpp = EncodeFrame(f);
      Bytes c = CEncode(f);
      CHECK(cpp == c);  // COBS is canonical: the same bytes, not merely compatible ones
      REQUIRE(cpp.size() <= IMPRINT_FRAME_ENCODED_MAX(n));
      // No zero inside a frame: the delimiters are the first and last bytes only.
      CHECK(std::count(cpp.begin() + 1, cpp.end() - 1, 0) == 0);
      auto frames = CppDecode(c);
      REQUIRE(frames.size() == 1);
      CHECK(frames[0].payload == f.payload);
      CHECK(frames[0].seq == f.seq);
      // The C receiver on the station's bytes.
      Bytes buf(IMPRINT_FRAME_ENCODED_MAX(kProtocolMaxPayload));
      imprint_rx rx;
      imprint_rx_init(&rx, buf.data(), buf.size());
      int got = 0;
      for (uint8_t byte : cpp) {
        imprint_frame out;
        auto r = imprint_rx_push(&rx, byte, &out);
        REQUIRE((r == IMPRINT_RX_PENDING || r == IMPRINT_RX_EMPTY || r == IMPRINT_RX_FRAME));
        if (r == IMPRINT_RX_FRAME) {
          ++got;
          CHECK(out.length == n);
          CHECK(Bytes(out.payload, out.payload + out.length) == f.payload);
          CHECK(out.code == 3);
        }
      }
      CHECK(got == 1);
    }
  }
}

TEST_CASE("serial frames: the CRC is zlib's, and both sides refuse the same damage") {
  const uint8_t check[] = "123456789";
  CHECK(imprint_crc32(0, check, 9) == 0xCBF43926u);  // the CRC-32 check value

  Frame f{FrameType::kRequest, 0x1234, 2, RandomPayload(300, true)};
  Bytes wire = EncodeFrame(f);
  for (size_t i = 1; i + 1 < wire.size(); ++i) {
    Bytes damaged = wire;
    damaged[i] ^= static_cast<uint8_t>(1u << (i % 8));
    if (damaged[i] == 0) continue;  // a new delimiter: two short pieces, also refused below
    Discard why{};
    auto cpp = DecodeFrame(ByteView(damaged).subspan(1, damaged.size() - 2), &why);
    imprint_frame out;
    auto c = imprint_frame_decode(damaged.data() + 1, damaged.size() - 2, &out);
    INFO("byte " << i);
    CHECK_FALSE(cpp.has_value());
    CHECK(c != IMPRINT_RX_FRAME);
    CHECK((why == Discard::kBadCrc) == (c == IMPRINT_RX_BAD_CRC));
  }
  // A run longer than the buffer before a delimiter: dropped whole on both sides.
  FrameReader reader(64);
  Bytes c_buf(IMPRINT_FRAME_ENCODED_MAX(64));
  imprint_rx rx;
  imprint_rx_init(&rx, c_buf.data(), c_buf.size());
  std::optional<Discard> discarded;
  imprint_frame out;
  imprint_rx_result c_result = IMPRINT_RX_PENDING;
  for (int i = 0; i < 500; ++i) {
    reader.Push(0x41, &discarded);
    imprint_rx_push(&rx, 0x41, &out);
  }
  reader.Push(0, &discarded);
  c_result = imprint_rx_push(&rx, 0, &out);
  CHECK(discarded == Discard::kOversize);
  CHECK(c_result == IMPRINT_RX_OVERSIZE);
}

}  // namespace
}  // namespace imprint::serial
