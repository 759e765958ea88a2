#pragma once
// The writers behind ExportOrder, one per format; each streams the order's devices page by
// page into files of `dir` and counts what it wrote and skipped. Implemented in
// export_manifest.cc (the manifest) and export_cloud.cc (AWS IoT, Azure DPS, CSV); DevicePem in
// export.cc.

#include "ca/admin.h"
#include "ca/ca_files.h"
#include "ca/delegated_key.h"
#include "ca/handover/export.h"
#include "ca/handover/export_files.h"
#include "ca/handover/export_rows.h"
#include "common/sql/database.h"

namespace imprint::ca {

struct ExportContext {
  const CaConfig& config;
  const OrderStatus& order;
  sql::Database& db;
  const CaCertificates& certs;
  ExportDir& dir;
  ExportSummary& summary;

  OrderDevices Devices() const { return OrderDevices(db, order.id); }
};

Status WriteManifest(ExportContext& ctx, DelegatedIdentity& signer);
Status WriteAwsIot(ExportContext& ctx);
Status WriteAzureDps(ExportContext& ctx);
Status WriteCsv(ExportContext& ctx);
// One <device_id>.factory-data.json per device of a Matter order (docs/matter.md);
// FAILED_PRECONDITION for another order.
Status WriteMatterFactoryData(ExportContext& ctx);

// The device certificate as PEM.
Result<std::string> DevicePem(const ExportDevice& device);

}  // namespace imprint::ca
