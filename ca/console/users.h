#pragma once
// Who may use the console: users with a role (viewer reads; operator may also close orders and
// revoke), stored with their password hash (ca/console/password.h). The `console user` commands
// and what a login reads.

#include <optional>
#include <string>
#include <vector>

#include "ca/audit/write_context.h"
#include "ca/config.h"
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

// `console user add`: INVALID_ARGUMENT for a bad name or role, ALREADY_EXISTS for a taken
// name. Returns the one-time initial password (16 symbols from the token's generator);
// audited as console.user_added (name and role, never the password).
Result<Secret> ConsoleUserAdd(const CaConfig& config, const std::string& name,
                              const std::string& role);
// `console user reset`: a new one-time password for `name`, to be changed at the next login;
// every session of theirs, on every CA node, ends at its next request (their credential
// changed). NOT_FOUND for an unknown user. Audited as console.password_reset.
Result<Secret> ConsoleUserReset(const CaConfig& config, const std::string& name);
// `console user remove`: the user is gone and their sessions end at their next request.
// NOT_FOUND for an unknown user. Audited as console.user_removed.
Status ConsoleUserRemove(const CaConfig& config, const std::string& name);
// `console user list`: every user, by name (no hashes).
Result<std::vector<ConsoleUser>> ConsoleUserList(const CaConfig& config);

Result<std::optional<ConsoleUser>> LoadConsoleUser(sql::Database& db, const std::string& name);
// What a session remembers of the password it was opened with: the SHA-256 of the stored hash
// (never the hash itself). A reset or change makes a new salt, so a new credential.
std::string ConsoleCredential(const ConsoleUser& user);
// A new password (already checked against the policy and hashed) for `name`, no longer one to
// change; audited as console.password_changed with actor console:NAME.
Status SetConsolePasswordIn(WriteContext& ctx, const std::string& name, const std::string& hash);

}  // namespace imprint::ca
