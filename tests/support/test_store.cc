#include "tests/support/test_store.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
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

}  // namespace

bool TestStoreIsPostgres() {
  const char* store = std::getenv("IMPRINT_TEST_STORE");
  return store != nullptr && std::string(store) == "postgres";
}

std::string NewTestDatabase() {
  static std::atomic<int> counter{0};
  std::string host = PgHost();
  std::string name = "imprint_t" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
  std::string admin = "host=" + host + " user=imprint dbname=postgres";
  PGconn* conn = PQconnectdb(admin.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("test PostgreSQL at " + host + ": " + why);
  }
  // Our own generated name, not input.
  PGresult* r = PQexec(conn, ("CREATE DATABASE " + name).c_str());
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  std::string why = PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(conn);
  if (!ok) throw std::runtime_error("CREATE DATABASE " + name + ": " + why);
  return "host=" + host + " user=imprint dbname=" + name;
}

std::string TestStoreToml() {
  if (!TestStoreIsPostgres()) return "";
  return "[store]\nbackend = \"postgres\"\nconninfo = \"" + NewTestDatabase() + "\"\n";
}

}  // namespace imprint::testing
