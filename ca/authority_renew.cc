// Field renewal over EST (docs/est.md): a device authenticated by the factory certificate this
// CA gave it, or by an operational certificate it renewed since, gets a new operational
// certificate under the configured profile.

#include <openssl/x509v3.h>

#include "ca/authority.h"
#include "ca/states.h"
#include "common/log.h"
#include "common/utc_time.h"
#include "common/x509/chain.h"
#include "common/x509/device_subject.h"
#include "common/x509/encoding.h"
#include "common/x509/openssl_error.h"

namespace imprint::ca {
namespace {

// The certificate's notBefore and notAfter in ms since the epoch.
Result<std::pair<int64_t, int64_t>> Validity(const X509* cert) {
  std::tm before{}, after{};
  if (ASN1_TIME_to_tm(X509_get0_notBefore(cert), &before) != 1 ||
      ASN1_TIME_to_tm(X509_get0_notAfter(cert), &after) != 1) {
    return Fail(Code::kInvalidArgument, "certificate validity unreadable");
  }
  return std::pair{static_cast<int64_t>(timegm(&before)) * 1000,
                   static_cast<int64_t>(timegm(&after)) * 1000};
}

// The DER of a subjectAltName extension's value, or empty when there is none.
Bytes SanDer(const STACK_OF(X509_EXTENSION) * extensions) {
  int at = X509v3_get_ext_by_NID(extensions, NID_subject_alt_name, -1);
  if (at < 0) return {};
  const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(X509v3_get_ext(extensions, at));
  return Bytes(ASN1_STRING_get0_data(value),
               ASN1_STRING_get0_data(value) + ASN1_STRING_length(value));
}

// RFC 7030 4.2.2: "the Subject field and SubjectAltName extension MUST be identical to the
// corresponding fields in the certificate being renewed or rekeyed".
Status SameSubjectAndSan(ByteView csr_der, const X509* cert) {
  const unsigned char* p = csr_der.data();
  X509_REQ* req = d2i_X509_REQ(nullptr, &p, static_cast<long>(csr_der.size()));
  if (req == nullptr) {
    x509::ClearOpenSslErrors();
    return Fail(Code::kInvalidArgument, "body is not a PKCS#10 request");
  }
  bool same_subject =
      X509_NAME_cmp(X509_REQ_get_subject_name(req), X509_get_subject_name(cert)) == 0;
  STACK_OF(X509_EXTENSION)* requested = X509_REQ_get_extensions(req);
  Bytes requested_san = SanDer(requested);
  sk_X509_EXTENSION_pop_free(requested, X509_EXTENSION_free);
  X509_REQ_free(req);
  x509::ClearOpenSslErrors();
  if (!same_subject) {
    return Fail(Code::kInvalidArgument, "the request's subject differs from the certificate's");
  }
  if (requested_san != SanDer(X509_get0_extensions(cert))) {
    return Fail(Code::kInvalidArgument,
                "the request's subjectAltName differs from the certificate's");
  }
  return {};
}

struct RenewFacts {
  bool device_found = false;
  DeviceState status = DeviceState::kIssued;
  bool device_revoked = false;
  std::optional<std::string> peer_revocation;  // the reason the peer certificate was revoked
  bool key_taken = false;
};

Result<RenewFacts> ReadRenewFacts(sql::Database& db, const DevicePeer& peer, const Bytes& spki) {
  IMPRINT_ASSIGN_OR_RETURN(
      auto q, db.Prepare("SELECT d.status, "
                         "(SELECT COUNT(*) FROM revocations r WHERE r.serial_hex = d.serial_hex), "
                         "(SELECT reason FROM revocations p WHERE p.serial_hex = ?), "
                         "(SELECT COUNT(*) FROM devices k WHERE k.spki_sha256 = ? AND "
                         "k.device_id != d.device_id) + (SELECT COUNT(*) FROM "
                         "operational_certificates o WHERE o.spki_sha256 = ? AND o.device_id != "
                         "d.device_id) FROM devices d WHERE d.device_id = ?"));
  q.BindAll(peer.serial_hex, spki, spki, peer.device_id);
  RenewFacts f;
  IMPRINT_ASSIGN_OR_RETURN(f.device_found, q.Step());
  if (!f.device_found) return f;
  IMPRINT_ASSIGN_OR_RETURN(f.status, ParseDeviceState(q.ColumnText(0)));
  f.device_revoked = q.ColumnInt64(1) > 0;
  if (!q.ColumnIsNull(2)) f.peer_revocation = q.ColumnText(2);
  f.key_taken = q.ColumnInt64(3) > 0;
  return f;
}

// The renewal rules, on a read connection before signing and again inside the write.
Status DecideRenewal(const RenewFacts& f, const DevicePeer& peer, int renew_from_percent,
                     int64_t now_ms) {
  if (!f.device_found) return Fail(Code::kNotFound, "unknown device");
  if (f.device_revoked) return Fail(Code::kPermissionDenied, "device is revoked");
  if (f.status != DeviceState::kVerified) {
    return Fail(Code::kFailedPrecondition, "device is not verified at this CA");
  }
  bool superseded = f.peer_revocation && *f.peer_revocation == "superseded";
  if (f.peer_revocation && !superseded) {
    return Fail(Code::kPermissionDenied, "the certificate presented is revoked");
  }
  if (f.key_taken) {
    return Fail(Code::kAlreadyExists, "public key already bound to another device");
  }
  if (peer.operational && !superseded) {
    IMPRINT_ASSIGN_OR_RETURN(auto validity, Validity(peer.certificate.get()));
    auto [before, after] = validity;
    int64_t opens = before + (after - before) / 100 * renew_from_percent;
    if (now_ms < opens) {
      return Fail(Code::kFailedPrecondition,
                  "renewal of this certificate opens at " + FormatUtcTime(opens));
    }
  }
  return {};
}

}  // namespace

Result<DevicePeer> Authority::AuthenticateDevice(const std::string& peer_pem,
                                                 const std::string& source) {
  auto cert = x509::ParseCertificatePem(peer_pem);
  if (!cert) return Fail(Code::kNotFound, "not a device certificate");
  IMPRINT_ASSIGN_OR_RETURN(std::string serial, x509::SerialHex(cert->get()));
  IMPRINT_ASSIGN_OR_RETURN(Bytes der, x509::CertificateToDer(cert->get()));
  DevicePeer peer;
  {
    auto db = reads_.Acquire();
    IMPRINT_ASSIGN_OR_RETURN(
        auto q, db->Prepare("SELECT device_id, certificate_der, 0 FROM devices WHERE serial_hex = "
                            "? UNION ALL SELECT device_id, certificate_der, 1 FROM "
                            "operational_certificates WHERE serial_hex = ?"));
    q.BindAll(serial, serial);
    IMPRINT_ASSIGN_OR_RETURN(bool row, q.Step());
    // The serial alone proves nothing: the whole certificate must be the one recorded.
    if (!row || q.ColumnBlob(1) != der) return Fail(Code::kNotFound, "not a device certificate");
    peer.device_id = q.ColumnText(0);
    peer.operational = q.ColumnInt64(2) == 1;
  }
  std::vector<X509*> intermediates{certs_.issuing.get()};
  if (!x509::VerifyChain(cert->get(), intermediates, certs_.root.get())) {
    std::string why = "device certificate not issued by this CA's issuing CA or not valid now";
    auth_failures_.Record(source, why);
    return Fail(Code::kUnauthenticated, why);
  }
  peer.serial_hex = std::move(serial);
  peer.certificate = std::move(*cert);
  return peer;
}

Result<RenewResult> Authority::RenewDevice(const DevicePeer& peer, ByteView csr_der,
                                           const std::string& profile_name) {
  auto profile = config_.profiles.find(profile_name);
  if (profile == config_.profiles.end()) return Fail(Code::kNotFound, "unknown profile");
  IMPRINT_ASSIGN_OR_RETURN(auto csr, x509::ParseAndVerifyCsr(csr_der));
  IMPRINT_RETURN_IF_ERROR(SameSubjectAndSan(csr_der, peer.certificate.get()));
  Bytes spki = x509::Sha256(csr.spki_der);
  IMPRINT_ASSIGN_OR_RETURN(Bytes peer_spki,
                           x509::SpkiSha256(X509_get0_pubkey(peer.certificate.get())));
  IMPRINT_ASSIGN_OR_RETURN(Bytes csr_spki, x509::SpkiSha256(csr.public_key.get()));
  {
    auto db = reads_.Acquire();
    IMPRINT_ASSIGN_OR_RETURN(RenewFacts facts, ReadRenewFacts(*db, peer, spki));
    IMPRINT_RETURN_IF_ERROR(DecideRenewal(facts, peer, config_.est_renew_from_percent, NowMs()));
  }
  IMPRINT_ASSIGN_OR_RETURN(
      Signed cert,
      Sign(profile->second, x509::DeviceSubjectName(peer.device_id, config_.organization),
           {config_.device_uri_prefix + peer.device_id}, csr));
  IMPRINT_ASSIGN_OR_RETURN(auto issued, x509::ParseCertificateDer(cert.certificate_der));
  IMPRINT_ASSIGN_OR_RETURN(auto validity, Validity(issued.get()));
  RenewResult out{cert.certificate_der, cert.serial_hex, csr_spki != peer_spki};
  IMPRINT_RETURN_IF_ERROR(writer_.Submit([&](WriteContext& ctx) -> Status {
    IMPRINT_ASSIGN_OR_RETURN(RenewFacts facts, ReadRenewFacts(ctx.db(), peer, spki));
    IMPRINT_RETURN_IF_ERROR(
        DecideRenewal(facts, peer, config_.est_renew_from_percent, ctx.now_ms()));
    IMPRINT_ASSIGN_OR_RETURN(uint64_t seq,
                             ctx.Audit("device:" + peer.device_id, "certificate.renewed",
                                       {{"device", peer.device_id},
                                        {"serial", out.serial_hex},
                                        {"profile", profile_name},
                                        {"authenticated_by", peer.serial_hex},
                                        {"kind", out.rekey ? "rekey" : "renew"},
                                        {"spki_sha256", HexEncode(spki)}}));
    IMPRINT_ASSIGN_OR_RETURN(
        auto insert,
        ctx.db().Prepare("INSERT INTO operational_certificates (serial_hex, device_id, profile, "
                         "certificate_der, spki_sha256, not_before_ms, not_after_ms, "
                         "authenticated_by, audit_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    insert.BindAll(out.serial_hex, peer.device_id, profile_name, out.certificate_der, spki,
                   validity.first, validity.second, peer.serial_hex, static_cast<int64_t>(seq));
    return insert.Run();
  }));
  return out;
}

}  // namespace imprint::ca
