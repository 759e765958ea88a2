#include "factory_station/labels.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/secret_json.h"

namespace imprint::station {

Result<std::unique_ptr<LabelWriter>> LabelWriter::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Fail(Code::kUnavailable, "cannot open labels file " + path);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
    ::close(fd);
    return Fail(Code::kPermissionDenied, "labels file " + path + " must be mode 0600");
  }
  return std::unique_ptr<LabelWriter>(new LabelWriter(fd));
}

LabelWriter::~LabelWriter() { ::close(fd_); }

Status LabelWriter::Append(const std::string& order, const std::string& device_id,
                           const std::string& serial_hex, const Secret& password) {
  return Write({{"order", order}, {"device_id", device_id}, {"serial", serial_hex}},
               {{"default_password", &password}});
}

Status LabelWriter::AppendMatter(const std::string& order, const std::string& device_id,
                                 const std::string& serial_hex, const MatterLabel& label) {
  return Write({{"order", order},
                {"device_id", device_id},
                {"serial", serial_hex},
                {"matter_discriminator", label.discriminator},
                {"matter_vendor_id", label.vendor_id},
                {"matter_product_id", label.product_id}},
               {{"matter_passcode", &label.passcode},
                {"matter_qr_payload", &label.qr_payload},
                {"matter_manual_code", &label.manual_code}});
}

Status LabelWriter::Write(nlohmann::json fields, const SecretMembers& secrets) {
  fields["time_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  IMPRINT_ASSIGN_OR_RETURN(Secret line, JsonWithSecrets(fields, "", secrets));
  std::string_view text = line.Reveal();
  std::lock_guard lock(mu_);
  ssize_t n = ::write(fd_, text.data(), text.size());  // O_APPEND: one line stays whole
  bool ok = n == static_cast<ssize_t>(text.size()) && ::fsync(fd_) == 0;
  if (!ok) return Fail(Code::kUnavailable, "cannot write the labels file");
  return {};
}

}  // namespace imprint::station
