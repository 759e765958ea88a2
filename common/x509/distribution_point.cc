#include "common/x509/distribution_point.h"

#include <openssl/x509v3.h>

#include "common/x509/openssl_error.h"

namespace imprint::x509 {
namespace {

using DistPointPtr = Owned<DIST_POINT, DIST_POINT_free>;
using DistPointsPtr = Owned<CRL_DIST_POINTS, CRL_DIST_POINTS_free>;
using IssuingDistPointPtr = Owned<ISSUING_DIST_POINT, ISSUING_DIST_POINT_free>;
using DistPointNamePtr = Owned<DIST_POINT_NAME, DIST_POINT_NAME_free>;

Status Push(GENERAL_NAMES* names, GeneralNamePtr name) {
  if (sk_GENERAL_NAME_push(names, name.get()) == 0) {
    return std::unexpected(OpenSslError(Code::kInternal, "sk_GENERAL_NAME_push"));
  }
  name.release();  // owned by the stack now
  return {};
}

// A DistributionPointName of one URI (the fullName choice).
Result<DistPointNamePtr> FullNameUri(std::string_view url) {
  if (url.empty()) return Fail(Code::kInvalidArgument, "distribution point URL is empty");
  DistPointNamePtr point(DIST_POINT_NAME_new());
  GeneralNamesPtr names(GENERAL_NAMES_new());
  GeneralNamePtr uri(GENERAL_NAME_new());
  Owned<ASN1_IA5STRING, ASN1_IA5STRING_free> text(ASN1_IA5STRING_new());
  if (!point || !names || !uri || !text ||
      ASN1_STRING_set(text.get(), url.data(), static_cast<int>(url.size())) != 1) {
    return std::unexpected(OpenSslError(Code::kInternal, "distribution point name"));
  }
  GENERAL_NAME_set0_value(uri.get(), GEN_URI, text.release());
  IMPRINT_RETURN_IF_ERROR(Push(names.get(), std::move(uri)));
  point->type = 0;  // fullName
  point->name.fullname = names.release();
  return point;
}

}  // namespace

Result<GeneralNamesPtr> DirectoryNames(ByteView name_der) {
  const unsigned char* p = name_der.data();
  X509NamePtr name(d2i_X509_NAME(nullptr, &p, static_cast<long>(name_der.size())));
  if (!name || p != name_der.data() + name_der.size()) {
    return Fail(Code::kInvalidArgument, "not a DER-encoded Name");
  }
  GeneralNamesPtr names(GENERAL_NAMES_new());
  GeneralNamePtr directory(GENERAL_NAME_new());
  if (!names || !directory) {
    return std::unexpected(OpenSslError(Code::kInternal, "GENERAL_NAMES_new"));
  }
  GENERAL_NAME_set0_value(directory.get(), GEN_DIRNAME, name.release());
  IMPRINT_RETURN_IF_ERROR(Push(names.get(), std::move(directory)));
  return names;
}

Status AddCrlDistributionPoint(X509* cert, std::string_view url, ByteView crl_issuer_der) {
  DistPointsPtr points(sk_DIST_POINT_new_null());
  DistPointPtr point(DIST_POINT_new());
  if (!points || !point) return std::unexpected(OpenSslError(Code::kInternal, "DIST_POINT_new"));
  IMPRINT_ASSIGN_OR_RETURN(DistPointNamePtr name, FullNameUri(url));
  point->distpoint = name.release();
  if (!crl_issuer_der.empty()) {
    IMPRINT_ASSIGN_OR_RETURN(GeneralNamesPtr issuer, DirectoryNames(crl_issuer_der));
    point->CRLissuer = issuer.release();
  }
  if (sk_DIST_POINT_push(points.get(), point.get()) == 0) {
    return std::unexpected(OpenSslError(Code::kInternal, "sk_DIST_POINT_push"));
  }
  point.release();
  if (X509_add1_ext_i2d(cert, NID_crl_distribution_points, points.get(), 0, X509V3_ADD_DEFAULT) !=
      1) {
    return std::unexpected(OpenSslError(Code::kInternal, "cRLDistributionPoints"));
  }
  return {};
}

Result<X509ExtensionPtr> IndirectCrlScope(std::string_view url) {
  IssuingDistPointPtr idp(ISSUING_DIST_POINT_new());
  if (!idp) return std::unexpected(OpenSslError(Code::kInternal, "ISSUING_DIST_POINT_new"));
  IMPRINT_ASSIGN_OR_RETURN(DistPointNamePtr name, FullNameUri(url));
  idp->distpoint = name.release();
  idp->indirectCRL = 0xff;  // DER TRUE: OpenSSL writes the int as the BOOLEAN octet itself
  X509ExtensionPtr ext(X509V3_EXT_i2d(NID_issuing_distribution_point, 1, idp.get()));
  if (!ext) return std::unexpected(OpenSslError(Code::kInternal, "issuingDistributionPoint"));
  return ext;
}

}  // namespace imprint::x509
