#pragma once
// Filling a scratch CA's registry fast for the size benchmarks: an order and a station the
// in-process issuer can use, and N devices with their hash-chained audit records, written as
// one transaction (SQLite).

#include <cstdint>
#include <string>

#include "common/bytes.h"
#include "common/error.h"
#include "common/sql/database.h"

namespace imprint::bench {

Status PrepareOrder(sql::Database& db, const std::string& order, const std::string& station,
                    int64_t quota);

// Devices bulk-<order>-0 .. N-1 on `order`, status verified, each with `certificate_der` (a
// real certificate when an export reads them, any certificate-sized bytes otherwise), a random
// serial and key hash, and a certificate.issued audit record.
Status BulkLoad(sql::Database& db, const std::string& order, const std::string& station, int n,
                const Bytes& certificate_der);

}  // namespace imprint::bench
