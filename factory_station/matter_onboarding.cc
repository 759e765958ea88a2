#include "factory_station/matter_onboarding.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

namespace imprint::station {
namespace {

// Every field is the CA's or the station's own (ids, hex, digits, Base-38): a character that
// could start a spreadsheet formula or break the row is refused, not escaped.
bool PlainField(const std::string& s) {
  if (s.empty() || s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') return false;
  return s.find_first_of(",\"\r\n\t") == std::string::npos;
}

}  // namespace

Result<int> WriteMatterOnboarding(const std::string& state_dir, const std::string& order,
                                  const std::string& out_path) {
  std::ifstream in(state_dir + "/labels.jsonl");
  if (!in) return Fail(Code::kNotFound, "no label records in " + state_dir);
  std::map<std::string, std::string> rows;  // by device id; the last record wins
  for (std::string line; std::getline(in, line);) {
    auto record = nlohmann::json::parse(line, nullptr, false);
    OPENSSL_cleanse(line.data(), line.size());
    if (!record.is_object() || record.value("order", "") != order ||
        !record.contains("matter_qr_payload")) {
      continue;
    }
    std::vector<std::string> fields = {record.value("device_id", ""),
                                       record.value("serial", ""),
                                       record.value("matter_qr_payload", ""),
                                       record.value("matter_manual_code", ""),
                                       std::to_string(record.value("matter_discriminator", -1)),
                                       record.value("matter_vendor_id", ""),
                                       record.value("matter_product_id", "")};
    std::string row;
    for (const std::string& f : fields) {
      if (!PlainField(f)) {
        return Fail(Code::kDataLoss, "a Matter label record of " + order + " is malformed");
      }
      row += (row.empty() ? "" : ",") + f;
    }
    rows[fields[0]] = row + "\n";
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
