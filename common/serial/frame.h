#pragma once
// The serial link's frames (docs/agent-protocol.md, "The serial link"), as the station speaks
// them: COBS between zero delimiters, holding type, sequence number, method or status, length,
// payload and a CRC-32. Written from the document apart from the C agent's framing
// (mcu_agent/core), so each checks the other.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/bytes.h"

namespace imprint::serial {

inline constexpr size_t kHeaderBytes = 6;
inline constexpr size_t kCrcBytes = 4;
inline constexpr size_t kProtocolMaxPayload = 16384;

enum class FrameType : uint8_t { kHello = 1, kHelloAck = 2, kRequest = 3, kResponse = 4 };

struct Frame {
  FrameType type = FrameType::kRequest;
  uint16_t seq = 0;
  uint8_t code = 0;  // REQUEST: the method; RESPONSE, HELLO_ACK: the status
  Bytes payload;
};

// Why received bytes were not a frame.
enum class Discard { kBadCrc, kMalformed, kOversize };

// 0x00, the stuffed frame, 0x00. The payload must be at most kProtocolMaxPayload.
Bytes EncodeFrame(const Frame& frame);

// Collects bytes into frames. A run of more than `max_payload`'s encoded size without a
// delimiter is dropped whole, so a peer cannot grow the buffer.
class FrameReader {
 public:
  explicit FrameReader(size_t max_payload);

  // Takes one byte; a frame when it completed one, and on a discard `*discarded` is set.
  std::optional<Frame> Push(uint8_t byte, std::optional<Discard>* discarded);

 private:
  size_t max_encoded_;
  Bytes buffer_;
  bool overflow_ = false;
};

// Decodes the bytes between two delimiters.
std::optional<Frame> DecodeFrame(ByteView stuffed, Discard* why);

}  // namespace imprint::serial
