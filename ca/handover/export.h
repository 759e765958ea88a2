#pragma once
// Hand-over of a production order to the brand owner (docs/handover.md): a signed device
// manifest, AWS IoT and Azure DPS registration files and a CSV for MES systems, written into
// an output directory.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ca/config.h"
#include "common/error.h"

namespace imprint::ca {

enum class ExportFormat { kManifest, kAwsIot, kAzureDps, kCsv, kMatterFactoryData };

// "manifest", "aws-iot", "azure-dps", "csv", "matter-factory-data"; INVALID_ARGUMENT otherwise.
Result<ExportFormat> ParseExportFormat(std::string_view name);

struct ExportOptions {
  std::string order_id;
  ExportFormat format = ExportFormat::kManifest;
  std::string out_dir;
  bool force = false;  // write into a directory that is not empty
};

struct ExportSummary {
  int64_t written = 0;                     // devices in the files
  std::map<std::string, int64_t> skipped;  // by status: the cloud files hold verified devices only
  std::vector<std::string> files;
  std::map<std::string, std::string> sha256;  // lower-case hex, by file name
  bool order_open = false;                    // the line may still add devices
  uint64_t audit_seq = 0;                     // the manifest.signed record (manifest only)
  std::string signer_sha256;  // of the manifest signer certificate's DER, hex (manifest only)
};

// NOT_FOUND for an unknown order and FAILED_PRECONDITION for an --out that is not empty,
// both before anything is written. On any error no file of the export is left.
// The manifest needs the token (it is signed there) and is audited (manifest.signed, with the
// file's SHA-256) before its files appear; the other formats only read the store.
Result<ExportSummary> ExportOrder(const CaConfig& config, const ExportOptions& options);

}  // namespace imprint::ca
