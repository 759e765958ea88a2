#include "tests/support/test_store.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <stdexcept>

namespace imprint::testing {
namespace {

std::string PgHost() {
  const char* host = std::getenv("IMPRINT_TEST_PG_HOST");
  if (host == nullptr || *host == '\0') {
    std::fprintf(stderr,
                 "IMPRINT_TEST_STORE=postgres but no test server (IMPRINT_TEST_PG_HOST): run "
                 "the suite through scripts/test.sh, which starts one; skipping\n");
    std::exit(77);
  }
  return host;
}

// Runs one command on the test server's maintenance database; throws with the server's reason.
void AdminCommand(const std::string& host, const std::string& sql) {
  std::string admin = "host=" + host + " user=imprint dbname=postgres";
  PGconn* conn = PQconnectdb(admin.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("test PostgreSQL at " + host + ": " + why);
  }
  PGresult* r = PQexec(conn, sql.c_str());
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  std::string why = PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(conn);
  if (!ok) throw std::runtime_error(sql + ": " + why);
}

// host and dbname of a test connection string.
std::pair<std::string, std::string> HostAndName(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    std::string why = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    throw std::runtime_error("bad test connection string: " + why);
  }
  std::string host, name;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    if (std::string(o->keyword) == "host") host = o->val;
    if (std::string(o->keyword) == "dbname") name = o->val;
  }
  PQconninfoFree(options);
  return {host, name};
}

}  // namespace

void SaveStoreCopy(const std::string& where, const std::string& name) {
  if (!TestStoreIsPostgres()) {
    std::filesystem::copy_file(where, where + "." + name,
                               std::filesystem::copy_options::overwrite_existing);
    return;
  }
  auto [host, db] = HostAndName(where);
  // Our own generated names, not input; one command each (CREATE DATABASE runs alone).
  AdminCommand(host, "DROP DATABASE IF EXISTS " + db + "_" + name);
  AdminCommand(host, "CREATE DATABASE " + db + "_" + name + " TEMPLATE " + db);
}

void RestoreStoreCopy(const std::string& where, const std::string& name) {
  if (!TestStoreIsPostgres()) {
    std::filesystem::copy_file(where + "." + name, where,
                               std::filesystem::copy_options::overwrite_existing);
    return;
  }
  auto [host, db] = HostAndName(where);
  AdminCommand(host, "DROP DATABASE " + db + " WITH (FORCE)");
  AdminCommand(host, "CREATE DATABASE " + db + " TEMPLATE " + db + "_" + name);
}

bool TestStoreIsPostgres() {
  const char* store = std::getenv("IMPRINT_TEST_STORE");
  return store != nullptr && std::string(store) == "postgres";
}

std::string NewTestDatabase() {
  static std::atomic<int> counter{0};
  std::string host = PgHost();
  // pid and counter alone repeat: pids wrap (pid_max 32768 here) within one suite run, and a
  // server kept between runs still holds the earlier run's databases. A random tag does not.
  static const std::string tag = [] {
    std::random_device random;
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", random());
    return std::string(hex);
  }();
  std::string name =
      "imprint_t" + std::to_string(::getpid()) + "_" + tag + "_" + std::to_string(++counter);
  AdminCommand(host, "CREATE DATABASE " + name);  // our own generated name, not input
  return "host=" + host + " user=imprint dbname=" + name;
}

std::string TestStoreToml() {
  if (!TestStoreIsPostgres()) return "";
  return "[store]\nbackend = \"postgres\"\nconninfo = \"" + NewTestDatabase() + "\"\n";
}

}  // namespace imprint::testing
