#include "tests/mcu/mcu_test_device.h"

#include <catch2/catch.hpp>
#include <cstring>

namespace imprint::testing {

McuDevice::McuDevice(std::string id, const uint8_t* root_sha256)
    : id_(std::move(id)), root_sha256_(root_sha256), agent_(std::make_unique<imprint_agent>()) {
  REQUIRE(imprint_mbedtls_init(&crypto_, id_.c_str()) == 0);
  REQUIRE(Start() == 0);
}

McuDevice::~McuDevice() { imprint_mbedtls_free(&crypto_); }

int McuDevice::Start() {
  imprint_device_info info{id_.c_str(), "mcu-test", "1.0.0", root_sha256_};
  imprint_link link{this, &McuDevice::Send};
  imprint_storage storage{&record_, &McuDevice::Load, &McuDevice::Save};
  imprint_crypto crypto = imprint_mbedtls_crypto(&crypto_);
  return imprint_agent_start(agent_.get(), &info, &link, &storage, &crypto);
}

void McuDevice::Send(void* ctx, const uint8_t* bytes, size_t len) {
  auto* self = static_cast<McuDevice*>(ctx);
  self->sent_.insert(self->sent_.end(), bytes, bytes + len);
}

int McuDevice::Load(void* ctx, uint8_t* buf, size_t cap, size_t* len) {
  auto* r = static_cast<MemoryRecord*>(ctx);
  if (!r->present) return 1;
  if (r->bytes.size() > cap) return -1;
  std::memcpy(buf, r->bytes.data(), r->bytes.size());
  *len = r->bytes.size();
  return 0;
}

int McuDevice::Save(void* ctx, const uint8_t* buf, size_t len) {
  auto* r = static_cast<MemoryRecord*>(ctx);
  ++r->saves;
  if (r->fail_saves > 0) {
    --r->fail_saves;
    return -1;
  }
  r->bytes.assign(buf, buf + len);
  r->present = true;
  return 0;
}

Bytes McuDevice::Feed(ByteView wire) {
  sent_.clear();
  imprint_agent_receive(agent_.get(), wire.data(), wire.size());
  return sent_;
}

std::vector<serial::Frame> McuDevice::Frames(ByteView sent) {
  serial::FrameReader reader(serial::kProtocolMaxPayload);
  std::vector<serial::Frame> frames;
  for (uint8_t byte : sent) {
    std::optional<serial::Discard> discarded;
    if (auto frame = reader.Push(byte, &discarded)) frames.push_back(std::move(*frame));
    REQUIRE_FALSE(discarded.has_value());
  }
  return frames;
}

uint8_t McuDevice::Request(uint8_t method, const google::protobuf::Message& request, uint16_t seq,
                           Bytes* payload) {
  std::string body = request.SerializeAsString();
  serial::Frame out{serial::FrameType::kRequest, seq, method, Bytes(body.begin(), body.end())};
  auto frames = Frames(Feed(serial::EncodeFrame(out)));
  REQUIRE(frames.size() == 1);
  REQUIRE(frames[0].type == serial::FrameType::kResponse);
  REQUIRE(frames[0].seq == seq);
  *payload = frames[0].payload;
  return frames[0].code;
}

uint8_t McuDevice::Call(uint8_t method, const google::protobuf::Message& request,
                        google::protobuf::Message* response, uint16_t seq) {
  Bytes payload;
  uint8_t code = Request(method, request, seq, &payload);
  if (code == 0) {
    REQUIRE(response->ParseFromArray(payload.data(), static_cast<int>(payload.size())));
  } else {
    UNSCOPED_INFO("device: " << std::string(payload.begin(), payload.end()));
  }
  return code;
}

}  // namespace imprint::testing
