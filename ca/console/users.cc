#include "ca/console/users.h"

#include "common/identifier.h"
#include "common/x509/encoding.h"

namespace imprint::ca {
namespace {

// The user's row, or NOT_FOUND naming them.
Result<ConsoleUser> ExistingUser(sql::Database& db, const std::string& name) {
  IMPRINT_ASSIGN_OR_RETURN(auto user, LoadConsoleUser(db, name));
  if (!user) return Fail(Code::kNotFound, "no console user " + name);
  return std::move(*user);
}

}  // namespace

Status CheckConsoleUserName(const std::string& name) {
  if (!IsValidIdentifier(name)) return Fail(Code::kInvalidArgument, "invalid user name");
  return {};
}

Status ConsoleUserAdd(WriteContext& ctx, const std::string& name, const std::string& role,
                      const std::string& password_hash) {
  IMPRINT_RETURN_IF_ERROR(CheckConsoleUserName(name));
  if (!ParseConsoleRole(role)) {
    return Fail(Code::kInvalidArgument, "--role must be viewer or operator");
  }
  IMPRINT_ASSIGN_OR_RETURN(auto existing, LoadConsoleUser(ctx.db(), name));
  if (existing) return Fail(Code::kAlreadyExists, "console user " + name + " exists");
  IMPRINT_ASSIGN_OR_RETURN(
      auto insert,
      ctx.db().Prepare("INSERT INTO console_users (name, role, password_hash, must_change, "
                       "created_ms) VALUES (?, ?, ?, 1, ?)"));
  insert.BindAll(name, role, password_hash, ctx.now_ms());
  IMPRINT_RETURN_IF_ERROR(insert.Run());
  IMPRINT_RETURN_IF_ERROR(
      ctx.Audit("admin", "console.user_added", {{"user", name}, {"role", role}}));
  return {};
}

Status ConsoleUserReset(WriteContext& ctx, const std::string& name,
                        const std::string& password_hash) {
  IMPRINT_RETURN_IF_ERROR(CheckConsoleUserName(name));
  IMPRINT_RETURN_IF_ERROR(ExistingUser(ctx.db(), name));
  IMPRINT_ASSIGN_OR_RETURN(
      auto update, ctx.db().Prepare("UPDATE console_users SET password_hash = ?, must_change = 1, "
                                    "changed_ms = ? WHERE name = ?"));
  update.BindAll(password_hash, ctx.now_ms(), name);
  IMPRINT_RETURN_IF_ERROR(update.Run());
  IMPRINT_RETURN_IF_ERROR(ctx.Audit("admin", "console.password_reset", {{"user", name}}));
  return {};
}

Status ConsoleUserRemove(WriteContext& ctx, const std::string& name) {
  IMPRINT_RETURN_IF_ERROR(CheckConsoleUserName(name));
  IMPRINT_ASSIGN_OR_RETURN(ConsoleUser user, ExistingUser(ctx.db(), name));
  IMPRINT_ASSIGN_OR_RETURN(auto remove,
                           ctx.db().Prepare("DELETE FROM console_users WHERE name = ?"));
  remove.BindAll(name);
  IMPRINT_RETURN_IF_ERROR(remove.Run());
  IMPRINT_RETURN_IF_ERROR(
      ctx.Audit("admin", "console.user_removed", {{"user", name}, {"role", Name(user.role)}}));
  return {};
}

Result<std::vector<ConsoleUser>> ConsoleUserList(sql::Database& db) {
  IMPRINT_ASSIGN_OR_RETURN(
      auto stmt, db.Prepare("SELECT name, role, must_change FROM console_users ORDER BY name"));
  std::vector<ConsoleUser> users;
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return users;
    IMPRINT_ASSIGN_OR_RETURN(ConsoleRole role, ParseConsoleRole(stmt.ColumnText(1)));
    users.push_back({stmt.ColumnText(0), role, "", stmt.ColumnInt64(2) != 0});
  }
}

std::string ConsoleCredential(const ConsoleUser& user) {
  return HexEncode(x509::Sha256(AsBytes(user.password_hash)));
}

Result<std::optional<ConsoleUser>> LoadConsoleUser(sql::Database& db, const std::string& name) {
  IMPRINT_ASSIGN_OR_RETURN(
      auto stmt,
      db.Prepare("SELECT role, password_hash, must_change FROM console_users WHERE name = ?"));
  stmt.BindAll(name);
  IMPRINT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<ConsoleUser>();
  IMPRINT_ASSIGN_OR_RETURN(ConsoleRole role, ParseConsoleRole(stmt.ColumnText(0)));
  return ConsoleUser{name, role, stmt.ColumnText(1), stmt.ColumnInt64(2) != 0};
}

Status SetConsolePassword(WriteContext& ctx, const std::string& name, const std::string& hash) {
  IMPRINT_ASSIGN_OR_RETURN(auto update,
                           ctx.db().Prepare("UPDATE console_users SET password_hash = ?, "
                                            "must_change = 0, changed_ms = ? WHERE name = ?"));
  update.BindAll(hash, ctx.now_ms(), name);
  IMPRINT_RETURN_IF_ERROR(update.Run());
  if (ctx.db().Changes() == 0) return Fail(Code::kNotFound, "no console user " + name);
  IMPRINT_RETURN_IF_ERROR(
      ctx.Audit("console:" + name, "console.password_changed", {{"user", name}}));
  return {};
}

}  // namespace imprint::ca
