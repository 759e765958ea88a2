// `export --format matter-factory-data`: one JSON per device of a Matter order with the factory
// data the CA holds (docs/matter.md, "Hand-over").

#include <nlohmann/json.hpp>

#include "ca/handover/export_writers.h"
#include "ca/matter/order.h"
#include "ca/matter/pai.h"
#include "common/base64.h"
#include "common/matter/attestation_certificate.h"

namespace imprint::ca {

Status WriteMatterFactoryData(ExportContext& ctx) {
  IMPRINT_ASSIGN_OR_RETURN(auto matter, LoadMatterOrder(ctx.db, ctx.order.id));
  if (!matter) {
    return Fail(Code::kFailedPrecondition, "order " + ctx.order.id + " is not a Matter order");
  }
  IMPRINT_ASSIGN_OR_RETURN(PaiRecord pai, LoadPaiRecord(ctx.db, matter->pai_label));
  IMPRINT_ASSIGN_OR_RETURN(
      auto data, ctx.db.Prepare("SELECT discriminator, salt, iterations FROM matter_devices "
                                "WHERE device_id = ? AND order_id = ?"));
  return ctx.Devices().ForEach([&](const ExportDevice& d) -> Status {
    data.Reset();
    data.BindAll(d.device_id, ctx.order.id);
    IMPRINT_ASSIGN_OR_RETURN(bool found, data.Step());
    nlohmann::json out = {
        {"format", "imprint-matter-factory-data-v1"},
        {"device_id", d.device_id},
        {"serial", d.serial_hex},
        {"status", Name(d.status)},
        {"vendor_id", matter::HexId(matter->vendor_id)},
        {"product_id", matter::HexId(matter->product_id)},
        {"dac", Base64Encode(d.certificate_der)},
        {"pai", Base64Encode(pai.certificate_der)},
        {"paa", Base64Encode(pai.paa_der)},
        {"certification_declaration", Base64Encode(matter->cd_der)},
    };
    // A device that stopped before its commissioning data was drawn has none.
    if (found) {
      out["discriminator"] = data.ColumnInt64(0);
      out["spake2p"] = {{"iterations", data.ColumnInt64(2)},
                        {"salt", Base64Encode(data.ColumnBlob(1))}};
    }
    IMPRINT_ASSIGN_OR_RETURN(ExportFile * file, ctx.dir.Create(d.device_id + ".factory-data.json"));
    ++ctx.summary.written;
    return file->Write(out.dump(2) + "\n");
  });
}

}  // namespace imprint::ca
