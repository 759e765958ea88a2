#include "common/x509/crl.h"

#include <array>
#include <utility>

#include "common/x509/der.h"
#include "common/x509/distribution_point.h"
#include "common/x509/encoding.h"
#include "common/x509/openssl_error.h"
#include "common/x509/signed_der.h"

namespace imprint::x509 {
namespace {

using RevokedPtr = Owned<X509_REVOKED, X509_REVOKED_free>;
using ExtensionPtr = Owned<X509_EXTENSION, X509_EXTENSION_free>;
using AuthorityKeyIdPtr = Owned<AUTHORITY_KEYID, AUTHORITY_KEYID_free>;

constexpr std::array<std::pair<std::string_view, CrlReason>, 6> kReasons{{
    {"unspecified", CrlReason::kUnspecified},
    {"key-compromise", CrlReason::kKeyCompromise},
    {"affiliation-changed", CrlReason::kAffiliationChanged},
    {"superseded", CrlReason::kSuperseded},
    {"cessation-of-operation", CrlReason::kCessationOfOperation},
    {"certificate-hold", CrlReason::kCertificateHold},
}};

Result<Asn1TimePtr> Time(std::chrono::system_clock::time_point t) {
  // UTCTime through 2049, GeneralizedTime after (RFC 5280 5.1.2.4): ASN1_TIME_set chooses so.
  Asn1TimePtr time(ASN1_TIME_set(nullptr, std::chrono::system_clock::to_time_t(t)));
  if (!time) return std::unexpected(OpenSslError(Code::kInternal, "ASN1_TIME_set"));
  return time;
}

Result<Bytes> EntryDer(const CrlEntry& entry) {
  if (entry.serial.empty() || entry.serial.size() > 20 || (entry.serial[0] & 0x80) != 0) {
    return Fail(Code::kInvalidArgument, "CRL entry serial must be 1-20 octets and positive");
  }
  RevokedPtr revoked(X509_REVOKED_new());
  Asn1IntegerPtr serial(ASN1_INTEGER_new());
  if (!revoked || !serial ||
      ASN1_STRING_set(serial.get(), entry.serial.data(), static_cast<int>(entry.serial.size())) !=
          1 ||
      X509_REVOKED_set_serialNumber(revoked.get(), serial.get()) != 1) {
    return std::unexpected(OpenSslError(Code::kInternal, "CRL entry serial"));
  }
  IMPRINT_ASSIGN_OR_RETURN(Asn1TimePtr date, Time(entry.revoked_at));
  if (X509_REVOKED_set_revocationDate(revoked.get(), date.get()) != 1) {
    return std::unexpected(OpenSslError(Code::kInternal, "CRL entry revocation date"));
  }
  if (entry.reason != CrlReason::kUnspecified) {
    Owned<ASN1_ENUMERATED, ASN1_ENUMERATED_free> code(ASN1_ENUMERATED_new());
    if (!code || ASN1_ENUMERATED_set(code.get(), static_cast<long>(entry.reason)) != 1 ||
        X509_REVOKED_add1_ext_i2d(revoked.get(), NID_crl_reason, code.get(), 0, 0) != 1) {
      return std::unexpected(OpenSslError(Code::kInternal, "CRL entry reason code"));
    }
  }
  if (entry.invalid_since) {
    Owned<ASN1_GENERALIZEDTIME, ASN1_GENERALIZEDTIME_free> since(ASN1_GENERALIZEDTIME_set(
        nullptr, std::chrono::system_clock::to_time_t(*entry.invalid_since)));
    if (!since ||
        X509_REVOKED_add1_ext_i2d(revoked.get(), NID_invalidity_date, since.get(), 0, 0) != 1) {
      return std::unexpected(OpenSslError(Code::kInternal, "CRL entry invalidity date"));
    }
  }
  if (!entry.certificate_issuer.empty()) {
    auto issuer = DirectoryNames(entry.certificate_issuer);
    if (!issuer) return Fail(Code::kInvalidArgument, "CRL entry certificate issuer: not a Name");
    if (X509_REVOKED_add1_ext_i2d(revoked.get(), NID_certificate_issuer, issuer->get(), 1, 0) !=
        1) {
      return std::unexpected(OpenSslError(Code::kInternal, "CRL entry certificate issuer"));
    }
  }
  return ToDer(i2d_X509_REVOKED, revoked.get());
}

// crlExtensions: the authority key identifier (the issuer's SKI), the CRL number and, for an
// indirect CRL, its issuing distribution point.
Result<Bytes> ExtensionsDer(const X509* issuer, uint64_t number, const std::string& indirect_url) {
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(const_cast<X509*>(issuer));
  if (ski == nullptr) return Fail(Code::kInvalidArgument, "issuer has no subject key identifier");
  AuthorityKeyIdPtr aki(AUTHORITY_KEYID_new());
  if (!aki) return std::unexpected(OpenSslError(Code::kInternal, "AUTHORITY_KEYID_new"));
  aki->keyid = ASN1_OCTET_STRING_dup(ski);
  ExtensionPtr aki_ext(X509V3_EXT_i2d(NID_authority_key_identifier, 0, aki.get()));
  BigNumPtr bn(BN_new());
  if (!bn || BN_set_word(bn.get(), number) != 1) {
    return std::unexpected(OpenSslError(Code::kInternal, "CRL number"));
  }
  Asn1IntegerPtr crl_number(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  ExtensionPtr number_ext(crl_number ? X509V3_EXT_i2d(NID_crl_number, 0, crl_number.get())
                                     : nullptr);
  if (!aki_ext || !number_ext) {
    return std::unexpected(OpenSslError(Code::kInternal, "CRL extensions"));
  }
  X509ExtensionPtr scope;
  if (!indirect_url.empty()) {
    IMPRINT_ASSIGN_OR_RETURN(scope, IndirectCrlScope(indirect_url));
  }
  Bytes list;
  for (X509_EXTENSION* ext : {aki_ext.get(), number_ext.get(), scope.get()}) {
    if (ext == nullptr) continue;
    IMPRINT_ASSIGN_OR_RETURN(Bytes der, ToDer(i2d_X509_EXTENSION, ext));
    list.insert(list.end(), der.begin(), der.end());
  }
  Bytes sequence, tagged;
  der::Append(sequence, der::kSequence, list);
  der::Append(tagged, der::kContext0Constructed, sequence);
  return tagged;
}

}  // namespace

Result<CrlReason> ParseCrlReason(std::string_view name) {
  for (const auto& [spelling, reason] : kReasons) {
    if (spelling == name) return reason;
  }
  std::string known;
  for (const auto& [spelling, reason] : kReasons) {
    known += known.empty() ? "" : ", ";
    known += spelling;
  }
  return Fail(Code::kInvalidArgument, "unknown revocation reason; one of: " + known);
}

std::string_view CrlReasonName(CrlReason reason) {
  for (const auto& [spelling, r] : kReasons) {
    if (r == reason) return spelling;
  }
  return "unspecified";
}

Result<Bytes> BuildCrl(const CrlRequest& request, Signer& signer) {
  if (request.issuer == nullptr) return Fail(Code::kInvalidArgument, "CRL needs its issuer");
  if (request.next_update <= request.this_update) {
    return Fail(Code::kInvalidArgument, "CRL nextUpdate must be after thisUpdate");
  }
  Bytes tbs{0x02, 0x01, 0x01};  // version v2 (RFC 5280 5.1.2.1)
  IMPRINT_ASSIGN_OR_RETURN(Bytes algorithm, AlgorithmIdentifierDer(signer.algorithm()));
  tbs.insert(tbs.end(), algorithm.begin(), algorithm.end());
  IMPRINT_ASSIGN_OR_RETURN(Bytes issuer,
                           ToDer(i2d_X509_NAME, X509_get_subject_name(request.issuer)));
  tbs.insert(tbs.end(), issuer.begin(), issuer.end());
  for (auto t : {request.this_update, request.next_update}) {
    IMPRINT_ASSIGN_OR_RETURN(Asn1TimePtr time, Time(t));
    IMPRINT_ASSIGN_OR_RETURN(Bytes der, ToDer(i2d_ASN1_TIME, time.get()));
    tbs.insert(tbs.end(), der.begin(), der.end());
  }
  if (!request.entries.empty()) {  // an empty list is left out, not encoded empty (5.1.2.6)
    Bytes entries;
    for (const auto& entry : request.entries) {
      if (!entry.certificate_issuer.empty() && request.indirect_url.empty()) {
        return Fail(Code::kInvalidArgument, "a certificate issuer in a CRL that is not indirect");
      }
      IMPRINT_ASSIGN_OR_RETURN(Bytes der, EntryDer(entry));
      entries.insert(entries.end(), der.begin(), der.end());
    }
    der::Append(tbs, der::kSequence, entries);
  }
  IMPRINT_ASSIGN_OR_RETURN(Bytes extensions,
                           ExtensionsDer(request.issuer, request.number, request.indirect_url));
  tbs.insert(tbs.end(), extensions.begin(), extensions.end());
  Bytes tbs_der;
  der::Append(tbs_der, der::kSequence, tbs);
  return SignAndAssemble(tbs_der, signer);
}

Result<int64_t> CountCrlEntries(ByteView crl_der) {
  constexpr uint8_t kUtcTime = 0x17, kGeneralizedTime = 0x18;
  auto is_time = [](uint8_t tag) { return tag == kUtcTime || tag == kGeneralizedTime; };
  der::Reader outer(crl_der);
  IMPRINT_ASSIGN_OR_RETURN(der::Element list, outer.Expect(der::kSequence));
  der::Reader list_fields(list.content);
  IMPRINT_ASSIGN_OR_RETURN(der::Element tbs, list_fields.Expect(der::kSequence));
  // TBSCertList (RFC 5280 5.1): version?, signature, issuer, thisUpdate, nextUpdate?,
  // revokedCertificates?, [0] crlExtensions?
  der::Reader fields(tbs.content);
  if (fields.PeekTag() == der::kInteger) IMPRINT_RETURN_IF_ERROR(fields.Expect(der::kInteger));
  IMPRINT_RETURN_IF_ERROR(fields.Expect(der::kSequence));  // signature algorithm
  IMPRINT_RETURN_IF_ERROR(fields.Expect(der::kSequence));  // issuer
  if (!is_time(fields.PeekTag())) return Fail(Code::kInvalidArgument, "CRL without thisUpdate");
  IMPRINT_RETURN_IF_ERROR(fields.Expect(fields.PeekTag()));
  if (is_time(fields.PeekTag())) IMPRINT_RETURN_IF_ERROR(fields.Expect(fields.PeekTag()));
  if (fields.PeekTag() != der::kSequence) return 0;  // an empty list is left out (5.1.2.6)
  IMPRINT_ASSIGN_OR_RETURN(der::Element revoked, fields.Expect(der::kSequence));
  der::Reader entries(revoked.content);
  int64_t count = 0;
  for (; !entries.empty(); ++count) IMPRINT_RETURN_IF_ERROR(entries.Expect(der::kSequence));
  return count;
}

}  // namespace imprint::x509
