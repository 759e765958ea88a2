#pragma once
// Who may use the console: users with a role (viewer reads; operator may also close orders and
// revoke), stored with their password hash (ca/console/password.h). The `console user` commands
// and what a login reads.

#include <optional>
#include <string>
#include <vector>

#include "ca/audit/write_context.h"
#include "ca/states.h"
#include "common/error.h"
#include "common/secret.h"
#include "common/sql/database.h"

namespace imprint::ca {

struct ConsoleUser {
  std::string name;
  ConsoleRole role = ConsoleRole::kViewer;
  std::string password_hash;
  bool must_change = true;
};

// The rules of the `console user` commands (ca/console/cli.h opens the store and the token
// once and draws the passwords), on the caller's write. INVALID_ARGUMENT for a bad name.
Status CheckConsoleUserName(const std::string& name);
// INVALID_ARGUMENT for a bad role, ALREADY_EXISTS for a taken name. `password_hash` is the
// one-time initial password's (ca/console/password.h). Audited as console.user_added (name and
// role, never the password).
Status ConsoleUserAdd(WriteContext& ctx, const std::string& name, const std::string& role,
                      const std::string& password_hash);
// A new one-time password for `name`, to be changed at the next login; every session of theirs,
// on every CA node, ends at its next request (their credential changed). NOT_FOUND for an
// unknown user. Audited as console.password_reset.
Status ConsoleUserReset(WriteContext& ctx, const std::string& name,
                        const std::string& password_hash);
// The user is gone and their sessions end at their next request. NOT_FOUND for an unknown
// user. Audited as console.user_removed.
Status ConsoleUserRemove(WriteContext& ctx, const std::string& name);
// Every user, by name (no hashes).
Result<std::vector<ConsoleUser>> ConsoleUserList(sql::Database& db);

Result<std::optional<ConsoleUser>> LoadConsoleUser(sql::Database& db, const std::string& name);
// What a session remembers of the password it was opened with: the SHA-256 of the stored hash
// (never the hash itself). A reset or change makes a new salt, so a new credential.
std::string ConsoleCredential(const ConsoleUser& user);
// A new password (already checked against the policy and hashed) for `name`, no longer one to
// change; audited as console.password_changed with actor console:NAME.
Status SetConsolePassword(WriteContext& ctx, const std::string& name, const std::string& hash);

}  // namespace imprint::ca
