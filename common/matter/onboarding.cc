#include "common/matter/onboarding.h"

#include <array>
#include <cstdio>
#include <vector>

#include "common/matter/passcode.h"

namespace imprint::matter {
namespace {

Status CheckPayload(const OnboardingPayload& p) {
  if (!IsValidPasscode(p.passcode)) return Fail(Code::kInvalidArgument, "invalid Matter passcode");
  if (p.discriminator > kMaxDiscriminator) {
    return Fail(Code::kInvalidArgument, "Matter discriminator must be 0-4095");
  }
  if (p.flow > 2) return Fail(Code::kInvalidArgument, "Matter commissioning flow must be 0-2");
  return {};
}

// Appends `bits` bits of `value` least significant first (5.1.3.1 packs fields that way).
class BitPacker {
 public:
  void Put(uint32_t value, int bits) {
    for (int i = 0; i < bits; ++i, ++position_) {
      if (position_ / 8 >= bytes_.size()) bytes_.push_back(0);
      if ((value >> i) & 1) bytes_[position_ / 8] |= static_cast<uint8_t>(1u << (position_ % 8));
    }
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
  size_t position_ = 0;
};

constexpr char kBase38[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-.";

// 5.1.3.2: three bytes (little-endian) become five characters, two become four, one two;
// each group least significant digit first.
std::string Base38(const std::vector<uint8_t>& bytes) {
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t value = 0;
    for (size_t j = 0; j < n; ++j) value |= uint32_t{bytes[i + j]} << (8 * j);
    int chars = n == 3 ? 5 : n == 2 ? 4 : 2;
    for (int c = 0; c < chars; ++c) {
      out.push_back(kBase38[value % 38]);
      value /= 38;
    }
  }
  return out;
}

// Verhoeff's dihedral group D5: multiplication, position permutation and inverse.
constexpr std::array<std::array<uint8_t, 10>, 10> kMultiply = {{
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
    {1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
    {2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
    {3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
    {4, 0, 1, 2, 3, 9, 5, 6, 7, 8},
    {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
    {6, 5, 9, 8, 7, 1, 0, 4, 3, 2},
    {7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
    {8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
    {9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
}};
constexpr std::array<std::array<uint8_t, 10>, 8> kPermute = {{
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
    {1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
    {5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
    {8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
    {9, 4, 5, 3, 1, 2, 6, 8, 7, 0},
    {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
    {2, 7, 9, 3, 8, 0, 6, 4, 1, 5},
    {7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
}};
constexpr std::array<uint8_t, 10> kInverse = {0, 4, 3, 2, 1, 5, 6, 7, 8, 9};

// The Verhoeff check digit of `digits` (decimal digits only, as ManualPairingCode makes them).
char VerhoeffCheckDigit(const std::string& digits) {
  uint8_t c = 0;
  for (size_t i = 0; i < digits.size(); ++i) {
    auto digit = static_cast<uint8_t>(digits[digits.size() - 1 - i] - '0');
    c = kMultiply[c][kPermute[(i + 1) % 8][digit]];
  }
  return static_cast<char>('0' + kInverse[c]);
}

}  // namespace

Result<std::string> QrCodePayload(const OnboardingPayload& p) {
  IMPRINT_RETURN_IF_ERROR(CheckPayload(p));
  BitPacker bits;
  bits.Put(0, 3);  // version
  bits.Put(p.vendor_id, 16);
  bits.Put(p.product_id, 16);
  bits.Put(p.flow, 2);
  bits.Put(p.discovery, 8);
  bits.Put(p.discriminator, 12);
  bits.Put(p.passcode, 27);
  bits.Put(0, 4);  // padding
  return "MT:" + Base38(bits.bytes());
}

Result<std::string> ManualPairingCode(const OnboardingPayload& p) {
  IMPRINT_RETURN_IF_ERROR(CheckPayload(p));
  uint32_t short_discriminator = p.discriminator >> 8;
  uint32_t chunk1 = short_discriminator >> 2;  // the vendor-and-product-present bit is 0
  uint32_t chunk2 = ((short_discriminator & 0x3) << 14) | (p.passcode & 0x3FFF);
  uint32_t chunk3 = p.passcode >> 14;
  char digits[16];
  std::snprintf(digits, sizeof digits, "%01u%05u%04u", chunk1, chunk2, chunk3);
  std::string code = digits;
  code.push_back(VerhoeffCheckDigit(code));
  return code;
}

}  // namespace imprint::matter
