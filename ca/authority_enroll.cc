// Station enrollment with a one-time token.
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "ca/authority.h"
#include "common/utc_time.h"
#include "common/x509/csr.h"
#include "common/x509/encoding.h"

namespace imprint::ca {
namespace {

Bytes TokenHash(const std::string& token) {
  Bytes digest(SHA256_DIGEST_LENGTH);
  SHA256(reinterpret_cast<const uint8_t*>(token.data()), token.size(), digest.data());
  return digest;
}

// The station may enroll: pending, the token matches (compared in constant time) and is fresh.
Result<bool> TokenAccepted(sql::Database& db, const std::string& name, const Bytes& token_hash,
                           int64_t now_ms) {
  IMPRINT_ASSIGN_OR_RETURN(auto stmt, db.Prepare("SELECT status, token_sha256, token_expires_ms "
                                                 "FROM stations WHERE name = ?"));
  stmt.BindAll(name);
  IMPRINT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row || stmt.ColumnText(0) != "pending" || stmt.ColumnIsNull(1)) return false;
  Bytes stored = stmt.ColumnBlob(1);
  if (stored.size() != token_hash.size() ||
      CRYPTO_memcmp(stored.data(), token_hash.data(), stored.size()) != 0) {
    return false;
  }
  return stmt.ColumnInt64(2) > now_ms;
}

}  // namespace

Result<EnrollResult> Authority::EnrollStation(const std::string& name, const std::string& token,
                                              ByteView csr_der, const std::string& source) {
  if (!IsValidIdentifier(name)) return Fail(Code::kInvalidArgument, "invalid station name");
  if (token.empty() || token.size() > 256) {
    return Fail(Code::kInvalidArgument, "invalid enrollment token");
  }
  // The token first: it costs one hash and one indexed read, while the CSR's signature check
  // is the expensive part, and a peer without a token must not make the CA do it.
  Bytes token_hash = TokenHash(token);
  Error denied(Code::kPermissionDenied, "enrollment token invalid, expired or already used");
  {
    auto db = reads_.Acquire();
    IMPRINT_ASSIGN_OR_RETURN(bool ok, TokenAccepted(*db, name, token_hash, NowMs()));
    if (!ok) {
      auth_failures_.Record(source, denied.message());
      return std::unexpected(denied);
    }
  }
  auto csr = x509::ParseAndVerifyCsr(csr_der);
  if (!csr) return Fail(Code::kInvalidArgument, "CSR rejected: " + csr.error().message());
  IMPRINT_ASSIGN_OR_RETURN(
      auto cert, Sign(config_.profiles.at("station"), {{"CN", name}, {"O", config_.organization}},
                      {"urn:imprint:station:" + name}, *csr));
  EnrollResult result;
  result.certificate_der = std::move(cert.certificate_der);
  std::string serial = std::move(cert.serial_hex);
  Bytes spki = x509::Sha256(csr->spki_der);

  bool accepted = false;
  IMPRINT_RETURN_IF_ERROR(writer_.Submit([&](WriteContext& ctx) -> Status {
    IMPRINT_ASSIGN_OR_RETURN(accepted, TokenAccepted(ctx.db(), name, token_hash, ctx.now_ms()));
    if (!accepted) return {};  // raced with another use of the same token
    IMPRINT_ASSIGN_OR_RETURN(
        auto update, ctx.db().Prepare("UPDATE stations SET status = 'active', token_sha256 = NULL, "
                                      "cert_serial = ?, cert_spki_sha256 = ?, enrolled_ms = ? "
                                      "WHERE name = ?"));
    update.BindAll(serial, spki, ctx.now_ms(), name);
    IMPRINT_RETURN_IF_ERROR(update.Run());
    IMPRINT_RETURN_IF_ERROR(
        ctx.Audit("station:" + name, "station.enrolled",
                  {{"station", name}, {"serial", serial}, {"spki_sha256", HexEncode(spki)}}));
    return {};
  }));
  if (!accepted) return std::unexpected(denied);
  return result;
}

}  // namespace imprint::ca
