#include "ca/console/auth.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <memory>

#include "ca/admin_session.h"
#include "ca/secret_generator.h"
#include "ca/store/store.h"
#include "common/base64.h"
#include "common/identifier.h"
#include "common/x509/encoding.h"

namespace imprint::ca {
namespace {

constexpr uint64_t kLogN = 15;
constexpr uint32_t kR = 8, kP = 1;
constexpr size_t kSaltBytes = 16, kHashBytes = 32;
constexpr int kInitialPasswordLength = 16;

Result<Bytes> Scrypt(std::string_view password, ByteView salt, uint64_t log_n, uint32_t r,
                     uint32_t p) {
  std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf(EVP_KDF_fetch(nullptr, "SCRYPT", nullptr),
                                                         EVP_KDF_free);
  if (!kdf) return Fail(Code::kInternal, "OpenSSL offers no SCRYPT");
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(kdf.get()),
                                                                 EVP_KDF_CTX_free);
  uint64_t n = uint64_t{1} << log_n;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
                                        const_cast<char*>(password.data()), password.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                        const_cast<uint8_t*>(salt.data()), salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_end()};
  Bytes out(kHashBytes);
  if (!ctx || EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
    return Fail(Code::kInternal, "scrypt failed");
  }
  return out;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (size_t at = 0;;) {
    size_t next = s.find(sep, at);
    parts.push_back(s.substr(at, next == std::string_view::npos ? next : next - at));
    if (next == std::string_view::npos) return parts;
    at = next + 1;
  }
}

}  // namespace

Result<std::string> HashPassword(std::string_view password) {
  Bytes salt(kSaltBytes);
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    return Fail(Code::kInternal, "no random salt");
  }
  IMPRINT_ASSIGN_OR_RETURN(Bytes hash, Scrypt(password, salt, kLogN, kR, kP));
  return "$scrypt$ln=" + std::to_string(kLogN) + ",r=" + std::to_string(kR) +
         ",p=" + std::to_string(kP) + "$" + Base64UrlEncode(salt) + "$" + Base64UrlEncode(hash);
}

bool VerifyPassword(std::string_view stored, std::string_view password) {
  auto parts = Split(stored, '$');
  if (parts.size() != 5 || !parts[0].empty() || parts[1] != "scrypt") return false;
  uint64_t log_n = 0;
  unsigned r = 0, p = 0;
  if (std::sscanf(std::string(parts[2]).c_str(), "ln=%lu,r=%u,p=%u", &log_n, &r, &p) != 3 ||
      log_n < 10 || log_n > 20 || r < 1 || r > 16 || p < 1 || p > 4) {
    return false;
  }
  auto salt = Base64UrlDecode(parts[3]);
  auto expected = Base64UrlDecode(parts[4]);
  if (!salt || !expected || expected->size() != kHashBytes) return false;
  auto hash = Scrypt(password, *salt, log_n, r, p);
  return hash && CRYPTO_memcmp(hash->data(), expected->data(), kHashBytes) == 0;
}

Result<Secret> ConsoleUserAdd(const CaConfig& config, const std::string& name,
                              const std::string& role) {
  if (!IsValidIdentifier(name)) return Fail(Code::kInvalidArgument, "invalid user name");
  if (role != "viewer" && role != "operator") {
    return Fail(Code::kInvalidArgument, "--role must be viewer or operator");
  }
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::Open(config, "console user add"));
  auto random = [&](size_t n) { return s.hsm->SecretRandom(n); };
  IMPRINT_ASSIGN_OR_RETURN(Secret password, DrawPassword(random, kInitialPasswordLength));
  IMPRINT_ASSIGN_OR_RETURN(std::string hash, HashPassword(password.Reveal()));
  IMPRINT_RETURN_IF_ERROR(s.Write(config, [&](WriteContext& ctx) -> Status {
    IMPRINT_ASSIGN_OR_RETURN(auto existing, LoadConsoleUser(ctx.db(), name));
    if (existing) return Fail(Code::kAlreadyExists, "console user " + name + " exists");
    IMPRINT_ASSIGN_OR_RETURN(auto insert, ctx.db().Prepare(
        "INSERT INTO console_users (name, role, password_hash, must_change, created_ms) "
        "VALUES (?, ?, ?, 1, ?)"));
    insert.BindAll(name, role, hash, ctx.now_ms());
    IMPRINT_RETURN_IF_ERROR(insert.Run());
    IMPRINT_RETURN_IF_ERROR(ctx.Audit("admin", "console.user_added", {{"user", name}, {"role", role}}));
    return {};
  }));
  return password;
}

namespace {

// The user's row, or NOT_FOUND naming them.
Result<ConsoleUser> ExistingUser(sql::Database& db, const std::string& name) {
  IMPRINT_ASSIGN_OR_RETURN(auto user, LoadConsoleUser(db, name));
  if (!user) return Fail(Code::kNotFound, "no console user " + name);
  return std::move(*user);
}

}  // namespace

Result<Secret> ConsoleUserReset(const CaConfig& config, const std::string& name) {
  if (!IsValidIdentifier(name)) return Fail(Code::kInvalidArgument, "invalid user name");
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::Open(config, "console user reset"));
  auto random = [&](size_t n) { return s.hsm->SecretRandom(n); };
  IMPRINT_ASSIGN_OR_RETURN(Secret password, DrawPassword(random, kInitialPasswordLength));
  IMPRINT_ASSIGN_OR_RETURN(std::string hash, HashPassword(password.Reveal()));
  IMPRINT_RETURN_IF_ERROR(s.Write(config, [&](WriteContext& ctx) -> Status {
    IMPRINT_RETURN_IF_ERROR(ExistingUser(ctx.db(), name));
    IMPRINT_ASSIGN_OR_RETURN(auto update, ctx.db().Prepare(
        "UPDATE console_users SET password_hash = ?, must_change = 1, changed_ms = ? "
        "WHERE name = ?"));
    update.BindAll(hash, ctx.now_ms(), name);
    IMPRINT_RETURN_IF_ERROR(update.Run());
    IMPRINT_RETURN_IF_ERROR(ctx.Audit("admin", "console.password_reset", {{"user", name}}));
    return {};
  }));
  return password;
}

Status ConsoleUserRemove(const CaConfig& config, const std::string& name) {
  if (!IsValidIdentifier(name)) return Fail(Code::kInvalidArgument, "invalid user name");
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::Open(config, "console user remove"));
  return s.Write(config, [&](WriteContext& ctx) -> Status {
    IMPRINT_ASSIGN_OR_RETURN(ConsoleUser user, ExistingUser(ctx.db(), name));
    IMPRINT_ASSIGN_OR_RETURN(auto remove,
                             ctx.db().Prepare("DELETE FROM console_users WHERE name = ?"));
    remove.BindAll(name);
    IMPRINT_RETURN_IF_ERROR(remove.Run());
    IMPRINT_RETURN_IF_ERROR(
        ctx.Audit("admin", "console.user_removed", {{"user", name}, {"role", user.role}}));
    return {};
  });
}

Result<std::vector<ConsoleUser>> ConsoleUserList(const CaConfig& config) {
  IMPRINT_RETURN_IF_ERROR(RequireInitialised(config));
  IMPRINT_ASSIGN_OR_RETURN(auto db, OpenCaDatabaseReadOnly(config));
  IMPRINT_ASSIGN_OR_RETURN(auto stmt, db->Prepare(
      "SELECT name, role, must_change FROM console_users ORDER BY name"));
  std::vector<ConsoleUser> users;
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return users;
    users.push_back({stmt.ColumnText(0), stmt.ColumnText(1), "", stmt.ColumnInt64(2) != 0});
  }
}

std::string ConsoleCredential(const ConsoleUser& user) {
  return HexEncode(x509::Sha256(AsBytes(user.password_hash)));
}

Result<std::optional<ConsoleUser>> LoadConsoleUser(sql::Database& db, const std::string& name) {
  IMPRINT_ASSIGN_OR_RETURN(auto stmt, db.Prepare(
      "SELECT role, password_hash, must_change FROM console_users WHERE name = ?"));
  stmt.BindAll(name);
  IMPRINT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<ConsoleUser>();
  return ConsoleUser{name, stmt.ColumnText(0), stmt.ColumnText(1), stmt.ColumnInt64(2) != 0};
}

Status SetConsolePasswordIn(WriteContext& ctx, const std::string& name, const std::string& hash) {
  IMPRINT_ASSIGN_OR_RETURN(auto update, ctx.db().Prepare(
      "UPDATE console_users SET password_hash = ?, must_change = 0, changed_ms = ? WHERE name = ?"));
  update.BindAll(hash, ctx.now_ms(), name);
  IMPRINT_RETURN_IF_ERROR(update.Run());
  if (ctx.db().Changes() == 0) return Fail(Code::kNotFound, "no console user " + name);
  IMPRINT_RETURN_IF_ERROR(ctx.Audit("console:" + name, "console.password_changed", {{"user", name}}));
  return {};
}

std::string SessionStore::Create(const std::string& user, const std::string& role,
                                 bool must_change, std::string credential) {
  Bytes id(32), csrf(32);
  RAND_priv_bytes(id.data(), static_cast<int>(id.size()));
  RAND_priv_bytes(csrf.data(), static_cast<int>(csrf.size()));
  std::string key = Base64UrlEncode(id);
  auto now = Clock::now();
  std::lock_guard lock(mu_);
  sessions_[key] = {{user, role, Base64UrlEncode(csrf), must_change, std::move(credential)}, now,
                    now};
  return key;
}

std::optional<ConsoleSession> SessionStore::Use(const std::string& id) {
  auto now = Clock::now();
  std::lock_guard lock(mu_);
  // Expired sessions are dropped as they are met, and all of them now and then.
  if (sessions_.size() > 64) {
    std::erase_if(sessions_, [&](const auto& e) {
      return now - e.second.used > idle_ || now - e.second.created > longest_;
    });
  }
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (now - it->second.used > idle_ || now - it->second.created > longest_) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.used = now;
  return it->second.session;
}

void SessionStore::PasswordChanged(const std::string& id, std::string credential) {
  std::lock_guard lock(mu_);
  if (auto it = sessions_.find(id); it != sessions_.end()) {
    it->second.session.must_change = false;
    it->second.session.credential = std::move(credential);
  }
}

void SessionStore::Remove(const std::string& id) {
  std::lock_guard lock(mu_);
  sessions_.erase(id);
}

bool LoginLimiter::Allowed(const std::string& source) {
  std::lock_guard lock(mu_);
  auto it = failures_.find(source);
  if (it == failures_.end()) return true;
  if (Clock::now() - it->second.first > kWindow) {
    failures_.erase(it);
    return true;
  }
  return it->second.failures < kMaxFailures;
}

void LoginLimiter::Failed(const std::string& source) {
  std::lock_guard lock(mu_);
  auto now = Clock::now();
  if (failures_.size() > 4096) {
    std::erase_if(failures_, [&](const auto& e) { return now - e.second.first > kWindow; });
  }
  auto& entry = failures_[source];
  if (entry.failures == 0 || now - entry.first > kWindow) entry = {0, now};
  ++entry.failures;
}

void LoginLimiter::Succeeded(const std::string& source) {
  std::lock_guard lock(mu_);
  failures_.erase(source);
}

}  // namespace imprint::ca
