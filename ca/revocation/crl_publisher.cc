#include "ca/revocation/crl_publisher.h"

#include <openssl/evp.h>

#include <filesystem>
#include <map>

#include "ca/ca_files.h"
#include "common/base64.h"
#include "common/file_util.h"
#include "common/utc_time.h"
#include "common/x509/certificate_view.h"
#include "common/x509/crl.h"
#include "common/x509/encoding.h"

namespace imprint::ca {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

system_clock::time_point At(int64_t ms) { return system_clock::time_point(milliseconds(ms)); }

struct CrlState {
  CrlInfo crl;  // without the DER unless asked for
  int64_t changes = 0, published_changes = 0;
  bool missing_der = false;
};

// `with_der`: also the CRL itself (tens of MB for a million entries: only when needed).
Result<CrlState> ReadState(sql::Database& db, CrlList list, bool with_der) {
  bool issuing = list == CrlList::kIssuing;
  std::string column = issuing ? "der" : "l.der";
  std::string der = with_der ? column : "CASE WHEN " + column + " IS NULL THEN 1 ELSE 0 END";
  IMPRINT_ASSIGN_OR_RETURN(
      auto row,
      db.Prepare(issuing
                     ? "SELECT number, changes, published_changes, this_update_ms, "
                       "next_update_ms, " +
                           der + " FROM crl_state WHERE id = 1"
                     : "SELECT l.number, s.changes, l.published_changes, l.this_update_ms, "
                       "l.next_update_ms, " +
                           der + " FROM crl_lists l, crl_state s WHERE l.name = ? AND s.id = 1"));
  if (!issuing) row.BindAll(CrlListName(list));
  IMPRINT_ASSIGN_OR_RETURN(bool found, row.Step());
  if (!found) {
    return Fail(Code::kDataLoss,
                "the store has no state for the " + std::string(CrlListName(list)) + " CRL");
  }
  CrlState s;
  s.crl.number = static_cast<uint64_t>(row.ColumnInt64(0));
  s.changes = row.ColumnInt64(1);
  s.published_changes = row.ColumnInt64(2);
  s.crl.this_update_ms = row.ColumnInt64(3);
  s.crl.next_update_ms = row.ColumnInt64(4);
  if (with_der) {
    if (!row.ColumnIsNull(5)) s.crl.der = row.ColumnBlob(5);
  } else {
    s.missing_der = row.ColumnInt64(5) != 0;
  }
  return s;
}

Result<x509::CrlEntry> Entry(const sql::Statement& rows) {
  x509::CrlEntry e;
  if (!HexDecode(rows.ColumnText(0), &e.serial)) {
    return Fail(Code::kDataLoss, "revoked serial '" + rows.ColumnText(0) + "' is not hex");
  }
  IMPRINT_ASSIGN_OR_RETURN(e.reason, x509::ParseCrlReason(rows.ColumnText(1)));
  e.revoked_at = At(rows.ColumnInt64(2));
  if (!rows.ColumnIsNull(3)) e.invalid_since = At(rows.ColumnInt64(3));
  return e;
}

// The issuer of an allowance's devices: its subordinate certificate's subject (DER).
Result<std::map<std::string, Bytes>> SubordinateNames(sql::Database& db) {
  IMPRINT_ASSIGN_OR_RETURN(
      auto rows,
      db.Prepare("SELECT id, subordinate_der FROM allowances WHERE subordinate_der IS NOT NULL"));
  std::map<std::string, Bytes> names;
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, rows.Step());
    if (!row) break;
    // Only its subject's bytes: read as DER, without decoding the key (certificate_view.h).
    Bytes der = rows.ColumnBlob(1);
    auto cert = x509::ReadCertificate(der);
    if (!cert) {
      return Fail(Code::kDataLoss, "allowance " + rows.ColumnText(0) +
                                       ": its subordinate certificate does not parse");
    }
    names[rows.ColumnText(0)] = Bytes(cert->subject.begin(), cert->subject.end());
  }
  return names;
}

// The entries of `list` (see the header).
Result<std::vector<x509::CrlEntry>> ReadEntries(sql::Database& db, CrlList list) {
  const char* sql = nullptr;
  switch (list) {
    case CrlList::kIssuing:
      sql =
          "SELECT serial_hex, reason, revoked_ms, invalidity_ms FROM revocations r WHERE NOT "
          "EXISTS (SELECT 1 FROM devices d WHERE d.serial_hex = r.serial_hex AND "
          "(d.allowance_id IS NOT NULL OR d.profile = 'matter-dac')) AND NOT EXISTS (SELECT 1 FROM "
          "device_history h WHERE "
          "h.serial_hex = r.serial_hex AND h.allowance_id IS NOT NULL) UNION ALL "
          "SELECT cert_serial, 'unspecified', revoked_ms, NULL FROM stations "
          "WHERE status = 'revoked' AND cert_serial IS NOT NULL AND revoked_ms IS NOT NULL";
      break;
    case CrlList::kOffline:
      sql =
          "SELECT r.serial_hex, r.reason, r.revoked_ms, r.invalidity_ms, "
          "COALESCE(d.allowance_id, h.allowance_id) AS allowance FROM revocations r "
          "LEFT JOIN devices d ON d.serial_hex = r.serial_hex "
          "LEFT JOIN device_history h ON h.serial_hex = r.serial_hex "
          "WHERE COALESCE(d.allowance_id, h.allowance_id) IS NOT NULL ORDER BY allowance";
      break;
    case CrlList::kRoot:
      // The allowance's reason is free text in the audit log, as OCSP says.
      sql =
          "SELECT subordinate_serial, 'unspecified', revoked_ms, NULL FROM allowances WHERE "
          "status = 'revoked' AND subordinate_serial IS NOT NULL AND revoked_ms IS NOT NULL "
          "UNION ALL SELECT renewed_serial, 'unspecified', revoked_ms, NULL FROM allowances "
          "WHERE status = 'revoked' AND renewed_serial IS NOT NULL AND revoked_ms IS NOT NULL";
      break;
  }
  std::map<std::string, Bytes> subordinates;
  if (list == CrlList::kOffline) {
    IMPRINT_ASSIGN_OR_RETURN(subordinates, SubordinateNames(db));
  }
  IMPRINT_ASSIGN_OR_RETURN(auto rows, db.Prepare(sql));
  std::vector<x509::CrlEntry> entries;
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, rows.Step());
    if (!row) break;
    IMPRINT_ASSIGN_OR_RETURN(x509::CrlEntry e, Entry(rows));
    if (list == CrlList::kOffline) {
      auto issuer = subordinates.find(rows.ColumnText(4));
      if (issuer == subordinates.end()) {
        return Fail(Code::kDataLoss, "revoked serial " + rows.ColumnText(0) + ": allowance " +
                                         rows.ColumnText(4) + " has no subordinate certificate");
      }
      e.certificate_issuer = issuer->second;
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

bool Stale(const CrlState& s, int64_t now_ms) {
  if (s.crl.number == 0 || s.missing_der || s.changes != s.published_changes) return true;
  return now_ms >= s.crl.this_update_ms + (s.crl.next_update_ms - s.crl.this_update_ms) / 2;
}

}  // namespace

std::string_view CrlListName(CrlList list) {
  switch (list) {
    case CrlList::kIssuing:
      return "issuing";
    case CrlList::kOffline:
      return "offline";
    case CrlList::kRoot:
      return "root";
  }
  return "issuing";
}

Result<CrlInfo> CurrentCrl(sql::Database& db, CrlList list) {
  IMPRINT_ASSIGN_OR_RETURN(CrlState s, ReadState(db, list, true));
  // The count is not kept beside the CRL: read it from the CRL (another node's, or the one a
  // racing `crl issue` lost to, which reported 0 entries).
  if (!s.crl.der.empty()) {
    auto entries = x509::CountCrlEntries(s.crl.der);
    if (!entries) {
      return Fail(Code::kDataLoss, "the stored CRL is not a CRL: " + entries.error().message());
    }
    s.crl.entries = *entries;
  }
  return s.crl;
}

Result<CrlInfo> PublishCrl(const CaConfig& config, sql::Database& read, CrlList list,
                           const CrlSigner& signer, const WriteFn& write, const std::string& actor,
                           bool force) {
  if (list == CrlList::kOffline && config.offline_crl_url.empty()) {
    return Fail(Code::kFailedPrecondition, "no offline CRL without status.crl_url");
  }
  IMPRINT_ASSIGN_OR_RETURN(CrlState state, ReadState(read, list, false));
  int64_t now = NowMs();
  if (!force && !Stale(state, now)) return state.crl;  // without its DER
  // Read after the change counter: a revocation in between is in this CRL and, as the counter
  // it bumped is not, makes the next check publish again.
  IMPRINT_ASSIGN_OR_RETURN(auto entries, ReadEntries(read, list));
  x509::CrlRequest request;
  request.issuer = signer.issuer;
  if (list == CrlList::kOffline) request.indirect_url = config.offline_crl_url;
  request.number = state.crl.number + 1;
  request.this_update = At(now);
  request.next_update = At(now + int64_t{config.crl_validity_hours} * 3600 * 1000);
  request.entries = std::move(entries);
  CrlInfo fresh{request.number,
                static_cast<int64_t>(request.entries.size()),
                now,
                now + int64_t{config.crl_validity_hours} * 3600 * 1000,
                {}};
  IMPRINT_ASSIGN_OR_RETURN(fresh.der, x509::BuildCrl(request, *signer.signer));

  bool published = false;
  IMPRINT_RETURN_IF_ERROR(write([&](WriteContext& ctx) -> Status {
    IMPRINT_ASSIGN_OR_RETURN(
        auto update,
        ctx.db().Prepare(list == CrlList::kIssuing
                             ? "UPDATE crl_state SET number = ?, published_changes = ?, "
                               "this_update_ms = ?, next_update_ms = ?, der = ? WHERE id = 1 AND "
                               "number = ?"
                             : "UPDATE crl_lists SET number = ?, published_changes = ?, "
                               "this_update_ms = ?, next_update_ms = ?, der = ? WHERE number = ? "
                               "AND name = ?"));
    update.BindAll(static_cast<int64_t>(fresh.number), state.changes, fresh.this_update_ms,
                   fresh.next_update_ms, fresh.der, static_cast<int64_t>(state.crl.number));
    if (list != CrlList::kIssuing) update.Bind(7, CrlListName(list));
    IMPRINT_RETURN_IF_ERROR(update.Run());
    published = ctx.db().Changes() == 1;
    if (!published) return {};  // another node published this number first
    IMPRINT_RETURN_IF_ERROR(ctx.Audit(actor, "crl.issued",
                                      {{"list", std::string(CrlListName(list))},
                                       {"number", fresh.number},
                                       {"entries", fresh.entries},
                                       {"this_update_ms", fresh.this_update_ms},
                                       {"next_update_ms", fresh.next_update_ms},
                                       {"sha256", HexEncode(x509::Sha256(fresh.der))}}));
    return {};
  }));
  if (published) return fresh;
  return CurrentCrl(read, list);  // another node's
}

std::string CrlPath(const CaConfig& config, CrlList list) {
  return config.state_dir + "/crl/" + std::string(CrlListName(list)) + ".crl";
}

Status WriteCrlFiles(const CaConfig& config, CrlList list, const CrlInfo& crl) {
  std::error_code ec;
  std::filesystem::create_directories(config.state_dir + "/crl", ec);
  if (ec)
    return Fail(Code::kUnavailable, "cannot create " + config.state_dir + "/crl: " + ec.message());
  std::string path = CrlPath(config, list);
  IMPRINT_RETURN_IF_ERROR(WriteFileAtomic(
      path, std::string_view(reinterpret_cast<const char*>(crl.der.data()), crl.der.size()), 0644));
  std::string pem = "-----BEGIN X509 CRL-----\n";
  std::string b64 = Base64Encode(crl.der);
  for (size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  pem += "-----END X509 CRL-----\n";
  return WriteFileAtomic(path + ".pem", pem, 0644);
}

}  // namespace imprint::ca
