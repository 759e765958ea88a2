#include "common/matter/attestation_certificate.h"

#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <cstdio>

#include "common/x509/encoding.h"

namespace imprint::matter {
namespace {

std::unexpected<Error> Broken(AttestationKind kind, const std::string& what) {
  const char* name = kind == AttestationKind::kPaa   ? "PAA"
                     : kind == AttestationKind::kPai ? "PAI"
                                                     : "DAC";
  return Fail(Code::kInvalidArgument, std::string(name) + " certificate: " + what);
}

// The value of the subject attribute `oid`: nullopt when absent, an error when it is there
// twice, not a UTF8String, or not 4 upper-case hex digits.
Result<std::optional<uint16_t>> SubjectId(const X509* cert, const char* oid, AttestationKind kind) {
  x509::Asn1ObjectPtr obj(OBJ_txt2obj(oid, 1));
  if (!obj) return Fail(Code::kInternal, "OBJ_txt2obj");
  const X509_NAME* name = X509_get_subject_name(cert);
  int at = X509_NAME_get_index_by_OBJ(name, obj.get(), -1);
  if (at < 0) return std::optional<uint16_t>{};
  if (X509_NAME_get_index_by_OBJ(name, obj.get(), at) >= 0) {
    return Broken(kind, std::string("subject has ") + oid + " twice");
  }
  const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
  std::string text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                   static_cast<size_t>(ASN1_STRING_length(value)));
  bool upper_hex =
      text.size() == 4 && text.find_first_not_of("0123456789ABCDEF") == std::string::npos;
  if (ASN1_STRING_type(value) != V_ASN1_UTF8STRING || !upper_hex) {
    return Broken(kind, std::string(oid) + " must be 4 upper-case hex digits as UTF8String");
  }
  return static_cast<uint16_t>(std::stoul(text, nullptr, 16));
}

bool IsCritical(const X509* cert, int nid) {
  int at = X509_get_ext_by_NID(cert, nid, -1);
  return at >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, at)) == 1;
}

}  // namespace

std::string HexId(uint16_t id) {
  char text[8];
  std::snprintf(text, sizeof text, "%04X", id);
  return text;
}

Result<AttestationIds> CheckAttestationCertificate(ByteView der, AttestationKind kind) {
  bool is_dac = kind == AttestationKind::kDac;
  if (der.size() > kMaxAttestationCertificateBytes) {
    return Broken(kind, std::to_string(der.size()) + " bytes of DER, more than 600");
  }
  auto parsed = x509::ParseCertificateDer(der);
  if (!parsed) return Broken(kind, "not a certificate: " + parsed.error().message());
  X509* cert = parsed->get();
  if (X509_get_version(cert) != X509_VERSION_3) return Broken(kind, "not X.509 v3");
  if (X509_get_signature_nid(cert) != NID_ecdsa_with_SHA256) {
    return Broken(kind, "signature is not ecdsa-with-SHA256");
  }
  EVP_PKEY* key = X509_get0_pubkey(cert);
  char group[64] = {};
  size_t group_len = 0;
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
      EVP_PKEY_get_group_name(key, group, sizeof group, &group_len) != 1 ||
      std::string(group) != "prime256v1") {
    return Broken(kind, "key is not EC P-256");
  }

  // basicConstraints (6.2.2.4): also requires X509_check_ca's cached flags to be computed.
  if (!IsCritical(cert, NID_basic_constraints)) {
    return Broken(kind, "basicConstraints missing or not critical");
  }
  uint32_t flags = X509_get_extension_flags(cert);
  bool ca = (flags & EXFLAG_CA) != 0;
  long path_len = X509_get_pathlen(cert);  // -1: absent
  if (is_dac && ca) return Broken(kind, "basicConstraints must say CA false");
  if (!is_dac && !ca) return Broken(kind, "basicConstraints must say CA true");
  if (kind == AttestationKind::kPai && path_len != 0) {
    return Broken(kind, "basicConstraints pathLen must be 0");
  }
  if (kind == AttestationKind::kPaa && path_len != -1 && path_len != 1) {
    return Broken(kind, "basicConstraints pathLen must be absent or 1");
  }
  if (is_dac && path_len != -1) return Broken(kind, "basicConstraints must have no pathLen");

  // keyUsage (6.2.2.5).
  if (!IsCritical(cert, NID_key_usage) || (flags & EXFLAG_KUSAGE) == 0) {
    return Broken(kind, "keyUsage missing or not critical");
  }
  uint32_t usage = X509_get_key_usage(cert);
  if (is_dac && usage != KU_DIGITAL_SIGNATURE) {
    return Broken(kind, "keyUsage must be exactly digitalSignature");
  }
  uint32_t ca_needs = KU_KEY_CERT_SIGN | KU_CRL_SIGN;
  if (!is_dac && ((usage & ca_needs) != ca_needs || (usage & ~(ca_needs | KU_DIGITAL_SIGNATURE)))) {
    return Broken(kind, "keyUsage must be keyCertSign and cRLSign (digitalSignature allowed)");
  }

  const ASN1_OCTET_STRING* skid = X509_get0_subject_key_id(cert);
  if (skid == nullptr || ASN1_STRING_length(skid) != 20) {
    return Broken(kind, "subjectKeyIdentifier must be 20 bytes");
  }
  if (kind != AttestationKind::kPaa) {
    const ASN1_OCTET_STRING* akid = X509_get0_authority_key_id(cert);
    if (akid == nullptr || ASN1_STRING_length(akid) != 20) {
      return Broken(kind, "authorityKeyIdentifier must be 20 bytes");
    }
  }

  AttestationIds ids;
  IMPRINT_ASSIGN_OR_RETURN(ids.vendor_id, SubjectId(cert, kVendorIdOid, kind));
  IMPRINT_ASSIGN_OR_RETURN(ids.product_id, SubjectId(cert, kProductIdOid, kind));
  if (is_dac && (!ids.vendor_id || !ids.product_id)) {
    return Broken(kind, "subject must carry the vendor id and the product id");
  }
  if (kind == AttestationKind::kPai && !ids.vendor_id) {
    return Broken(kind, "subject must carry the vendor id");
  }
  if (kind == AttestationKind::kPaa && ids.product_id) {
    return Broken(kind, "subject must not carry a product id");
  }
  return ids;
}

Status CheckAttestationIds(const AttestationIds& dac, const AttestationIds& pai,
                           const AttestationIds& paa) {
  if (dac.vendor_id != pai.vendor_id) {
    return Fail(Code::kInvalidArgument, "DAC vendor id differs from the PAI's");
  }
  if (pai.product_id && dac.product_id != pai.product_id) {
    return Fail(Code::kInvalidArgument, "DAC product id differs from the PAI's");
  }
  if (paa.vendor_id && pai.vendor_id != paa.vendor_id) {
    return Fail(Code::kInvalidArgument, "PAI vendor id differs from the PAA's");
  }
  return {};
}

}  // namespace imprint::matter
