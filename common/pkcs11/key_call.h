#pragma once
// CallWithKey: runs one operation with a token key on a pooled session and recovers the way a
// CA must survive an HSM hiccup. A session fault discards the session (the next lease is a
// fresh, logged-in one); several idle sessions can be dead at once (C_CloseAllSessions, token
// re-inserted), so session faults are retried up to the pool size, each retry discarding one.
// A stale key handle (NOT_FOUND, e.g. after a logout) is looked up again once. Shared by every
// keyed operation, so they all recover alike.

#include <atomic>
#include <string>
#include <string_view>
#include <utility>

#include "common/pkcs11/objects.h"
#include "common/pkcs11/session_pool.h"

namespace imprint::p11 {

// `op(lease, handle)` returns a Result; `key` caches the handle of the `object_class` object
// found by `ref`. Errors say what was done with which key: "signing with label=imprint-audit: ...".
template <typename Op>
auto CallWithKey(SessionPool& pool, const ObjectRef& ref, CK_OBJECT_CLASS object_class,
                 std::atomic<CK_OBJECT_HANDLE>& key, std::string_view what, Op op)
    -> decltype(op(std::declval<SessionPool::Lease&>(), CK_OBJECT_HANDLE{})) {
  auto fail = [&](const Error& error) {
    return std::unexpected(error.WithContext(std::string(what) + " with " + ref.Describe()));
  };
  size_t session_retries = 0;
  bool handle_retried = false;
  for (;;) {
    auto lease = pool.Acquire();
    if (!lease) return fail(lease.error());
    auto result = op(*lease, key.load());
    if (result) return result;
    if (lease->broken() && session_retries < pool.size()) {
      ++session_retries;
      continue;
    }
    if (result.error().code() == Code::kNotFound && !handle_retried) {
      handle_retried = true;
      auto fresh = FindObject(*lease, object_class, ref);
      if (!fresh) return fail(fresh.error());
      key.store(*fresh);
      continue;
    }
    return fail(result.error());
  }
}

}  // namespace imprint::p11
