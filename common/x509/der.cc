#include "common/x509/der.h"

namespace imprint::x509::der {

void Append(Bytes& out, uint8_t tag, ByteView content) {
  out.push_back(tag);
  size_t len = content.size();
  if (len < 0x80) {
    out.push_back(static_cast<uint8_t>(len));
  } else {
    Bytes octets;
    for (size_t v = len; v != 0; v >>= 8) octets.insert(octets.begin(), static_cast<uint8_t>(v));
    out.push_back(static_cast<uint8_t>(0x80 | octets.size()));
    out.insert(out.end(), octets.begin(), octets.end());
  }
  out.insert(out.end(), content.begin(), content.end());
}

Result<Element> Reader::Expect(uint8_t tag) {
  if (rest_.size() < 2) return Fail(Code::kInvalidArgument, "truncated DER");
  if (rest_[0] != tag) return Fail(Code::kInvalidArgument, "unexpected DER tag");
  if ((tag & 0x1f) == 0x1f) return Fail(Code::kInvalidArgument, "multi-octet DER tag");
  size_t header = 2;
  size_t length = rest_[1];
  if (length >= 0x80) {
    size_t octets = length & 0x7f;
    // 0x80 is the indefinite form (BER only); more than 4 octets is far beyond any input here.
    if (octets == 0 || octets > 4) return Fail(Code::kInvalidArgument, "bad DER length");
    if (rest_.size() < 2 + octets) return Fail(Code::kInvalidArgument, "truncated DER");
    if (rest_[2] == 0) return Fail(Code::kInvalidArgument, "non-minimal DER length");
    length = 0;
    for (size_t i = 0; i < octets; ++i) length = (length << 8) | rest_[2 + i];
    if (length < 0x80) return Fail(Code::kInvalidArgument, "non-minimal DER length");
    header += octets;
  }
  if (rest_.size() - header < length) return Fail(Code::kInvalidArgument, "truncated DER");
  Element e{tag, rest_.subspan(header, length), rest_.first(header + length)};
  rest_ = rest_.subspan(header + length);
  return e;
}

Result<ByteView> BitStringOctets(ByteView content) {
  if (content.empty() || content[0] != 0) {
    return Fail(Code::kInvalidArgument, "BIT STRING with unused bits");
  }
  return content.subspan(1);
}

}  // namespace imprint::x509::der
