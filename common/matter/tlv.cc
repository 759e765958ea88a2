#include "common/matter/tlv.h"

#include <cassert>

namespace imprint::matter {
namespace {

// Appendix A.7: the control octet's upper three bits are the tag form, the lower five the type.
constexpr uint8_t kTagAnonymous = 0x00;
constexpr uint8_t kTagContext = 0x20;
constexpr uint8_t kTypeStruct = 0x15;
constexpr uint8_t kTypeArray = 0x16;
constexpr uint8_t kTypeList = 0x17;
constexpr uint8_t kTypeEnd = 0x18;

// Bytes each tag form takes after the control octet (A.8): anonymous, context, common profile
// 2 and 4, implicit profile 2 and 4, fully qualified 6 and 8.
constexpr int kTagBytes[8] = {0, 1, 2, 4, 2, 4, 6, 8};

class Reader {
 public:
  explicit Reader(ByteView data) : data_(data) {}

  Result<TlvElement> Element(int depth, bool* end) {
    *end = false;
    if (++count_ > kMaxTlvElements) return Bad("more than 4096 elements");
    IMPRINT_ASSIGN_OR_RETURN(uint64_t control, Little(1));
    uint8_t tag_form = static_cast<uint8_t>(control >> 5);
    uint8_t type = static_cast<uint8_t>(control & 0x1f);
    if (type == kTypeEnd) {
      if (tag_form != 0) return Bad("end of container with a tag");
      *end = true;
      return TlvElement{};
    }
    TlvElement e;
    IMPRINT_ASSIGN_OR_RETURN(uint64_t tag, Little(kTagBytes[tag_form]));
    if (tag_form == 1) e.tag = static_cast<uint8_t>(tag);
    e.profile_tag = tag_form > 1;
    if (type <= 0x03) {
      e.type = TlvType::kSigned;
      int width = 1 << type;
      IMPRINT_ASSIGN_OR_RETURN(uint64_t raw, Little(width));
      int shift = 64 - 8 * width;
      e.signed_value =
          shift == 0 ? static_cast<int64_t>(raw) : static_cast<int64_t>(raw << shift) >> shift;
    } else if (type <= 0x07) {
      e.type = TlvType::kUnsigned;
      IMPRINT_ASSIGN_OR_RETURN(e.unsigned_value, Little(1 << (type - 0x04)));
    } else if (type == 0x08 || type == 0x09) {
      e.type = TlvType::kBool;
      e.unsigned_value = type == 0x09;
    } else if (type >= 0x0c && type <= 0x13) {
      e.type = type <= 0x0f ? TlvType::kUtf8 : TlvType::kBytes;
      IMPRINT_ASSIGN_OR_RETURN(uint64_t length, Little(1 << ((type - 0x0c) & 0x3)));
      if (length > data_.size() - at_) return Bad("string longer than the data");
      e.bytes.assign(data_.begin() + static_cast<ptrdiff_t>(at_),
                     data_.begin() + static_cast<ptrdiff_t>(at_ + length));
      at_ += length;
    } else if (type == 0x14) {
      e.type = TlvType::kNull;
    } else if (type >= kTypeStruct && type <= kTypeList) {
      e.type = type == kTypeStruct  ? TlvType::kStruct
               : type == kTypeArray ? TlvType::kArray
                                    : TlvType::kList;
      if (depth + 1 > kMaxTlvDepth) return Bad("nested deeper than 8");
      for (;;) {
        bool child_end = false;
        IMPRINT_ASSIGN_OR_RETURN(TlvElement child, Element(depth + 1, &child_end));
        if (child_end) break;
        e.children.push_back(std::move(child));
      }
    } else {
      return Bad("unsupported element type " + std::to_string(type));
    }
    return e;
  }

  bool AtEnd() const { return at_ == data_.size(); }

 private:
  std::unexpected<Error> Bad(const std::string& what) const {
    return Fail(Code::kInvalidArgument, "TLV: " + what + " (at byte " + std::to_string(at_) + ")");
  }
  Result<uint64_t> Little(int bytes) {
    if (static_cast<size_t>(bytes) > data_.size() - at_) return Bad("truncated");
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= uint64_t{data_[at_ + static_cast<size_t>(i)]} << (8 * i);
    at_ += static_cast<size_t>(bytes);
    return v;
  }

  ByteView data_;
  size_t at_ = 0;
  size_t count_ = 0;
};

int UnsignedWidth(uint64_t value) {
  if (value <= 0xff) return 1;
  if (value <= 0xffff) return 2;
  if (value <= 0xffffffff) return 4;
  return 8;
}

uint8_t WidthCode(int width) { return width == 1 ? 0 : width == 2 ? 1 : width == 4 ? 2 : 3; }

}  // namespace

const TlvElement* TlvElement::Find(uint8_t wanted) const {
  for (const TlvElement& child : children) {
    if (child.tag == wanted) return &child;
  }
  return nullptr;
}

Result<TlvElement> ReadTlv(ByteView data) {
  Reader reader(data);
  bool end = false;
  IMPRINT_ASSIGN_OR_RETURN(TlvElement e, reader.Element(0, &end));
  if (end) return Fail(Code::kInvalidArgument, "TLV: end of container outside a container");
  if (!reader.AtEnd()) return Fail(Code::kInvalidArgument, "TLV: trailing bytes");
  return e;
}

void TlvWriter::Control(std::optional<uint8_t> tag, uint8_t type) {
  out_.push_back(static_cast<uint8_t>((tag ? kTagContext : kTagAnonymous) | type));
  if (tag) out_.push_back(*tag);
}

void TlvWriter::Little(uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out_.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

void TlvWriter::StartStructure(std::optional<uint8_t> tag) {
  Control(tag, kTypeStruct);
  ++open_;
}

void TlvWriter::StartArray(std::optional<uint8_t> tag) {
  Control(tag, kTypeArray);
  ++open_;
}

void TlvWriter::EndContainer() {
  assert(open_ > 0);
  out_.push_back(kTypeEnd);
  --open_;
}

void TlvWriter::PutUnsigned(std::optional<uint8_t> tag, uint64_t value) {
  int width = UnsignedWidth(value);
  Control(tag, static_cast<uint8_t>(0x04 + WidthCode(width)));
  Little(value, width);
}

void TlvWriter::PutBool(std::optional<uint8_t> tag, bool value) {
  Control(tag, value ? 0x09 : 0x08);
}

void TlvWriter::PutLength(std::optional<uint8_t> tag, uint8_t base_type, ByteView value) {
  int width = UnsignedWidth(value.size());
  Control(tag, static_cast<uint8_t>(base_type + WidthCode(width)));
  Little(value.size(), width);
  out_.insert(out_.end(), value.begin(), value.end());
}

void TlvWriter::PutBytes(std::optional<uint8_t> tag, ByteView value) {
  PutLength(tag, 0x10, value);
}

void TlvWriter::PutUtf8(std::optional<uint8_t> tag, const std::string& value) {
  PutLength(tag, 0x0c, AsBytes(value));
}

Bytes TlvWriter::Finish() {
  assert(open_ == 0);
  return std::move(out_);
}

}  // namespace imprint::matter
