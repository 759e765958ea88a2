#include "ca/revocation/ocsp_responder.h"

#include "ca/states.h"
#include "common/utc_time.h"

#include <algorithm>

#include "common/log.h"
#include "common/x509/crl.h"
#include "common/x509/der.h"
#include "common/x509/encoding.h"
#include "common/x509/openssl_error.h"
#include "common/x509/signed_der.h"

namespace imprint::ca {

namespace der = x509::der;
namespace {

using RequestPtr = x509::Owned<OCSP_REQUEST, OCSP_REQUEST_free>;
using CertIdPtr = x509::Owned<OCSP_CERTID, OCSP_CERTID_free>;
using GeneralizedTimePtr = x509::Owned<ASN1_GENERALIZEDTIME, ASN1_GENERALIZEDTIME_free>;

// OCSPResponseStatus (RFC 6960 4.2.1).
constexpr uint8_t kSuccessful = 0, kMalformedRequest = 1, kTryLater = 3;
// id-pkix-ocsp-basic, 1.3.6.1.5.5.7.48.1.1
constexpr uint8_t kBasicOid[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01};

Bytes StatusOnly(uint8_t status) {
  Bytes body{0x0a, 0x01, status}, out;
  der::Append(out, der::kSequence, body);
  return out;
}

Result<Bytes> GeneralizedTime(int64_t ms) {
  GeneralizedTimePtr t(ASN1_GENERALIZEDTIME_set(nullptr, static_cast<time_t>(ms / 1000)));
  if (!t) return std::unexpected(x509::OpenSslError(Code::kInternal, "GeneralizedTime"));
  return x509::ToDer(i2d_ASN1_GENERALIZEDTIME, t.get());
}

constexpr size_t kMaxCached = 100000;

}  // namespace

struct OcspResponder::Status {
  enum Kind { kGood, kRevoked, kUnknown } kind = kUnknown;
  int64_t revoked_ms = 0;
  x509::CrlReason reason = x509::CrlReason::kUnspecified;
};

OcspResponder::OcspResponder(sql::ConnectionPool& reads, OcspResponderOptions options)
    : reads_(reads), options_(options) {
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_pubkey_digest(options_.responder, EVP_sha1(), hash, &len) == 1) {
    responder_key_hash_.assign(hash, hash + len);
  }
  // CertIDs hash the issuer with SHA-1 (almost every client) or SHA-256: both, computed once.
  for (const EVP_MD* md : {EVP_sha1(), EVP_sha256()}) {
    unsigned char name[EVP_MAX_MD_SIZE], key[EVP_MAX_MD_SIZE];
    unsigned int name_len = 0, key_len = 0;
    const ASN1_BIT_STRING* bits = X509_get0_pubkey_bitstr(options_.issuer);
    if (X509_NAME_digest(X509_get_subject_name(options_.issuer), md, name, &name_len) == 1 &&
        bits != nullptr &&
        EVP_Digest(bits->data, static_cast<size_t>(bits->length), key, &key_len, md, nullptr) == 1) {
      issuer_hashes_[EVP_MD_get_type(md)] = {Bytes(name, name + name_len), Bytes(key, key + key_len)};
    }
  }
  auto cert = x509::CertificateToDer(options_.responder);
  if (cert) {
    Bytes list;
    der::Append(list, der::kSequence, *cert);
    der::Append(certs_field_, der::kContext0Constructed, list);
  }
}

bool OcspResponder::OurIssuer(OCSP_CERTID* id) const {
  ASN1_OCTET_STRING* name = nullptr;
  ASN1_OCTET_STRING* key = nullptr;
  ASN1_OBJECT* md = nullptr;
  if (OCSP_id_get0_info(&name, &md, &key, nullptr, id) != 1) return false;
  auto it = issuer_hashes_.find(OBJ_obj2nid(md));
  if (it == issuer_hashes_.end()) return false;
  auto same = [](const ASN1_OCTET_STRING* s, const Bytes& b) {
    return static_cast<size_t>(ASN1_STRING_length(s)) == b.size() &&
           std::equal(b.begin(), b.end(), ASN1_STRING_get0_data(s));
  };
  return same(name, it->second.first) && same(key, it->second.second);
}

Result<int64_t> OcspResponder::RevocationCounter() {
  auto db = reads_.Acquire();
  IMPRINT_ASSIGN_OR_RETURN(auto q, db->Prepare("SELECT changes FROM crl_state WHERE id = 1"));
  IMPRINT_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Fail(Code::kDataLoss, "the store has no crl_state row");
  return q.ColumnInt64(0);
}

Result<OcspResponder::Status> OcspResponder::Lookup(const std::string& serial_hex) {
  auto db = reads_.Acquire();
  IMPRINT_ASSIGN_OR_RETURN(auto q, db->Prepare(
      "SELECT (SELECT reason FROM revocations WHERE serial_hex = ?), "
      "(SELECT revoked_ms FROM revocations WHERE serial_hex = ?), "
      "(SELECT COUNT(*) FROM devices WHERE serial_hex = ?) + "
      "(SELECT COUNT(*) FROM device_history WHERE serial_hex = ?), "
      "(SELECT status FROM stations WHERE cert_serial = ?), "
      "(SELECT revoked_ms FROM stations WHERE cert_serial = ?)"));
  q.BindAll(serial_hex, serial_hex, serial_hex, serial_hex, serial_hex, serial_hex);
  IMPRINT_ASSIGN_OR_RETURN(bool row, q.Step());
  Status s;
  if (!row) return s;
  if (!q.ColumnIsNull(0)) {
    s.kind = Status::kRevoked;
    IMPRINT_ASSIGN_OR_RETURN(s.reason, x509::ParseCrlReason(q.ColumnText(0)));
    s.revoked_ms = q.ColumnInt64(1);
  } else if (!q.ColumnIsNull(3) &&
             ParseStationState(q.ColumnText(3)) == StationState::kRevoked && !q.ColumnIsNull(4)) {
    s.kind = Status::kRevoked;
    s.revoked_ms = q.ColumnInt64(4);
  } else if (q.ColumnInt64(2) > 0 || !q.ColumnIsNull(3)) {
    s.kind = Status::kGood;
  }
  return s;
}

Result<Bytes> OcspResponder::Answer(ByteView request_der, bool* malformed) {
  const unsigned char* p = request_der.data();
  RequestPtr request(d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(request_der.size())));
  int count = request ? OCSP_request_onereq_count(request.get()) : 0;
  if (!request || p != request_der.data() + request_der.size() || count < 1 ||
      static_cast<size_t>(count) > options_.max_requests) {
    x509::ClearOpenSslErrors();
    *malformed = true;
    return Bytes{};
  }
  int64_t now = NowMs();
  bool with_nonce = OCSP_REQUEST_get_ext_by_NID(request.get(), NID_id_pkix_OCSP_Nonce, -1) >= 0;
  std::string cache_key;
  int64_t counter = 0;
  if (!with_nonce && count == 1) {
    IMPRINT_ASSIGN_OR_RETURN(counter, RevocationCounter());
    IMPRINT_ASSIGN_OR_RETURN(
        Bytes id, x509::ToDer(i2d_OCSP_CERTID,
                              OCSP_onereq_get0_id(OCSP_request_onereq_get0(request.get(), 0))));
    cache_key.assign(id.begin(), id.end());
    std::lock_guard lock(cache_mu_);
    if (counter != cache_counter_) {
      cache_.clear();
      cache_counter_ = counter;
    }
    auto hit = cache_.find(cache_key);
    if (hit != cache_.end() && hit->second.expires_ms > now) return hit->second.response;
  }
  bool cacheable = !cache_key.empty();
  IMPRINT_ASSIGN_OR_RETURN(Bytes this_update, GeneralizedTime(now));
  IMPRINT_ASSIGN_OR_RETURN(Bytes next_update_time,
                           GeneralizedTime(now + int64_t{options_.validity_minutes} * 60'000));
  Bytes next_update;
  der::Append(next_update, der::kContext0Constructed, next_update_time);

  Bytes responses;
  for (int i = 0; i < count; ++i) {
    OCSP_CERTID* id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(request.get(), i));
    ASN1_INTEGER* serial = nullptr;
    OCSP_id_get0_info(nullptr, nullptr, nullptr, &serial, id);
    Status status;
    // Our serials are positive (RFC 5280 4.1.2.2): the negative of one is a serial never issued,
    // though its magnitude's octets are the same.
    if (serial != nullptr && ASN1_STRING_type(serial) == V_ASN1_INTEGER && OurIssuer(id)) {
      ByteView octets(ASN1_STRING_get0_data(serial), static_cast<size_t>(ASN1_STRING_length(serial)));
      IMPRINT_ASSIGN_OR_RETURN(status, Lookup(HexEncode(octets)));
    }
    if (status.kind == Status::kUnknown) cacheable = false;  // it may be issued any moment
    IMPRINT_ASSIGN_OR_RETURN(Bytes single, x509::ToDer(i2d_OCSP_CERTID, id));
    if (status.kind == Status::kGood) {
      single.insert(single.end(), {0x80, 0x00});  // good [0] IMPLICIT NULL
    } else if (status.kind == Status::kUnknown) {
      single.insert(single.end(), {0x82, 0x00});  // unknown [2] IMPLICIT NULL
    } else {
      IMPRINT_ASSIGN_OR_RETURN(Bytes info, GeneralizedTime(status.revoked_ms));
      if (status.reason != x509::CrlReason::kUnspecified) {
        Bytes reason{0x0a, 0x01, static_cast<uint8_t>(status.reason)};
        der::Append(info, der::kContext0Constructed, reason);
      }
      der::Append(single, 0xa1, info);  // revoked [1] IMPLICIT RevokedInfo
    }
    single.insert(single.end(), this_update.begin(), this_update.end());
    single.insert(single.end(), next_update.begin(), next_update.end());
    der::Append(responses, der::kSequence, single);
  }

  Bytes data;
  Bytes key_hash;
  der::Append(key_hash, 0x04, responder_key_hash_);
  der::Append(data, 0xa2, key_hash);  // ResponderID byKey [2]
  IMPRINT_ASSIGN_OR_RETURN(Bytes produced_at, GeneralizedTime(now));
  data.insert(data.end(), produced_at.begin(), produced_at.end());
  der::Append(data, der::kSequence, responses);
  if (with_nonce) {
    int nonce_at = OCSP_REQUEST_get_ext_by_NID(request.get(), NID_id_pkix_OCSP_Nonce, -1);
    IMPRINT_ASSIGN_OR_RETURN(Bytes nonce,
                             x509::ToDer(i2d_X509_EXTENSION, OCSP_REQUEST_get_ext(request.get(), nonce_at)));
    Bytes list;
    der::Append(list, der::kSequence, nonce);
    der::Append(data, 0xa1, list);  // responseExtensions [1] EXPLICIT
  }
  Bytes tbs;
  der::Append(tbs, der::kSequence, data);
  IMPRINT_ASSIGN_OR_RETURN(Bytes basic, x509::SignAndAssemble(tbs, *options_.signer, certs_field_));

  Bytes response_bytes;
  der::Append(response_bytes, der::kOid, ByteView(kBasicOid, sizeof(kBasicOid)));
  der::Append(response_bytes, 0x04, basic);
  Bytes wrapped, body{0x0a, 0x01, kSuccessful}, out;
  der::Append(wrapped, der::kSequence, response_bytes);
  der::Append(body, der::kContext0Constructed, wrapped);
  der::Append(out, der::kSequence, body);
  if (cacheable) {
    std::lock_guard lock(cache_mu_);
    if (counter == cache_counter_) {  // no revocation since: still true
      if (cache_.size() >= kMaxCached) cache_.clear();
      cache_[cache_key] = {out, now + int64_t{options_.validity_minutes} * 30'000};
    }
  }
  return out;
}

Bytes OcspResponder::Respond(ByteView request_der) {
  bool malformed = false;
  auto answer = Answer(request_der, &malformed);
  if (malformed) return StatusOnly(kMalformedRequest);
  if (!answer) {
    LogWarning("OCSP request not answered: " + answer.error().message());
    return StatusOnly(kTryLater);
  }
  return std::move(*answer);
}

}  // namespace imprint::ca
