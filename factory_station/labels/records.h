#pragma once
// LabelWriter: appends one JSON line per device to the labels file (mode 0600 from creation)
// for the label printer: order, device id, certificate serial, default password. The file is
// the only place on the station a password is written. Each line is fsync'd before the device
// is committed, so a committed device's password is never lost; if a device is provisioned
// again after a crash, the last line for a device id is the valid one. Once a device's label is
// bound to it (docs/labels.md), DropLabelSecrets rewrites the file without its secrets; appends
// and rewrites take labels.jsonl.lock, and an append that finds the file replaced reopens it,
// so a rewrite by `label bind` loses no line a running line appends.
// Thread-safe.

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "common/error.h"
#include "common/secret.h"
#include "common/secret_json.h"

namespace imprint::station {

class LabelWriter {
 public:
  static Result<std::unique_ptr<LabelWriter>> Open(const std::string& path);
  ~LabelWriter();

  Status Append(const std::string& order, const std::string& device_id,
                const std::string& serial_hex, const Secret& password);

  // A Matter device's label (docs/matter.md): its passcode, QR payload ("MT:...") and manual
  // pairing code, which all carry the passcode, and its discriminator, vendor and product id.
  struct MatterLabel {
    Secret passcode;
    Secret qr_payload;
    Secret manual_code;
    uint16_t discriminator = 0;
    std::string vendor_id, product_id;
  };
  Status AppendMatter(const std::string& order, const std::string& device_id,
                      const std::string& serial_hex, const MatterLabel& label);

 private:
  LabelWriter(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  Status Write(nlohmann::json fields, const SecretMembers& secrets);
  std::mutex mu_;
  std::string path_;
  int fd_;
};

// What a label is printed from: one device's last record (its secrets kept as Secrets).
struct LabelRecord {
  std::string serial;
  Secret password;  // empty for a device without one, and once the label is bound
  bool matter = false;
  Secret matter_qr, matter_manual_code;
  std::string matter_discriminator, matter_vendor_id, matter_product_id;
  bool secrets_dropped = false;
};

// The records of one order, read as the file grows: Find reads what was appended since the last
// call (from the start again when the file was replaced). Not thread-safe.
class LabelRecords {
 public:
  LabelRecords(std::string path, std::string order)
      : path_(std::move(path)), order_(std::move(order)) {}
  // nullptr when the file holds no record of the device; DATA_LOSS for a line that is not a
  // record.
  Result<const LabelRecord*> Find(const std::string& device);
  // Wipes a record held in memory (its label is printed).
  void Forget(const std::string& device) { records_.erase(device); }
  // Every device's last record, by device id, as the file holds them now.
  Result<const std::map<std::string, LabelRecord>*> All() {
    IMPRINT_RETURN_IF_ERROR(ReadNew());
    return &records_;
  }

 private:
  Status ReadNew();
  std::string path_, order_;
  uint64_t inode_ = 0;
  size_t offset_ = 0;
  std::string partial_;
  std::map<std::string, LabelRecord> records_;
};

// Rewrites the labels file at `path` without the secrets of `devices` of `order` (their labels
// are bound): each of their lines keeps its other fields and gains "secrets_dropped": true.
// Durable (temp file, fsync, rename, directory fsync). Returns how many lines changed.
Result<int> DropLabelSecrets(const std::string& path, const std::string& order,
                             const std::set<std::string>& devices);

}  // namespace imprint::station
