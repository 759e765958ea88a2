#include "common/serial/frame.h"

#include <zlib.h>

namespace imprint::serial {
namespace {

uint32_t Crc32(ByteView data) {
  return static_cast<uint32_t>(crc32(0L, data.data(), static_cast<uInt>(data.size())));
}

// COBS (Cheshire and Baker, 1999): each block is a code byte n and n-1 non-zero bytes; a
// block of less than 254 data bytes stands for its data and a zero, except at the end.
Bytes CobsEncode(ByteView in) {
  Bytes out;
  out.reserve(in.size() + in.size() / 254 + 2);
  size_t code_at = out.size();
  out.push_back(0);
  uint8_t code = 1;
  for (uint8_t byte : in) {
    if (byte != 0) {
      out.push_back(byte);
      ++code;
    }
    if (byte == 0 || code == 0xFF) {
      out[code_at] = code;
      code_at = out.size();
      out.push_back(0);
      code = 1;
    }
  }
  out[code_at] = code;
  return out;
}

std::optional<Bytes> CobsDecode(ByteView in) {
  Bytes out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    uint8_t code = in[i++];
    if (code == 0 || static_cast<size_t>(code - 1) > in.size() - i) return std::nullopt;
    out.insert(out.end(), in.begin() + static_cast<std::ptrdiff_t>(i),
               in.begin() + static_cast<std::ptrdiff_t>(i + code - 1));
    i += code - 1;
    if (code != 0xFF && i < in.size()) out.push_back(0);
  }
  return out;
}

}  // namespace

Bytes EncodeFrame(const Frame& frame) {
  Bytes raw;
  raw.reserve(kHeaderBytes + frame.payload.size() + kCrcBytes);
  auto length = static_cast<uint16_t>(frame.payload.size());
  raw.push_back(static_cast<uint8_t>(frame.type));
  raw.push_back(static_cast<uint8_t>(frame.seq & 0xFF));
  raw.push_back(static_cast<uint8_t>(frame.seq >> 8));
  raw.push_back(frame.code);
  raw.push_back(static_cast<uint8_t>(length & 0xFF));
  raw.push_back(static_cast<uint8_t>(length >> 8));
  raw.insert(raw.end(), frame.payload.begin(), frame.payload.end());
  uint32_t crc = Crc32(raw);
  for (int shift = 0; shift < 32; shift += 8) raw.push_back(static_cast<uint8_t>(crc >> shift));
  Bytes out{0};
  Bytes stuffed = CobsEncode(raw);
  out.insert(out.end(), stuffed.begin(), stuffed.end());
  out.push_back(0);
  return out;
}

std::optional<Frame> DecodeFrame(ByteView stuffed, Discard* why) {
  auto raw = CobsDecode(stuffed);
  if (!raw || raw->size() < kHeaderBytes + kCrcBytes) {
    *why = Discard::kMalformed;
    return std::nullopt;
  }
  size_t body = raw->size() - kCrcBytes;
  uint32_t want = 0;
  for (size_t i = 0; i < kCrcBytes; ++i) want |= static_cast<uint32_t>((*raw)[body + i]) << (8 * i);
  if (Crc32(ByteView(*raw).first(body)) != want) {
    *why = Discard::kBadCrc;
    return std::nullopt;
  }
  size_t length = (*raw)[4] | static_cast<size_t>((*raw)[5]) << 8;
  uint8_t type = (*raw)[0];
  if (length > kProtocolMaxPayload || kHeaderBytes + length != body || type < 1 || type > 4) {
    *why = Discard::kMalformed;
    return std::nullopt;
  }
  Frame frame;
  frame.type = static_cast<FrameType>(type);
  frame.seq = static_cast<uint16_t>((*raw)[1] | (*raw)[2] << 8);
  frame.code = (*raw)[3];
  frame.payload.assign(raw->begin() + kHeaderBytes,
                       raw->begin() + static_cast<std::ptrdiff_t>(body));
  return frame;
}

FrameReader::FrameReader(size_t max_payload)
    : max_encoded_(max_payload + kHeaderBytes + kCrcBytes +
                   (max_payload + kHeaderBytes + kCrcBytes) / 254 + 1) {}

std::optional<Frame> FrameReader::Push(uint8_t byte, std::optional<Discard>* discarded) {
  if (byte != 0) {
    if (buffer_.size() < max_encoded_) {
      buffer_.push_back(byte);
    } else {
      overflow_ = true;
    }
    return std::nullopt;
  }
  bool overflow = overflow_;
  overflow_ = false;
  Bytes stuffed;
  stuffed.swap(buffer_);
  if (overflow) {
    *discarded = Discard::kOversize;
    return std::nullopt;
  }
  if (stuffed.empty()) return std::nullopt;
  Discard why{};
  auto frame = DecodeFrame(stuffed, &why);
  if (!frame) *discarded = why;
  return frame;
}

}  // namespace imprint::serial
