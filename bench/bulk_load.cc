#include "bench/bulk_load.h"

#include <openssl/rand.h>

#include "ca/audit/write_context.h"
#include "common/sql/transaction.h"
#include "common/x509/certificate_builder.h"

namespace imprint::bench {

Status PrepareOrder(sql::Database& db, const std::string& order, const std::string& station,
                    int64_t quota) {
  IMPRINT_ASSIGN_OR_RETURN(auto txn, sql::Transaction::Begin(db));
  IMPRINT_ASSIGN_OR_RETURN(
      auto add_station,
      db.Prepare(
          "INSERT OR IGNORE INTO stations (name, status, created_ms) VALUES (?, 'active', 0)"));
  add_station.BindAll(station);
  IMPRINT_RETURN_IF_ERROR(add_station.Run());
  IMPRINT_ASSIGN_OR_RETURN(
      auto add_order,
      db.Prepare("INSERT OR REPLACE INTO orders (id, product, quota, issued, status, created_ms) "
                 "VALUES (?, 'bench', ?, 0, 'open', 0)"));
  add_order.BindAll(order, quota);
  IMPRINT_RETURN_IF_ERROR(add_order.Run());
  IMPRINT_ASSIGN_OR_RETURN(auto link,
                           db.Prepare("INSERT OR IGNORE INTO order_stations VALUES (?, ?)"));
  link.BindAll(order, station);
  IMPRINT_RETURN_IF_ERROR(link.Run());
  return txn.Commit();
}

Status BulkLoad(sql::Database& db, const std::string& order, const std::string& station, int n,
                const Bytes& certificate_der) {
  IMPRINT_ASSIGN_OR_RETURN(auto txn, sql::Transaction::Begin(db));
  ca::WriteContext ctx(db, 0);
  IMPRINT_RETURN_IF_ERROR(ctx.LoadHead());
  IMPRINT_ASSIGN_OR_RETURN(
      auto insert,
      db.Prepare(
          "INSERT INTO devices (device_id, order_id, station, profile, serial_hex, spki_sha256, "
          "certificate_der, status, issued_ms, issue_audit_seq) VALUES (?, ?, ?, 'device', ?, ?, "
          "?, "
          "'verified', 0, ?)"));
  std::string actor = "station:" + station;
  std::string prefix = "bulk-" + order + "-";
  Bytes random(48);
  for (int i = 0; i < n; ++i) {
    RAND_bytes(random.data(), static_cast<int>(random.size()));
    std::string id = prefix + std::to_string(i);
    std::string serial = HexEncode(x509::MakeSerial(ByteView(random.data(), 16)));
    Bytes spki(random.begin() + 16, random.end());
    IMPRINT_ASSIGN_OR_RETURN(uint64_t seq, ctx.Audit(actor, "certificate.issued",
                                                     {{"order", order},
                                                      {"device", id},
                                                      {"serial", serial},
                                                      {"spki_sha256", HexEncode(spki)},
                                                      {"profile", "device"}}));
    insert.BindAll(id, order, station, serial, spki, certificate_der, static_cast<int64_t>(seq));
    IMPRINT_RETURN_IF_ERROR(insert.Run());
    insert.Reset();
  }
  return txn.Commit();
}

}  // namespace imprint::bench
