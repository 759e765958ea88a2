#pragma once
// A strict DER reader (X.690 10) for the few structures imprint walks itself instead of
// through OpenSSL's d2i: in OpenSSL 3.0 every d2i of a structure holding a
// SubjectPublicKeyInfo runs a provider decoder chain for the key, which costs more than
// verifying a signature. Only single-octet tags and definite, minimally encoded lengths are
// accepted; anything else is INVALID_ARGUMENT.

#include <cstdint>

#include "common/bytes.h"
#include "common/error.h"

namespace imprint::x509::der {

inline constexpr uint8_t kInteger = 0x02;
inline constexpr uint8_t kBitString = 0x03;
inline constexpr uint8_t kOid = 0x06;
inline constexpr uint8_t kSequence = 0x30;
inline constexpr uint8_t kContext0Constructed = 0xA0;

// Appends one element: `tag`, the definite length of `content` (X.690 8.1.3), `content`.
void Append(Bytes& out, uint8_t tag, ByteView content);

struct Element {
  uint8_t tag = 0;
  ByteView content;  // the value octets
  ByteView whole;    // tag, length and value, as encoded
};

class Reader {
 public:
  explicit Reader(ByteView input) : rest_(input) {}

  bool empty() const { return rest_.empty(); }
  // The tag of the next element, or 0 at the end.
  uint8_t PeekTag() const { return rest_.empty() ? 0 : rest_[0]; }
  // The next element, which must carry `tag`.
  Result<Element> Expect(uint8_t tag);

 private:
  ByteView rest_;
};

// The key octets of a BIT STRING's content with no unused bits (as keys and signatures are).
Result<ByteView> BitStringOctets(ByteView content);

}  // namespace imprint::x509::der
