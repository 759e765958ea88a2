#pragma once
// Revocation (docs/operations.md "Revocation"): device certificates withdrawn by device, by
// production order, or by the station that issued them within a time window; the one reason
// that can be lifted (certificate-hold). Each change is one audit record and marks the CRL
// stale. A device's history and its rework are in ca/revocation/device_history.h.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ca/audit/write_context.h"
#include "ca/config.h"
#include "common/error.h"
#include "common/sql/database.h"
#include "common/x509/crl.h"

namespace imprint::ca {

struct RevocationRequest {
  enum class Scope { kDevice, kOrder, kStation };
  Scope scope = Scope::kDevice;
  std::string id;                      // device id, order id or station name
  int64_t since_ms = 0, until_ms = 0;  // kStation: issued within [since, until]
  x509::CrlReason reason = x509::CrlReason::kUnspecified;
  std::optional<int64_t> invalidity_ms;  // when the key is believed to have been compromised
  bool dry_run = false;                  // count only; needs no PIN and changes nothing
  std::string actor = "admin";           // who the audit record names ("console:NAME")
};

struct RevocationOutcome {
  int64_t selected = 0;         // certificates the selection names
  int64_t already_revoked = 0;  // of those, revoked before
  int64_t revoked = 0;          // revoked now (0 on a dry run)
};

// Inside the caller's write transaction (an admin command's AdminSession, or a serving CA's
// writer for the console): checks the request, revokes, audits. NOT_FOUND for an unknown
// device, order or station; INVALID_ARGUMENT for a bad window or one reaching into the future.
Status Revoke(WriteContext& ctx, const RevocationRequest& request, RevocationOutcome& out);
// A dry run: what Revoke would select, changing nothing; the same refusals.
Result<RevocationOutcome> CountRevocable(sql::Database& db, const RevocationRequest& request);

// Lifts a certificate-hold. NOT_FOUND if the device's certificate is not revoked;
// FAILED_PRECONDITION for any other reason (those are final).
Status Unrevoke(WriteContext& ctx, const std::string& device_id);

// In a write transaction that changed what is revoked: the CRL is stale until republished.
Status MarkCrlStale(sql::Database& db);

}  // namespace imprint::ca
