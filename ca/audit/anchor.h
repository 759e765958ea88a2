#pragma once
// AuditAnchor: the newest audit checkpoint, kept outside the database as a private data object
// in the HSM token (label imprint-audit-anchor; value: the checkpoint's export line,
// docs/audit-format.md "Anchor"). A new anchor is created before the old one is destroyed, so
// after a crash the token may hold two; the one sealing the higher record is the anchor. Whoever
// can write the state directory but lacks the PIN can roll the database back, but not the anchor,
// so an older database is detected.
//
// Sealing is serialised across every process sharing the store (the servers, on every node, and
// the admin commands) by the seal lock (SealLock: state_dir/audit.lock for SQLite, an advisory
// lock for PostgreSQL), held from before a checkpoint commits until the anchor names it. So the
// anchor is never ahead of the database, and is behind it by at most one checkpoint: only when a
// process died between its commit and its anchor write.
//
// Also keeps, in other data objects (label imprint-audit-pending), audit events that cannot be
// written to the database yet: refusals to run on a database the anchor does not vouch for.
//
// Thread safety: calls on one AuditAnchor are serialised by the lock's callers; the token
// calls take their own session leases.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ca/store/seal_lock.h"
#include "common/audit/record.h"
#include "common/error.h"
#include "common/pkcs11/session_pool.h"

namespace imprint::ca {

class AuditAnchor {
 public:
  // `pool` (not owned) must outlive the anchor.
  AuditAnchor(p11::SessionPool& pool, SealLocker locker)
      : pool_(pool), locker_(std::move(locker)) {}

  // The checkpoint the token holds; nullopt when it holds none. DATA_LOSS if the object is not
  // a checkpoint (only someone with the PIN could have written it).
  Result<std::optional<audit::Checkpoint>> Read();
  Status Write(const audit::Checkpoint& checkpoint);

  // Exclusive: for whoever may seal. Shared: for readers who want the database and the anchor
  // from the same moment; NOT_FOUND when the lock file does not exist (nothing sealed yet).
  Result<SealLock> LockExclusive() { return locker_(true); }
  Result<SealLock> LockShared() { return locker_(false); }

  // Audit events that could not be written where they belong yet (a refusal to run on a
  // database that failed verification, an adoption in progress), kept in the token until the
  // next start that finds a good state audits them. Each is its own token object, so keeping
  // one never rewrites another; at most kMaxKept are kept, later ones go to the log only.
  static constexpr size_t kMaxKept = 64;
  struct KeptEvent {
    std::string event;      // "audit.refused", "audit.anchor_adopted"
    nlohmann::json detail;  // no secrets; carries "time_ms"
  };
  struct Kept {
    std::vector<KeptEvent> events;  // oldest first
    std::vector<CK_OBJECT_HANDLE> handles;
  };
  Status Keep(const KeptEvent& event);
  Result<Kept> ReadKept();
  // Destroys exactly the objects `read` came from (others may have been added since).
  Status ClearKept(const Kept& read);

 private:
  p11::SessionPool& pool_;
  SealLocker locker_;
};

}  // namespace imprint::ca
