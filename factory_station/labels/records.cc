#include "factory_station/labels/records.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/file_lock.h"
#include "common/file_util.h"
#include "common/secret_json.h"

namespace imprint::station {
namespace {

constexpr const char* kSecretMembers[] = {"default_password", "matter_passcode",
                                          "matter_qr_payload", "matter_manual_code"};

std::string LockPath(const std::string& path) { return path + ".lock"; }

// Wipes every string in a parsed record (they may be secrets) before it is freed.
void WipeJson(nlohmann::json& j) {
  if (j.is_string()) {
    auto& s = j.get_ref<std::string&>();
    OPENSSL_cleanse(s.data(), s.size());
  } else if (j.is_object() || j.is_array()) {
    for (auto& member : j) WipeJson(member);
  }
}

Secret TakeString(nlohmann::json& record, const char* name) {
  auto it = record.find(name);
  if (it == record.end() || !it->is_string()) return {};
  return Secret(std::move(it->get_ref<std::string&>()));
}

}  // namespace

Result<std::unique_ptr<LabelWriter>> LabelWriter::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Fail(Code::kUnavailable, "cannot open labels file " + path);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
    ::close(fd);
    return Fail(Code::kPermissionDenied, "labels file " + path + " must be mode 0600");
  }
  return std::unique_ptr<LabelWriter>(new LabelWriter(path, fd));
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
  IMPRINT_ASSIGN_OR_RETURN(FileLock file_lock,
                           FileLock::Acquire(LockPath(path_), FileLock::Mode::kExclusive));
  // A rewrite (DropLabelSecrets) replaced the file since it was opened: append to the new one.
  struct stat open_st {
  }, path_st{};
  if (::fstat(fd_, &open_st) != 0 || ::stat(path_.c_str(), &path_st) != 0 ||
      open_st.st_ino != path_st.st_ino) {
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return Fail(Code::kUnavailable, "cannot reopen labels file " + path_);
    ::close(fd_);
    fd_ = fd;
  }
  ssize_t n = ::write(fd_, text.data(), text.size());  // O_APPEND: one line stays whole
  bool ok = n == static_cast<ssize_t>(text.size()) && ::fsync(fd_) == 0;
  if (!ok) return Fail(Code::kUnavailable, "cannot write the labels file");
  return {};
}

Status LabelRecords::ReadNew() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return {};  // no labels yet
  if (st.st_ino != inode_ || static_cast<size_t>(st.st_size) < offset_) {
    inode_ = st.st_ino;
    offset_ = 0;
    OPENSSL_cleanse(partial_.data(), partial_.size());
    partial_.clear();
  }
  std::ifstream in(path_, std::ios::binary);
  if (!in) return Fail(Code::kUnavailable, "cannot read labels file " + path_);
  in.seekg(static_cast<std::streamoff>(offset_));
  std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  offset_ += chunk.size();
  partial_ += chunk;
  OPENSSL_cleanse(chunk.data(), chunk.size());
  size_t start = 0;
  for (size_t nl = partial_.find('\n'); nl != std::string::npos; nl = partial_.find('\n', start)) {
    auto record =
        nlohmann::json::parse(std::string_view(partial_).substr(start, nl - start), nullptr, false);
    start = nl + 1;
    if (!record.is_object())
      return Fail(Code::kDataLoss, "labels file " + path_ + " holds a line that is not a record");
    if (record.value("order", "") == order_ && record.contains("device_id") &&
        record["device_id"].is_string()) {
      LabelRecord r;
      r.serial = record.value("serial", "");
      r.password = TakeString(record, "default_password");
      r.matter = record.contains("matter_discriminator");
      r.matter_qr = TakeString(record, "matter_qr_payload");
      r.matter_manual_code = TakeString(record, "matter_manual_code");
      if (r.matter) {
        r.matter_discriminator = std::to_string(record.value("matter_discriminator", 0));
        r.matter_vendor_id = record.value("matter_vendor_id", "");
        r.matter_product_id = record.value("matter_product_id", "");
      }
      r.secrets_dropped = record.value("secrets_dropped", false);
      records_[record["device_id"].get<std::string>()] = std::move(r);
    }
    WipeJson(record);
  }
  OPENSSL_cleanse(partial_.data(), start);
  partial_.erase(0, start);
  return {};
}

Result<const LabelRecord*> LabelRecords::Find(const std::string& device) {
  if (auto it = records_.find(device); it != records_.end()) return &it->second;
  IMPRINT_RETURN_IF_ERROR(ReadNew());
  auto it = records_.find(device);
  return it == records_.end() ? nullptr : &it->second;
}

Result<int> DropLabelSecrets(const std::string& path, const std::string& order,
                             const std::set<std::string>& devices) {
  IMPRINT_ASSIGN_OR_RETURN(FileLock lock,
                           FileLock::Acquire(LockPath(path), FileLock::Mode::kExclusive));
  std::ifstream in(path, std::ios::binary);
  struct stat st {};
  if (!in || ::stat(path.c_str(), &st) != 0) return Fail(Code::kNotFound, "no labels file " + path);
  // Sized once, so no reallocation leaves a copy of another device's password behind: a line
  // is never shorter than 60 bytes and gains at most 24.
  std::string out;
  out.reserve(static_cast<size_t>(st.st_size) * 3 / 2 + 64);
  int changed = 0;
  for (std::string line; std::getline(in, line);) {
    auto record = nlohmann::json::parse(line, nullptr, false);
    bool drop = record.is_object() && record.value("order", "") == order &&
                record.contains("device_id") && record["device_id"].is_string() &&
                devices.contains(record["device_id"].get<std::string>()) &&
                !record.value("secrets_dropped", false);
    if (drop) {
      for (const char* name : kSecretMembers) {
        if (auto it = record.find(name); it != record.end()) {
          WipeJson(*it);
          record.erase(it);
        }
      }
      record["secrets_dropped"] = true;
      out += record.dump() + "\n";
      ++changed;
    } else {
      out += line + "\n";
    }
    OPENSSL_cleanse(line.data(), line.size());
    WipeJson(record);
  }
  in.close();
  Status written = changed > 0 ? WriteFileAtomic(path, out, 0600) : Status{};
  OPENSSL_cleanse(out.data(), out.size());
  IMPRINT_RETURN_IF_ERROR(written);
  return changed;
}

}  // namespace imprint::station
