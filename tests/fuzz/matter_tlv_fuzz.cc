// Fuzz target: what imprint reads of Matter TLV from outside (common/matter): a device's
// attestation elements and an operator's CD content. Reading never crashes, never reads past
// the input, and what ReadTlv accepts written again by TlvWriter reads back the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "common/matter/attestation.h"
#include "common/matter/certification_declaration.h"
#include "common/matter/tlv.h"

namespace {

using imprint::matter::TlvElement;
using imprint::matter::TlvType;
using imprint::matter::TlvWriter;

// Writes back what was read, for the element kinds TlvWriter has; false when it has not.
bool Write(const TlvElement& e, TlvWriter& w) {
  switch (e.type) {
    case TlvType::kUnsigned:
      w.PutUnsigned(e.tag, e.unsigned_value);
      return true;
    case TlvType::kBool:
      w.PutBool(e.tag, e.unsigned_value != 0);
      return true;
    case TlvType::kBytes:
      w.PutBytes(e.tag, e.bytes);
      return true;
    case TlvType::kUtf8:
      w.PutUtf8(e.tag, std::string(e.bytes.begin(), e.bytes.end()));
      return true;
    case TlvType::kStruct:
    case TlvType::kArray:
      if (e.type == TlvType::kStruct) {
        w.StartStructure(e.tag);
      } else {
        w.StartArray(e.tag);
      }
      for (const TlvElement& child : e.children) {
        if (child.profile_tag || !Write(child, w)) return false;
      }
      w.EndContainer();
      return true;
    default:
      return false;
  }
}

bool Same(const TlvElement& a, const TlvElement& b) {
  if (a.tag != b.tag || a.type != b.type || a.unsigned_value != b.unsigned_value ||
      a.bytes != b.bytes || a.children.size() != b.children.size()) {
    return false;
  }
  for (size_t i = 0; i < a.children.size(); ++i) {
    if (!Same(a.children[i], b.children[i])) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  imprint::ByteView input(data, size);
  (void)imprint::matter::ParseAttestationElements(input);
  (void)imprint::matter::ParseCertificationDeclarationContent(input);
  auto read = imprint::matter::ReadTlv(input);
  if (!read || read->profile_tag) return 0;
  TlvWriter w;
  if (!Write(*read, w)) return 0;
  imprint::Bytes again = w.Finish();
  auto reread = imprint::matter::ReadTlv(again);
  if (!reread || !Same(*read, *reread)) abort();
  return 0;
}
