#include "ca/revocation/ocsp_responder.h"

#include <openssl/evp.h>

#include <algorithm>

#include "ca/states.h"
#include "common/log.h"
#include "common/utc_time.h"
#include "common/x509/encoding.h"

namespace imprint::ca {
namespace {

constexpr size_t kMaxCached = 100000;

}  // namespace

struct OcspResponder::Status {
  enum Kind { kGood, kRevoked, kUnknown } kind = kUnknown;
  int64_t revoked_ms = 0;
  x509::CrlReason reason = x509::CrlReason::kUnspecified;
};

OcspResponder::OcspResponder(sql::ConnectionPool& reads, OcspResponderOptions options)
    : reads_(reads),
      options_(options),
      issuer_hashes_(x509::HashIssuer(options.issuer)),
      offline_(reads),
      budget_tokens_(options.signs_per_second),
      budget_refilled_ms_(NowMs()) {
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_pubkey_digest(options_.responder, EVP_sha1(), hash, &len) == 1) {
    responder_key_hash_.assign(hash, hash + len);
  }
  if (auto cert = x509::CertificateToDer(options_.responder)) responder_cert_ = std::move(*cert);
  if (options_.root != nullptr && options_.root_responder != nullptr) {
    root_hashes_ = x509::HashIssuer(options_.root);
    if (auto cert = x509::CertificateToDer(options_.root_responder)) {
      root_responder_cert_ = std::move(*cert);
    }
  }
}

Result<OcspResponder::Status> OcspResponder::LookupSubordinate(const std::string& serial_hex) {
  auto db = reads_.Acquire();
  IMPRINT_ASSIGN_OR_RETURN(auto q, db->Prepare("SELECT status, revoked_ms FROM allowances WHERE "
                                               "subordinate_serial = ? OR renewed_serial = ?"));
  q.BindAll(serial_hex, serial_hex);
  IMPRINT_ASSIGN_OR_RETURN(bool row, q.Step());
  Status s;
  if (!row) return s;
  IMPRINT_ASSIGN_OR_RETURN(AllowanceState state, ParseAllowanceState(q.ColumnText(0)));
  s.kind = Status::kGood;
  if (state == AllowanceState::kRevoked) {
    s.kind = Status::kRevoked;
    s.revoked_ms = q.ColumnIsNull(1) ? 0 : q.ColumnInt64(1);
  }
  return s;
}

Result<int64_t> OcspResponder::RevocationCounter() {
  auto db = reads_.Acquire();
  IMPRINT_ASSIGN_OR_RETURN(auto q, db->Prepare("SELECT changes FROM crl_state WHERE id = 1"));
  IMPRINT_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Fail(Code::kDataLoss, "the store has no crl_state row");
  return q.ColumnInt64(0);
}

Result<OcspResponder::Status> OcspResponder::Lookup(const std::string& serial_hex,
                                                    const std::string& allowance_id) {
  auto db = reads_.Acquire();
  Status s;
  if (!allowance_id.empty()) {
    IMPRINT_ASSIGN_OR_RETURN(
        auto q, db->Prepare("SELECT r.reason, r.revoked_ms FROM (SELECT serial_hex FROM devices "
                            "WHERE serial_hex = ? AND allowance_id = ? UNION ALL SELECT "
                            "serial_hex FROM device_history WHERE serial_hex = ? AND "
                            "allowance_id = ?) c LEFT JOIN revocations r ON r.serial_hex = "
                            "c.serial_hex"));
    q.BindAll(serial_hex, allowance_id, serial_hex, allowance_id);
    IMPRINT_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return s;
    s.kind = Status::kGood;
    if (!q.ColumnIsNull(0)) {
      s.kind = Status::kRevoked;
      IMPRINT_ASSIGN_OR_RETURN(s.reason, x509::ParseCrlReason(q.ColumnText(0)));
      s.revoked_ms = q.ColumnInt64(1);
    }
    return s;
  }
  // The issuing CA's: none of a device a station signed offline, nor a Matter DAC (a PAI's).
  IMPRINT_ASSIGN_OR_RETURN(
      auto q, db->Prepare("SELECT (SELECT reason FROM revocations WHERE serial_hex = ?), "
                          "(SELECT revoked_ms FROM revocations WHERE serial_hex = ?), "
                          "(SELECT COUNT(*) FROM devices WHERE serial_hex = ? AND allowance_id IS "
                          "NULL AND profile != 'matter-dac') + (SELECT COUNT(*) FROM "
                          "device_history WHERE serial_hex = ? AND allowance_id IS NULL) + "
                          "(SELECT COUNT(*) FROM operational_certificates WHERE serial_hex = ?), "
                          "(SELECT status FROM stations WHERE cert_serial = ?), "
                          "(SELECT revoked_ms FROM stations WHERE cert_serial = ?), "
                          "(SELECT COUNT(*) FROM devices WHERE serial_hex = ? AND allowance_id IS "
                          "NOT NULL) + (SELECT COUNT(*) FROM device_history WHERE serial_hex = ? "
                          "AND allowance_id IS NOT NULL)"));
  q.BindAll(serial_hex, serial_hex, serial_hex, serial_hex, serial_hex, serial_hex, serial_hex,
            serial_hex, serial_hex);
  IMPRINT_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row || q.ColumnInt64(5) > 0) return s;
  if (!q.ColumnIsNull(0)) {
    s.kind = Status::kRevoked;
    IMPRINT_ASSIGN_OR_RETURN(s.reason, x509::ParseCrlReason(q.ColumnText(0)));
    s.revoked_ms = q.ColumnInt64(1);
  } else if (!q.ColumnIsNull(3) && ParseStationState(q.ColumnText(3)) == StationState::kRevoked &&
             !q.ColumnIsNull(4)) {
    s.kind = Status::kRevoked;
    s.revoked_ms = q.ColumnInt64(4);
  } else if (q.ColumnInt64(2) > 0 || !q.ColumnIsNull(3)) {
    s.kind = Status::kGood;
  }
  return s;
}

bool OcspResponder::TakeSigningBudget(int64_t now_ms) {
  std::lock_guard lock(budget_mu_);
  double rate = options_.signs_per_second;
  budget_tokens_ = std::min(
      rate, budget_tokens_ + rate * static_cast<double>(now_ms - budget_refilled_ms_) / 1000);
  budget_refilled_ms_ = now_ms;
  if (budget_tokens_ >= 1) {
    budget_tokens_ -= 1;
    return true;
  }
  ++refused_;
  if (now_ms - refused_logged_ms_ >= 60'000) {
    LogWarning("OCSP: signing budget (" + std::to_string(options_.signs_per_second) +
               " a second) spent; " + std::to_string(refused_) +
               " request(s) answered from the cache or with tryLater");
    refused_ = 0;
    refused_logged_ms_ = now_ms;
  }
  return false;
}

Bytes OcspResponder::CachedFor(const std::string& cache_key, int64_t counter, int64_t now_ms) {
  std::lock_guard lock(cache_mu_);
  if (counter != cache_counter_) {
    cache_.clear();
    cache_counter_ = counter;
  }
  auto hit = cache_.find(cache_key);
  if (hit != cache_.end() && hit->second.expires_ms > now_ms) return hit->second.response;
  return {};
}

Result<Bytes> OcspResponder::Answer(const x509::OcspRequest& request) {
  int64_t now = NowMs();
  std::string cache_key;
  int64_t counter = 0;
  if (request.ids.size() == 1) {
    IMPRINT_ASSIGN_OR_RETURN(counter, RevocationCounter());
    cache_key.assign(request.ids[0].der.begin(), request.ids[0].der.end());
    if (!request.nonce_extension) {
      Bytes cached = CachedFor(cache_key, counter, now);
      if (!cached.empty()) return cached;
    }
  }
  if (!TakeSigningBudget(now)) {
    Bytes cached = cache_key.empty() ? Bytes() : CachedFor(cache_key, counter, now);
    if (!cached.empty()) return cached;
    return Fail(Code::kResourceExhausted, "OCSP signing budget spent");
  }
  bool cacheable = !cache_key.empty() && !request.nonce_extension;
  // Whose certificates this response speaks for: the issuing CA's, the root's (allowances'
  // subordinates), or an allowance's subordinate's (its devices).
  std::shared_ptr<const OfflineIssuer> offline;
  bool root = false;
  if (!x509::SameIssuer(request.ids[0], issuer_hashes_)) {
    root = !root_hashes_.empty() && x509::SameIssuer(request.ids[0], root_hashes_);
    if (!root) {
      IMPRINT_ASSIGN_OR_RETURN(offline, offline_.Find(request.ids[0]));
    }
  }
  const x509::IssuerHashesByNid& speaks_for = offline ? offline->hashes
                                              : root  ? root_hashes_
                                                      : issuer_hashes_;
  x509::OcspResponseSpec spec;
  spec.responder_key_hash = responder_key_hash_;
  spec.responder_cert = offline ? offline->delegate_der
                        : root  ? root_responder_cert_
                                : responder_cert_;
  // The renewed subordinate first: a verifier past the allowance's window chains through it.
  if (offline && !offline->renewed_der.empty()) spec.chain.push_back(offline->renewed_der);
  if (offline) spec.chain.push_back(offline->subordinate_der);
  spec.produced_ms = now;
  spec.next_update_ms = now + int64_t{options_.validity_minutes} * 60'000;
  spec.nonce_extension = request.nonce_extension;
  for (const x509::OcspCertId& id : request.ids) {
    Status status;
    // Our serials are positive (RFC 5280 4.1.2.2): the negative of one is a serial never issued,
    // though its magnitude's octets are the same.
    if (!id.serial_negative && x509::SameIssuer(id, speaks_for)) {
      std::string serial = HexEncode(id.serial);
      IMPRINT_ASSIGN_OR_RETURN(
          status, root ? LookupSubordinate(serial)
                       : Lookup(serial, offline ? offline->allowance_id : std::string()));
    }
    if (status.kind == Status::kUnknown) cacheable = false;  // it may be issued any moment
    x509::OcspAnswer answer;
    answer.cert_id = id.der;
    answer.status = status.kind == Status::kGood      ? x509::OcspAnswer::Status::kGood
                    : status.kind == Status::kRevoked ? x509::OcspAnswer::Status::kRevoked
                                                      : x509::OcspAnswer::Status::kUnknown;
    answer.revoked_ms = status.revoked_ms;
    answer.reason = status.reason;
    spec.answers.push_back(std::move(answer));
  }
  Result<Bytes> signed_response;
  {
    std::lock_guard lock(sign_mu_);
    signed_response = x509::BuildOcspResponse(spec, *options_.signer);
  }
  IMPRINT_ASSIGN_OR_RETURN(Bytes out, std::move(signed_response));
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
  auto request = x509::ParseOcspRequest(request_der, options_.max_requests);
  if (!request) return x509::OcspStatusOnly(x509::OcspResponseStatus::kMalformedRequest);
  auto answer = Answer(*request);
  if (!answer && answer.error().code() == Code::kResourceExhausted) {
    return x509::OcspStatusOnly(x509::OcspResponseStatus::kTryLater);  // logged once a minute
  }
  if (!answer) {
    LogWarning("OCSP request not answered: " + answer.error().message());
    return x509::OcspStatusOnly(x509::OcspResponseStatus::kTryLater);
  }
  return std::move(*answer);
}

}  // namespace imprint::ca
