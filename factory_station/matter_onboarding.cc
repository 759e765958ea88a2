#include "factory_station/matter_onboarding.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <unistd.h>

#include <map>
#include <string_view>
#include <vector>

#include "factory_station/labels/records.h"

namespace imprint::station {
namespace {

// Every field is the CA's or the station's own (ids, hex, digits, Base-38): a character that
// could start a spreadsheet formula or break the row is refused, not escaped.
bool PlainField(std::string_view s) {
  if (s.empty() || s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') return false;
  return s.find_first_of(",\"\r\n\t") == std::string_view::npos;
}

}  // namespace

Result<int> WriteMatterOnboarding(const std::string& state_dir, const std::string& order,
                                  const std::string& out_path) {
  std::string path = state_dir + "/labels.jsonl";
  if (::access(path.c_str(), R_OK) != 0) {
    return Fail(Code::kNotFound, "no label records in " + state_dir);
  }
  LabelRecords records(path, order);
  IMPRINT_ASSIGN_OR_RETURN(const auto* all, records.All());
  std::map<std::string, std::string> rows;  // by device id
  for (const auto& [device, record] : *all) {
    // A bound label's secrets are dropped: its codes are no longer on the station.
    if (!record.matter || record.matter_qr.empty()) continue;
    std::vector<std::string_view> fields = {device,
                                            record.serial,
                                            record.matter_qr.Reveal(),
                                            record.matter_manual_code.Reveal(),
                                            record.matter_discriminator,
                                            record.matter_vendor_id,
                                            record.matter_product_id};
    std::string& row = rows[device];
    row.reserve(256);  // one allocation: no grown-out copy of a code left behind
    for (std::string_view f : fields) {
      if (!PlainField(f)) {
        for (auto& [id, r] : rows) OPENSSL_cleanse(r.data(), r.size());
        return Fail(Code::kDataLoss, "a Matter label record of " + order + " is malformed");
      }
      if (!row.empty()) row += ',';
      row.append(f);
    }
    row += '\n';
  }
  if (rows.empty()) return Fail(Code::kNotFound, "no Matter label records for order " + order);
  int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Fail(Code::kAlreadyExists, "cannot create " + out_path + " (exists?)");
  std::string text = "device_id,serial,qr_payload,manual_code,discriminator,vendor_id,product_id\n";
  for (auto& [id, row] : rows) {
    text += row;
    OPENSSL_cleanse(row.data(), row.size());
  }
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  OPENSSL_cleanse(text.data(), text.size());
  if (!ok) return Fail(Code::kUnavailable, "cannot write " + out_path);
  return static_cast<int>(rows.size());
}

}  // namespace imprint::station
