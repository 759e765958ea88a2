#include "common/x509/certificate_builder.h"

#include <openssl/objects.h>

#include <ctime>

#include "common/x509/distribution_point.h"
#include "common/x509/encoding.h"
#include "common/x509/name.h"
#include "common/x509/openssl_error.h"
#include "common/x509/signed_der.h"
#include "common/x509/spki.h"

namespace imprint::x509 {
namespace {

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += ',';
    out += p;
  }
  return out;
}

Status AddConfExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  X509ExtensionPtr ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value.c_str()));
  if (!ext) {
    return std::unexpected(OpenSslError(Code::kInvalidArgument,
                                        std::string("extension ") + OBJ_nid2sn(nid) + "=" + value));
  }
  if (X509_add_ext(cert, ext.get(), -1) != 1) {
    return std::unexpected(OpenSslError(Code::kInternal, "X509_add_ext"));
  }
  return {};
}

Result<GeneralNamePtr> MakeGeneralName(int type, const std::string& value) {
  GeneralNamePtr name(GENERAL_NAME_new());
  if (!name) return std::unexpected(OpenSslError(Code::kInternal, "GENERAL_NAME_new"));
  if (type == GEN_IPADD) {
    ASN1_OCTET_STRING* ip = a2i_IPADDRESS(value.c_str());
    if (ip == nullptr) {
      return std::unexpected(OpenSslError(Code::kInvalidArgument, "bad IP address " + value));
    }
    GENERAL_NAME_set0_value(name.get(), GEN_IPADD, ip);
    return name;
  }
  if (value.empty() || value.size() > kMaxNameValueBytes) {
    return Fail(Code::kInvalidArgument, "subjectAltName entry is empty or too long");
  }
  ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
  if (ia5 == nullptr || ASN1_STRING_set(ia5, value.data(), static_cast<int>(value.size())) != 1) {
    ASN1_IA5STRING_free(ia5);
    return std::unexpected(OpenSslError(Code::kInternal, "ASN1_STRING_set"));
  }
  GENERAL_NAME_set0_value(name.get(), type, ia5);
  return name;
}

Status AddSubjectAltName(X509* cert, const CertificateSubject& subject) {
  GeneralNamesPtr names(GENERAL_NAMES_new());
  if (!names) return std::unexpected(OpenSslError(Code::kInternal, "GENERAL_NAMES_new"));
  auto add_all = [&](int type, const std::vector<std::string>& values) -> Status {
    for (const auto& v : values) {
      IMPRINT_ASSIGN_OR_RETURN(GeneralNamePtr name, MakeGeneralName(type, v));
      if (sk_GENERAL_NAME_push(names.get(), name.get()) <= 0) {
        return std::unexpected(OpenSslError(Code::kInternal, "sk_GENERAL_NAME_push"));
      }
      name.release();  // now owned by `names`
    }
    return {};
  };
  IMPRINT_RETURN_IF_ERROR(add_all(GEN_URI, subject.san_uris));
  IMPRINT_RETURN_IF_ERROR(add_all(GEN_DNS, subject.san_dns));
  IMPRINT_RETURN_IF_ERROR(add_all(GEN_IPADD, subject.san_ips));
  for (const Bytes& der : subject.san_directory_names) {
    const unsigned char* p = der.data();
    X509_NAME* directory = d2i_X509_NAME(nullptr, &p, static_cast<long>(der.size()));
    if (directory == nullptr || p != der.data() + der.size()) {
      X509_NAME_free(directory);
      ClearOpenSslErrors();
      return Fail(Code::kInvalidArgument, "subjectAltName directoryName does not decode");
    }
    GeneralNamePtr name(GENERAL_NAME_new());
    if (!name) {
      X509_NAME_free(directory);
      return std::unexpected(OpenSslError(Code::kInternal, "GENERAL_NAME_new"));
    }
    GENERAL_NAME_set0_value(name.get(), GEN_DIRNAME, directory);
    if (sk_GENERAL_NAME_push(names.get(), name.get()) <= 0) {
      return std::unexpected(OpenSslError(Code::kInternal, "sk_GENERAL_NAME_push"));
    }
    name.release();
  }
  if (sk_GENERAL_NAME_num(names.get()) == 0) return {};
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return std::unexpected(OpenSslError(Code::kInternal, "subjectAltName"));
  }
  return {};
}

Status SetValidity(X509* cert, const X509* issuer, const CertificateProfile& profile,
                   std::chrono::system_clock::time_point issued_at,
                   std::optional<std::chrono::system_clock::time_point> not_after) {
  time_t not_before = std::chrono::system_clock::to_time_t(issued_at - profile.backdate);
  // ASN1_TIME_set picks UTCTime through 2049 and GeneralizedTime after (RFC 5280 4.1.2.5).
  Asn1TimePtr begin(ASN1_TIME_set(nullptr, not_before));
  // Never before the issuer's own notBefore: the chain is then valid at the certificate's
  // notBefore, as a Matter commissioner checks a DAC's (and any path validation at that time).
  if (issuer != nullptr && X509_cmp_time(X509_get0_notBefore(issuer), &not_before) > 0) {
    begin.reset(ASN1_STRING_dup(X509_get0_notBefore(issuer)));
  }
  Asn1TimePtr end;
  if (not_after.has_value()) {
    end.reset(ASN1_TIME_set(nullptr, std::chrono::system_clock::to_time_t(*not_after)));
  } else if (profile.lifetime.has_value()) {
    end.reset(ASN1_TIME_set(nullptr,
                            std::chrono::system_clock::to_time_t(issued_at + *profile.lifetime)));
  } else {
    end.reset(ASN1_TIME_new());
    if (end && ASN1_GENERALIZEDTIME_set_string(end.get(), "99991231235959Z") != 1) end.reset();
  }
  if (!begin || !end || X509_set1_notBefore(cert, begin.get()) != 1 ||
      X509_set1_notAfter(cert, end.get()) != 1) {
    return std::unexpected(OpenSslError(Code::kInternal, "validity"));
  }
  return {};
}

Status AddProfileExtensions(X509* cert, const X509* issuer, const CertificateProfile& profile) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, const_cast<X509*>(issuer != nullptr ? issuer : cert), cert, nullptr, nullptr,
                 0);
  std::string basic = profile.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE";
  if (profile.is_ca && profile.path_length >= 0) {
    basic += ",pathlen:" + std::to_string(profile.path_length);
  }
  IMPRINT_RETURN_IF_ERROR(AddConfExtension(cert, &ctx, NID_basic_constraints, basic));
  if (!profile.key_usage.empty()) {
    IMPRINT_RETURN_IF_ERROR(
        AddConfExtension(cert, &ctx, NID_key_usage, "critical," + Join(profile.key_usage)));
  }
  if (!profile.extended_key_usage.empty()) {
    IMPRINT_RETURN_IF_ERROR(
        AddConfExtension(cert, &ctx, NID_ext_key_usage, Join(profile.extended_key_usage)));
  }
  if (!profile.crl_url.empty()) {
    IMPRINT_RETURN_IF_ERROR(AddCrlDistributionPoint(cert, profile.crl_url, profile.crl_issuer_der));
  }
  if (!profile.ocsp_url.empty()) {
    IMPRINT_RETURN_IF_ERROR(
        AddConfExtension(cert, &ctx, NID_info_access, "OCSP;URI:" + profile.ocsp_url));
  }
  if (profile.ocsp_no_check) {
    IMPRINT_RETURN_IF_ERROR(AddConfExtension(cert, &ctx, NID_id_pkix_OCSP_noCheck, "ignored"));
  }
  // SKI first: the authority key identifier of a self-signed certificate is taken from it.
  IMPRINT_RETURN_IF_ERROR(AddConfExtension(cert, &ctx, NID_subject_key_identifier, "hash"));
  return AddConfExtension(cert, &ctx, NID_authority_key_identifier, "keyid:always");
}

// Copies algorithm and key bits from a DER SubjectPublicKeyInfo into the certificate's.
Status CopyPublicKey(X509* cert, ByteView spki_der) {
  IMPRINT_ASSIGN_OR_RETURN(SpkiParts parts, SplitSpki(spki_der));
  const unsigned char* p = parts.algorithm.data();
  AlgorPtr alg(d2i_X509_ALGOR(nullptr, &p, static_cast<long>(parts.algorithm.size())));
  if (!alg) return std::unexpected(OpenSslError(Code::kInvalidArgument, "malformed public key"));
  const ASN1_OBJECT* alg_oid = nullptr;
  int param_type = V_ASN1_UNDEF;
  const void* param = nullptr;
  X509_ALGOR_get0(&alg_oid, &param_type, &param, alg.get());
  void* param_copy = nullptr;
  if (param_type == V_ASN1_OBJECT) {
    param_copy = OBJ_dup(static_cast<const ASN1_OBJECT*>(param));
  } else if (param_type == V_ASN1_SEQUENCE) {
    param_copy = ASN1_STRING_dup(static_cast<const ASN1_STRING*>(param));
  } else if (param_type != V_ASN1_NULL && param_type != V_ASN1_UNDEF) {
    return Fail(Code::kInvalidArgument, "unsupported public key parameters");
  }
  auto* bits = static_cast<unsigned char*>(OPENSSL_memdup(parts.key.data(), parts.key.size()));
  if (bits == nullptr ||
      X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(cert), OBJ_dup(alg_oid), param_type, param_copy,
                             bits, static_cast<int>(parts.key.size())) != 1) {
    OPENSSL_free(bits);
    if (param_type == V_ASN1_OBJECT) ASN1_OBJECT_free(static_cast<ASN1_OBJECT*>(param_copy));
    if (param_type == V_ASN1_SEQUENCE) ASN1_STRING_free(static_cast<ASN1_STRING*>(param_copy));
    return std::unexpected(OpenSslError(Code::kInternal, "X509_PUBKEY_set0_param"));
  }
  return {};
}

Status SetSerial(X509* cert, const Bytes& serial) {
  if (serial.size() != kSerialBytes || (serial[0] & 0x80) != 0) {
    return Fail(Code::kInvalidArgument, "serial must be 16 bytes and positive");
  }
  BigNumPtr bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
  Asn1IntegerPtr integer(bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
  if (!integer || X509_set_serialNumber(cert, integer.get()) != 1) {
    return std::unexpected(OpenSslError(Code::kInternal, "serial number"));
  }
  return {};
}

}  // namespace

Bytes MakeSerial(ByteView random16) {
  Bytes serial(random16.begin(), random16.end());
  serial.resize(kSerialBytes, 0);
  serial[0] = static_cast<uint8_t>((serial[0] & 0x7f) | 0x40);
  return serial;
}

Result<X509Ptr> IssueCertificate(const CertificateRequest& request, const X509* issuer,
                                 Signer& signer) {
  IMPRINT_ASSIGN_OR_RETURN(Bytes der, IssueCertificateDer(request, issuer, signer));
  return ParseCertificateDer(der);
}

Result<Bytes> IssueCertificateDer(const CertificateRequest& request, const X509* issuer,
                                  Signer& signer) {
  if (request.profile == nullptr || request.public_key == nullptr) {
    return Fail(Code::kInvalidArgument, "certificate request lacks a profile or key");
  }
  EVP_PKEY* issuer_key = issuer != nullptr ? X509_get0_pubkey(issuer) : request.public_key;
  if (issuer_key == nullptr || EVP_PKEY_eq(issuer_key, signer.public_key()) != 1) {
    return Fail(Code::kInvalidArgument, "signer key does not match the issuer");
  }
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return std::unexpected(OpenSslError(Code::kInternal, "X509_new"));
  }
  IMPRINT_RETURN_IF_ERROR(SetSerial(cert.get(), request.serial));
  IMPRINT_ASSIGN_OR_RETURN(X509NamePtr subject, BuildName(request.subject.name));
  const X509_NAME* issuer_name = issuer != nullptr ? X509_get_subject_name(issuer) : subject.get();
  if (X509_set_subject_name(cert.get(), subject.get()) != 1 ||
      X509_set_issuer_name(cert.get(), issuer_name) != 1) {
    return std::unexpected(OpenSslError(Code::kInternal, "names"));
  }
  if (!request.spki_der.empty()) {
    IMPRINT_RETURN_IF_ERROR(CopyPublicKey(cert.get(), request.spki_der));
  } else if (X509_set_pubkey(cert.get(), request.public_key) != 1) {
    return std::unexpected(OpenSslError(Code::kInternal, "X509_set_pubkey"));
  }
  IMPRINT_RETURN_IF_ERROR(
      SetValidity(cert.get(), issuer, *request.profile, request.issued_at, request.not_after));
  IMPRINT_RETURN_IF_ERROR(AddProfileExtensions(cert.get(), issuer, *request.profile));
  IMPRINT_RETURN_IF_ERROR(AddSubjectAltName(cert.get(), request.subject));

  // The TBSCertificate carries the signature algorithm too (RFC 5280 4.1.2.3); OpenSSL has no
  // setter for it outside X509_sign, so it is set in place before the TBS is encoded.
  X509_ALGOR* tbs_alg = const_cast<X509_ALGOR*>(X509_get0_tbs_sigalg(cert.get()));
  IMPRINT_RETURN_IF_ERROR(SetAlgorithmIdentifier(tbs_alg, signer.algorithm()));
  unsigned char* tbs = nullptr;
  int tbs_len = i2d_re_X509_tbs(cert.get(), &tbs);
  if (tbs_len <= 0) return std::unexpected(OpenSslError(Code::kInternal, "i2d_re_X509_tbs"));
  Bytes tbs_bytes(tbs, tbs + tbs_len);
  OPENSSL_free(tbs);

  return SignAndAssemble(tbs_bytes, signer);
}

}  // namespace imprint::x509
