#include "common/x509/certificate_view.h"

#include <openssl/asn1.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <set>
#include <string>

#include "common/x509/der.h"
#include "common/x509/openssl_error.h"
#include "common/x509/openssl_types.h"

namespace imprint::x509 {
namespace {

constexpr uint8_t kBoolean = 0x01, kOctetString = 0x04, kUtcTime = 0x17, kGeneralizedTime = 0x18;
constexpr uint8_t kContext1 = 0x81, kContext2 = 0x82, kContext3Constructed = 0xA3;

std::unexpected<Error> Malformed(const char* what) {
  ClearOpenSslErrors();  // what OpenSSL said on the way here is in this message
  return Fail(Code::kInvalidArgument, std::string("malformed certificate: ") + what);
}

// A Name, decoded by OpenSSL (no key in it: cheap) to hold it to what d2i_X509 accepts.
Status CheckName(ByteView whole) {
  const unsigned char* p = whole.data();
  X509NamePtr name(d2i_X509_NAME(nullptr, &p, static_cast<long>(whole.size())));
  if (!name || p != whole.data() + whole.size()) return Malformed("a name does not decode");
  return {};
}

Result<std::chrono::sys_seconds> ReadTime(der::Reader& fields) {
  uint8_t tag = fields.PeekTag();
  if (tag != kUtcTime && tag != kGeneralizedTime) return Malformed("validity");
  IMPRINT_ASSIGN_OR_RETURN(der::Element time, fields.Expect(tag));
  const unsigned char* p = time.whole.data();
  Asn1TimePtr decoded(d2i_ASN1_TIME(nullptr, &p, static_cast<long>(time.whole.size())));
  struct tm tm = {};
  if (!decoded || ASN1_TIME_check(decoded.get()) != 1 || ASN1_TIME_to_tm(decoded.get(), &tm) != 1) {
    return Malformed("validity");
  }
  return std::chrono::sys_seconds(std::chrono::seconds(timegm(&tm)));
}

// Frees what X509V3_EXT_d2i returned, as its method says.
void FreeExtensionValue(X509_EXTENSION* ext, void* value) {
  const X509V3_EXT_METHOD* method = X509V3_EXT_get(ext);
  if (method->it != nullptr) {
    ASN1_item_free(static_cast<ASN1_VALUE*>(value), ASN1_ITEM_ptr(method->it));
  } else {
    method->ext_free(value);
  }
}

Status CheckExtensions(ByteView content) {
  std::set<int> seen;
  der::Reader outer(content);
  IMPRINT_ASSIGN_OR_RETURN(der::Element list, outer.Expect(der::kSequence));
  if (!outer.empty() || list.content.empty()) return Malformed("extensions");
  der::Reader extensions(list.content);
  while (!extensions.empty()) {
    IMPRINT_ASSIGN_OR_RETURN(der::Element extension, extensions.Expect(der::kSequence));
    der::Reader parts(extension.content);
    IMPRINT_RETURN_IF_ERROR(parts.Expect(der::kOid));
    if (parts.PeekTag() == kBoolean) {
      IMPRINT_ASSIGN_OR_RETURN(der::Element critical, parts.Expect(kBoolean));
      // DER: TRUE is 0xFF, and FALSE (the default) is left out.
      if (critical.content.size() != 1 || critical.content[0] != 0xFF) {
        return Malformed("an extension's critical flag");
      }
    }
    IMPRINT_RETURN_IF_ERROR(parts.Expect(kOctetString));
    if (!parts.empty()) return Malformed("an extension");
    // What d2i_X509 decodes of extensions (OpenSSL 3.0 caches them as it reads, and refuses a
    // certificate whose known extension does not decode or that holds one twice).
    const unsigned char* p = extension.whole.data();
    X509ExtensionPtr decoded(
        d2i_X509_EXTENSION(nullptr, &p, static_cast<long>(extension.whole.size())));
    if (!decoded) return Malformed("an extension");
    int nid = OBJ_obj2nid(X509_EXTENSION_get_object(decoded.get()));
    if (nid != NID_undef && !seen.insert(nid).second) return Malformed("an extension twice");
    if (X509V3_EXT_get(decoded.get()) != nullptr) {
      void* value = X509V3_EXT_d2i(decoded.get());
      if (value == nullptr) return Malformed("an extension's value");
      FreeExtensionValue(decoded.get(), value);
    }
  }
  return {};
}

}  // namespace

Result<CertificateView> ReadCertificate(ByteView der) {
  CertificateView v;
  der::Reader outer(der);
  IMPRINT_ASSIGN_OR_RETURN(der::Element cert, outer.Expect(der::kSequence));
  if (!outer.empty()) return Malformed("trailing bytes");
  der::Reader parts(cert.content);
  IMPRINT_ASSIGN_OR_RETURN(der::Element tbs, parts.Expect(der::kSequence));
  IMPRINT_ASSIGN_OR_RETURN(der::Element outer_alg, parts.Expect(der::kSequence));
  IMPRINT_ASSIGN_OR_RETURN(der::Element signature, parts.Expect(der::kBitString));
  if (!parts.empty()) return Malformed("trailing fields");
  v.tbs = tbs.whole;
  v.signature_algorithm = outer_alg.whole;
  IMPRINT_ASSIGN_OR_RETURN(v.signature, der::BitStringOctets(signature.content));

  der::Reader fields(tbs.content);
  if (fields.PeekTag() == der::kContext0Constructed) {
    IMPRINT_ASSIGN_OR_RETURN(der::Element version, fields.Expect(der::kContext0Constructed));
    der::Reader number(version.content);
    IMPRINT_ASSIGN_OR_RETURN(der::Element value, number.Expect(der::kInteger));
    if (!number.empty() || value.content.size() != 1 || value.content[0] > 2) {
      return Malformed("version");
    }
  }
  IMPRINT_ASSIGN_OR_RETURN(der::Element serial, fields.Expect(der::kInteger));
  ByteView magnitude = serial.content;
  if (magnitude.empty() || (magnitude[0] & 0x80) != 0) return Malformed("serial (not positive)");
  if (magnitude.size() > 1 && magnitude[0] == 0) {
    if ((magnitude[1] & 0x80) == 0) return Malformed("serial (not minimal)");
    magnitude = magnitude.subspan(1);
  }
  v.serial = magnitude;
  IMPRINT_ASSIGN_OR_RETURN(der::Element inner_alg, fields.Expect(der::kSequence));
  // X509_verify refuses a certificate whose two algorithm identifiers differ.
  if (!std::equal(inner_alg.whole.begin(), inner_alg.whole.end(), outer_alg.whole.begin(),
                  outer_alg.whole.end())) {
    return Malformed("the signature algorithms differ");
  }
  IMPRINT_ASSIGN_OR_RETURN(der::Element issuer, fields.Expect(der::kSequence));
  IMPRINT_RETURN_IF_ERROR(CheckName(issuer.whole));
  v.issuer = issuer.whole;
  IMPRINT_ASSIGN_OR_RETURN(der::Element validity, fields.Expect(der::kSequence));
  der::Reader times(validity.content);
  IMPRINT_ASSIGN_OR_RETURN(v.not_before, ReadTime(times));
  IMPRINT_ASSIGN_OR_RETURN(v.not_after, ReadTime(times));
  if (!times.empty()) return Malformed("validity");
  IMPRINT_ASSIGN_OR_RETURN(der::Element subject, fields.Expect(der::kSequence));
  IMPRINT_RETURN_IF_ERROR(CheckName(subject.whole));
  v.subject = subject.whole;
  IMPRINT_ASSIGN_OR_RETURN(der::Element spki, fields.Expect(der::kSequence));
  v.spki = spki.whole;
  for (uint8_t unique_id : {kContext1, kContext2}) {  // issuerUniqueID, subjectUniqueID
    if (fields.PeekTag() == unique_id) {
      IMPRINT_RETURN_IF_ERROR(fields.Expect(unique_id));
    }
  }
  if (fields.PeekTag() == kContext3Constructed) {
    IMPRINT_ASSIGN_OR_RETURN(der::Element extensions, fields.Expect(kContext3Constructed));
    IMPRINT_RETURN_IF_ERROR(CheckExtensions(extensions.content));
  }
  if (!fields.empty()) return Malformed("trailing TBS fields");
  return v;
}

}  // namespace imprint::x509
