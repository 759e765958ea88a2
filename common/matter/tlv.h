#pragma once
// Matter TLV (Matter Core Specification, Appendix A), the part imprint reads and writes:
// anonymous and context-specific tags; unsigned and signed integers, booleans, UTF-8 and octet
// strings, structures, arrays and lists. What imprint reads comes from outside (a
// Certification Declaration from an operator, attestation elements from a device), so the
// reader bounds every length, the nesting depth and the element count.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/error.h"

namespace imprint::matter {

enum class TlvType { kSigned, kUnsigned, kBool, kUtf8, kBytes, kNull, kStruct, kArray, kList };

// A context-specific tag (0-255), or none (anonymous). Profile tags are read as `profile_tag`
// so a reader can skip them (vendor-reserved attestation elements use them).
struct TlvElement {
  std::optional<uint8_t> tag;  // context-specific tag; nullopt for anonymous or profile tags
  bool profile_tag = false;
  TlvType type = TlvType::kNull;
  uint64_t unsigned_value = 0;       // kUnsigned, kBool (0/1)
  int64_t signed_value = 0;          // kSigned
  Bytes bytes;                       // kUtf8, kBytes
  std::vector<TlvElement> children;  // kStruct, kArray, kList

  // The child with context tag `tag`, or nullptr.
  const TlvElement* Find(uint8_t tag) const;
};

inline constexpr int kMaxTlvDepth = 8;
inline constexpr size_t kMaxTlvElements = 4096;

// Reads exactly one element that spans all of `data` (typically an anonymous structure).
// INVALID_ARGUMENT naming the first problem: truncation, an unknown type, floats, a length past
// the end, nesting deeper than kMaxTlvDepth, more than kMaxTlvElements, trailing bytes.
Result<TlvElement> ReadTlv(ByteView data);

// Writes TLV with the smallest encodings. Containers must be closed in order; Finish asserts
// that they were.
class TlvWriter {
 public:
  void StartStructure(std::optional<uint8_t> tag = std::nullopt);
  void StartArray(std::optional<uint8_t> tag = std::nullopt);
  void EndContainer();
  void PutUnsigned(std::optional<uint8_t> tag, uint64_t value);
  void PutBool(std::optional<uint8_t> tag, bool value);
  void PutBytes(std::optional<uint8_t> tag, ByteView value);
  void PutUtf8(std::optional<uint8_t> tag, const std::string& value);
  Bytes Finish();

 private:
  void Control(std::optional<uint8_t> tag, uint8_t type);
  void Little(uint64_t value, int bytes);
  void PutLength(std::optional<uint8_t> tag, uint8_t base_type, ByteView value);

  Bytes out_;
  int open_ = 0;
};

}  // namespace imprint::matter
