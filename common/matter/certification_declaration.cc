#include "common/matter/certification_declaration.h"

#include <openssl/cms.h>

#include <algorithm>

#include "common/matter/attestation_certificate.h"
#include "common/matter/tlv.h"
#include "common/x509/openssl_error.h"

namespace imprint::matter {
namespace {

using CmsPtr = x509::Owned<CMS_ContentInfo, CMS_ContentInfo_free>;

std::unexpected<Error> Bad(const std::string& what) {
  return Fail(Code::kInvalidArgument, "certification declaration: " + what);
}

// An unsigned field at most `max`; `name` for the error.
Result<uint64_t> Unsigned(const TlvElement& cd, uint8_t tag, uint64_t max, const char* name) {
  const TlvElement* e = cd.Find(tag);
  if (e == nullptr) return Bad(std::string(name) + " missing");
  if (e->type != TlvType::kUnsigned || e->unsigned_value > max) {
    return Bad(std::string(name) + " malformed");
  }
  return e->unsigned_value;
}

Result<std::optional<uint16_t>> OptionalId(const TlvElement& cd, uint8_t tag, const char* name) {
  if (cd.Find(tag) == nullptr) return std::optional<uint16_t>{};
  IMPRINT_ASSIGN_OR_RETURN(uint64_t v, Unsigned(cd, tag, 0xffff, name));
  return static_cast<uint16_t>(v);
}

}  // namespace

Result<CertificationDeclaration> ParseCertificationDeclarationContent(ByteView tlv) {
  IMPRINT_ASSIGN_OR_RETURN(TlvElement root, ReadTlv(tlv));
  if (root.type != TlvType::kStruct || root.tag) return Bad("content is not a TLV structure");
  CertificationDeclaration cd;
  IMPRINT_ASSIGN_OR_RETURN(uint64_t v, Unsigned(root, 0, 0xff, "format_version"));
  cd.format_version = static_cast<uint8_t>(v);
  IMPRINT_ASSIGN_OR_RETURN(v, Unsigned(root, 1, 0xffff, "vendor_id"));
  cd.vendor_id = static_cast<uint16_t>(v);
  const TlvElement* products = root.Find(2);
  if (products == nullptr || products->type != TlvType::kArray || products->children.empty() ||
      products->children.size() > 100) {
    return Bad("product_id_array missing, empty or longer than 100");
  }
  for (const TlvElement& p : products->children) {
    if (p.type != TlvType::kUnsigned || p.unsigned_value > 0xffff) {
      return Bad("product_id_array holds a malformed product id");
    }
    cd.product_ids.push_back(static_cast<uint16_t>(p.unsigned_value));
  }
  IMPRINT_ASSIGN_OR_RETURN(v, Unsigned(root, 3, 0xffffffff, "device_type_id"));
  cd.device_type_id = static_cast<uint32_t>(v);
  const TlvElement* id = root.Find(4);
  if (id == nullptr || id->type != TlvType::kUtf8 || id->bytes.size() != 19) {
    return Bad("certificate_id missing or not 19 characters");
  }
  cd.certificate_id.assign(id->bytes.begin(), id->bytes.end());
  IMPRINT_ASSIGN_OR_RETURN(v, Unsigned(root, 5, 0xff, "security_level"));
  cd.security_level = static_cast<uint8_t>(v);
  IMPRINT_ASSIGN_OR_RETURN(v, Unsigned(root, 6, 0xffff, "security_information"));
  cd.security_information = static_cast<uint16_t>(v);
  IMPRINT_ASSIGN_OR_RETURN(v, Unsigned(root, 7, 0xffff, "version_number"));
  cd.version_number = static_cast<uint16_t>(v);
  IMPRINT_ASSIGN_OR_RETURN(v, Unsigned(root, 8, 2, "certification_type"));
  cd.certification_type = static_cast<uint8_t>(v);
  IMPRINT_ASSIGN_OR_RETURN(cd.dac_origin_vendor_id, OptionalId(root, 9, "dac_origin_vendor_id"));
  IMPRINT_ASSIGN_OR_RETURN(cd.dac_origin_product_id, OptionalId(root, 10, "dac_origin_product_id"));
  if (cd.dac_origin_vendor_id.has_value() != cd.dac_origin_product_id.has_value()) {
    return Bad("dac_origin_vendor_id and dac_origin_product_id come together or not at all");
  }
  if (const TlvElement* paas = root.Find(11)) {
    if (paas->type != TlvType::kArray || paas->children.empty() || paas->children.size() > 10) {
      return Bad("authorized_paa_list malformed");
    }
    for (const TlvElement& skid : paas->children) {
      if (skid.type != TlvType::kBytes || skid.bytes.size() != 20) {
        return Bad("authorized_paa_list holds a key identifier that is not 20 bytes");
      }
      cd.authorized_paa_skids.push_back(skid.bytes);
    }
  }
  return cd;
}

Result<CertificationDeclaration> VerifyCertificationDeclaration(ByteView cms_der,
                                                                const X509* signer) {
  if (cms_der.empty() || cms_der.size() > kMaxCertificationDeclarationBytes) {
    return Bad("empty or larger than 600 bytes");
  }
  const unsigned char* p = cms_der.data();
  CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(cms_der.size())));
  if (!cms || p != cms_der.data() + cms_der.size()) {
    x509::ClearOpenSslErrors();
    return Bad("not a DER CMS message");
  }
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) return Bad("not SignedData");
  STACK_OF(CMS_SignerInfo)* signers = CMS_get0_SignerInfos(cms.get());
  if (signers == nullptr || sk_CMS_SignerInfo_num(signers) != 1) {
    return Bad("must have exactly one signer");
  }
  CMS_SignerInfo* info = sk_CMS_SignerInfo_value(signers, 0);
  ASN1_OCTET_STRING* keyid = nullptr;
  if (CMS_SignerInfo_get0_signer_id(info, &keyid, nullptr, nullptr) != 1 || keyid == nullptr) {
    x509::ClearOpenSslErrors();
    return Bad("signer is not named by its subject key identifier");
  }
  // X509_get0_subject_key_id takes a non-const certificate (it caches the extensions).
  const ASN1_OCTET_STRING* signer_skid = X509_get0_subject_key_id(const_cast<X509*>(signer));
  if (signer_skid == nullptr || ASN1_OCTET_STRING_cmp(keyid, signer_skid) != 0) {
    return Bad("signed by another key than the CD signer certificate's");
  }
  x509::X509StackPtr certs(sk_X509_new_null());
  if (!certs || sk_X509_push(certs.get(), const_cast<X509*>(signer)) == 0) {
    return Fail(Code::kInternal, "sk_X509_push");
  }
  x509::BioPtr content(BIO_new(BIO_s_mem()));
  if (!content) return Fail(Code::kInternal, "BIO_new");
  // The signer certificate is the trust decision the operator made by naming it; it is not
  // path-validated here (CMS_NO_SIGNER_CERT_VERIFY), only its key used.
  if (CMS_verify(cms.get(), certs.get(), nullptr, nullptr, content.get(),
                 CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) != 1) {
    x509::ClearOpenSslErrors();
    return Bad("signature does not verify with the CD signer certificate");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(content.get(), &data);
  Bytes tlv(reinterpret_cast<uint8_t*>(data), reinterpret_cast<uint8_t*>(data) + len);
  return ParseCertificationDeclarationContent(tlv);
}

Status CheckDeclarationCovers(const CertificationDeclaration& cd, uint16_t vendor_id,
                              uint16_t product_id) {
  if (cd.dac_origin_vendor_id) {
    if (*cd.dac_origin_vendor_id != vendor_id) {
      return Bad("dac_origin_vendor_id is " + HexId(*cd.dac_origin_vendor_id) + ", not " +
                 HexId(vendor_id));
    }
    if (*cd.dac_origin_product_id != product_id) {
      return Bad("dac_origin_product_id is " + HexId(*cd.dac_origin_product_id) + ", not " +
                 HexId(product_id));
    }
    return {};
  }
  if (cd.vendor_id != vendor_id) {
    return Bad("vendor_id is " + HexId(cd.vendor_id) + ", not the PAI's " + HexId(vendor_id));
  }
  if (std::find(cd.product_ids.begin(), cd.product_ids.end(), product_id) == cd.product_ids.end()) {
    return Bad("product_id_array does not hold " + HexId(product_id));
  }
  return {};
}

}  // namespace imprint::matter
