#include "ca/handover/export.h"

#include "ca/admin_session.h"
#include "ca/handover/export_writers.h"
#include "ca/handover/manifest_identity.h"
#include "ca/store/store.h"
#include "common/file_util.h"
#include "common/x509/encoding.h"

namespace imprint::ca {

Result<ExportFormat> ParseExportFormat(std::string_view name) {
  if (name == "manifest") return ExportFormat::kManifest;
  if (name == "aws-iot") return ExportFormat::kAwsIot;
  if (name == "azure-dps") return ExportFormat::kAzureDps;
  if (name == "csv") return ExportFormat::kCsv;
  if (name == "matter-factory-data") return ExportFormat::kMatterFactoryData;
  return Fail(Code::kInvalidArgument,
              "unknown export format \"" + std::string(name) +
                  "\" (manifest, aws-iot, azure-dps, csv, matter-factory-data)");
}

Result<std::string> DevicePem(const ExportDevice& device) {
  return x509::CertificateDerToPem(device.certificate_der);
}

Result<ExportSummary> ExportOrder(const CaConfig& config, const ExportOptions& options) {
  // The store once: the manifest is signed and audited, so that format opens it with the token
  // (a wrong PIN fails before the directory exists); the others only read.
  std::optional<AdminSession> session;
  std::unique_ptr<sql::Database> read_only;
  if (options.format == ExportFormat::kManifest) {
    IMPRINT_ASSIGN_OR_RETURN(session, AdminSession::Open(config, "export"));
  } else {
    IMPRINT_ASSIGN_OR_RETURN(read_only, OpenCaDatabaseReadOnly(config));
  }
  sql::Database& db = session ? *session->db : *read_only;
  IMPRINT_ASSIGN_OR_RETURN(OrderStatus order, OrderShow(db, options.order_id));
  IMPRINT_ASSIGN_OR_RETURN(CaCertificates certs, CaCertificates::Load(config));
  std::optional<DelegatedIdentity> signer;
  if (session) {
    IMPRINT_ASSIGN_OR_RETURN(signer, LoadManifestIdentity(config, *session->hsm, certs));
  }
  IMPRINT_ASSIGN_OR_RETURN(ExportDir dir, ExportDir::Prepare(options.out_dir, options.force));
  ExportSummary summary;
  summary.order_open = order.state == OrderState::kOpen;
  ExportContext ctx{config, order, db, certs, dir, summary};
  switch (options.format) {
    case ExportFormat::kManifest: {
      IMPRINT_RETURN_IF_ERROR(WriteManifest(ctx, *signer));
      IMPRINT_ASSIGN_OR_RETURN(Bytes signer_der, x509::CertificateToDer(signer->certificate.get()));
      summary.signer_sha256 = HexEncode(x509::Sha256(signer_der));
      IMPRINT_ASSIGN_OR_RETURN(std::string chain, ReadWholeFile(ManifestSignerPath(config)));
      IMPRINT_ASSIGN_OR_RETURN(ExportFile * file, dir.Create("manifest-signer.pem"));
      IMPRINT_RETURN_IF_ERROR(file->Write(chain));
      break;
    }
    case ExportFormat::kAwsIot:
      IMPRINT_RETURN_IF_ERROR(WriteAwsIot(ctx));
      break;
    case ExportFormat::kAzureDps:
      IMPRINT_RETURN_IF_ERROR(WriteAzureDps(ctx));
      break;
    case ExportFormat::kCsv:
      IMPRINT_RETURN_IF_ERROR(WriteCsv(ctx));
      break;
    case ExportFormat::kMatterFactoryData:
      IMPRINT_RETURN_IF_ERROR(WriteMatterFactoryData(ctx));
      break;
  }
  IMPRINT_ASSIGN_OR_RETURN(summary.sha256, dir.Close());
  if (session) {
    // Every use of a CA key is in the audit log: the record names what the manifest key signed
    // (which order, how many entries, the file's digest), so a manifest that later arrives
    // shorter or altered differs from the record. Written before the files appear: a failed
    // rename leaves a record of an export nobody received, never a manifest with no record.
    IMPRINT_RETURN_IF_ERROR(session->Write(config, [&](WriteContext& w) -> Status {
      IMPRINT_ASSIGN_OR_RETURN(summary.audit_seq,
                               w.Audit("admin", "manifest.signed",
                                       {{"order", order.id},
                                        {"entries", summary.written},
                                        {"sha256", summary.sha256.at("manifest.json")},
                                        {"signer_sha256", summary.signer_sha256}}));
      return {};
    }));
  }
  IMPRINT_ASSIGN_OR_RETURN(summary.files, dir.Commit());
  return summary;
}

}  // namespace imprint::ca
