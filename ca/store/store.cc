#include "ca/store/store.h"

#include <filesystem>

#include "ca/store/schema.h"
#include "common/postgres/database.h"
#include "common/sqlite/checkpointer.h"
#include "common/sqlite/database.h"

namespace imprint::ca {
namespace {

enum class Access { kWrite, kServeWrite, kRead, kReadOnly };

bool IsPostgres(const CaConfig& config) { return config.store_backend == "postgres"; }

Result<std::unique_ptr<sql::PgDatabase>> ConnectPg(const CaConfig& config, Access access) {
  sql::PgOptions options;
  options.conninfo = config.store_conninfo;
  if (!config.store_password_file.empty()) {
    IMPRINT_ASSIGN_OR_RETURN(Secret password, config.ReadStorePassword());
    options.password = std::make_shared<const Secret>(std::move(password));
  }
  options.read_only = access == Access::kReadOnly;
  auto db = sql::PgDatabase::Open(options);
  if (!db) {
    return Fail(db.error().code(),
                "cannot reach the store " + StoreName(config) + ": " + db.error().message());
  }
  return std::move(*db);
}

Result<std::unique_ptr<sql::Database>> Connect(const CaConfig& config, Access access) {
  if (IsPostgres(config)) {
    IMPRINT_ASSIGN_OR_RETURN(auto db, ConnectPg(config, access));
    return std::unique_ptr<sql::Database>(std::move(db));
  }
  sql::DatabaseOptions options;
  options.read_only = access == Access::kReadOnly;
  options.auto_checkpoint = access != Access::kServeWrite;
  IMPRINT_ASSIGN_OR_RETURN(auto db, sql::SqliteDatabase::Open(config.DatabasePath(), options));
  return std::unique_ptr<sql::Database>(std::move(db));
}

Result<std::unique_ptr<sql::Database>> ConnectAndMigrate(const CaConfig& config, Access access) {
  IMPRINT_ASSIGN_OR_RETURN(auto db, Connect(config, access));
  IMPRINT_RETURN_IF_ERROR(sql::Migrate(*db, CaMigrations(db->backend())));
  return db;
}

class Checkpointing final : public StoreUpkeep {
 public:
  explicit Checkpointing(std::unique_ptr<sql::Checkpointer> checkpointer)
      : checkpointer_(std::move(checkpointer)) {}

 private:
  std::unique_ptr<sql::Checkpointer> checkpointer_;
};

// The seal lock's advisory key; the write lock (common/postgres) uses another.
constexpr int64_t kSealLockKey = 0x696d7072696e7402;  // "imprint" 02

Status NotInitialised(const CaConfig& config) {
  return Fail(Code::kFailedPrecondition,
              "CA not initialised in " +
                  (IsPostgres(config) ? StoreName(config) : config.state_dir) +
                  " (run imprint-ca init)");
}

// A connection to the store of an initialised CA: FAILED_PRECONDITION when there is none. For
// SQLite the file is looked for first, so that nothing is created; for PostgreSQL the one
// connection tells.
Result<std::unique_ptr<sql::Database>> ConnectInitialised(const CaConfig& config, Access access) {
  if (!IsPostgres(config) && !std::filesystem::exists(config.DatabasePath())) {
    return std::unexpected(NotInitialised(config).error());
  }
  IMPRINT_ASSIGN_OR_RETURN(auto db, Connect(config, access));
  IMPRINT_ASSIGN_OR_RETURN(int version, db->SchemaVersion());
  if (version == 0) return std::unexpected(NotInitialised(config).error());
  return db;
}

}  // namespace

SealLocker MakeSealLocker(const CaConfig& config) {
  if (!IsPostgres(config)) {
    return [path = config.AuditLockPath()](bool exclusive) -> Result<SealLock> {
      IMPRINT_ASSIGN_OR_RETURN(FileLock lock,
                               FileLock::Acquire(path, exclusive ? FileLock::Mode::kExclusive
                                                                 : FileLock::Mode::kShared));
      return SealLock(std::move(lock));
    };
  }
  return [config](bool exclusive) -> Result<SealLock> {
    IMPRINT_ASSIGN_OR_RETURN(auto holder, ConnectPg(config, Access::kWrite));
    IMPRINT_RETURN_IF_ERROR(holder->TakeSessionLock(kSealLockKey, exclusive));
    return SealLock(std::unique_ptr<sql::Database>(std::move(holder)));
  };
}

SealLocker MakeSealLocker(const CaConfig& config, sql::Database& connection) {
  auto* pg = IsPostgres(config) ? dynamic_cast<sql::PgDatabase*>(&connection) : nullptr;
  if (pg == nullptr) return MakeSealLocker(config);
  return [pg](bool exclusive) -> Result<SealLock> {
    IMPRINT_RETURN_IF_ERROR(pg->TakeSessionLock(kSealLockKey, exclusive));
    return SealLock(*pg, kSealLockKey, exclusive);
  };
}

std::string StoreName(const CaConfig& config) {
  if (IsPostgres(config)) return "PostgreSQL (" + config.store_conninfo + ")";
  return config.DatabasePath();
}

Result<std::unique_ptr<sql::Database>> OpenCaDatabase(const CaConfig& config) {
  return ConnectAndMigrate(config, Access::kWrite);
}

Result<std::unique_ptr<sql::Database>> OpenCaWriteDatabase(const CaConfig& config) {
  return ConnectAndMigrate(config, Access::kServeWrite);
}

Result<std::unique_ptr<sql::Database>> OpenInitialisedCaDatabase(const CaConfig& config) {
  IMPRINT_ASSIGN_OR_RETURN(auto db, ConnectInitialised(config, Access::kWrite));
  IMPRINT_RETURN_IF_ERROR(sql::Migrate(*db, CaMigrations(db->backend())));
  return db;
}

Result<std::unique_ptr<sql::Database>> OpenCaDatabaseReadOnly(const CaConfig& config) {
  IMPRINT_ASSIGN_OR_RETURN(auto db, ConnectInitialised(config, Access::kReadOnly));
  IMPRINT_ASSIGN_OR_RETURN(int version, db->SchemaVersion());
  auto newest = static_cast<int>(CaMigrations(db->backend()).size());
  if (version != newest) {
    return Fail(Code::kFailedPrecondition,
                "database schema is version " + std::to_string(version) +
                    ", this imprint-ca reads " + std::to_string(newest) +
                    (version < newest ? " (run a writing command or serve "
                                        "once to migrate it)"
                                      : " (use a newer imprint-ca)"));
  }
  return db;
}

Result<std::unique_ptr<sql::ConnectionPool>> OpenCaReadPool(const CaConfig& config, size_t size) {
  return sql::ConnectionPool::Open([&] { return Connect(config, Access::kRead); }, size);
}

Result<std::unique_ptr<StoreUpkeep>> StartStoreUpkeep(const CaConfig& config) {
  if (IsPostgres(config)) return std::unique_ptr<StoreUpkeep>();  // the server does its own
  IMPRINT_ASSIGN_OR_RETURN(auto checkpointer, sql::Checkpointer::Start(config.DatabasePath()));
  return std::unique_ptr<StoreUpkeep>(std::make_unique<Checkpointing>(std::move(checkpointer)));
}

Result<std::optional<std::string>> ExistingStore(const CaConfig& config) {
  if (!IsPostgres(config)) {
    if (std::filesystem::exists(config.DatabasePath())) {
      return std::optional<std::string>(config.DatabasePath());
    }
    return std::optional<std::string>();
  }
  IMPRINT_ASSIGN_OR_RETURN(auto db, Connect(config, Access::kReadOnly));
  IMPRINT_ASSIGN_OR_RETURN(int version, db->SchemaVersion());
  if (version == 0) return std::optional<std::string>();
  return std::optional<std::string>(StoreName(config) + " (schema version " +
                                    std::to_string(version) + ")");
}

Status RequireInitialised(const CaConfig& config) {
  IMPRINT_ASSIGN_OR_RETURN(auto existing, ExistingStore(config));
  if (!existing) return NotInitialised(config);
  return {};
}

Status DropNewStore(const CaConfig& config) {
  if (!IsPostgres(config)) return {};
  IMPRINT_ASSIGN_OR_RETURN(auto db, Connect(config, Access::kWrite));
  // Our own list of table names, not input.
  return db->Exec("DROP TABLE IF EXISTS " + std::string(CaTables()));
}

}  // namespace imprint::ca
