#include "device_agent/device_store.h"

#include <openssl/crypto.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/secret_json.h"
#include "common/x509/encoding.h"

namespace imprint::agent {
namespace {

using nlohmann::json;

constexpr int kRecordVersion = 2;
constexpr const char* kCopies[] = {"certificate.pem", "chain.pem", "secrets.json"};

Bytes FromHex(const std::string& hex) {
  Bytes out;
  if (!HexDecode(hex, &out)) out.clear();  // a corrupt field then fails certificate parsing
  return out;
}

Status RemoveIfPresent(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Fail(Code::kUnavailable, "cannot remove " + path);
  }
  return {};
}

SecretMembers Members(const Credentials& c) {
  SecretMembers members;
  for (const auto& [name, value] : c.secrets) members.emplace_back(name, &value);
  return members;
}

// The commit record; its secrets never pass through a json value (common/secret_json.h).
Result<Secret> RecordText(const Credentials& c, const std::string& key_type) {
  json j = {{"version", kRecordVersion},
            {"state", "COMMITTED"},
            {"key_type", key_type},
            {"certificate", HexEncode(c.certificate_der)},
            {"chain", json::array()}};
  for (const auto& der : c.chain_der) j["chain"].push_back(HexEncode(der));
  return JsonWithSecrets(j, "secrets", Members(c));
}

// Replaces `path` unless it already holds `content` (a restart rewrites nothing).
Status RestoreCopy(const std::string& path, std::string_view content, int mode) {
  auto current = ReadWholeFile(path);
  bool same = current && *current == content;
  if (current) OPENSSL_cleanse(current->data(), current->size());
  return same ? Status{} : ReplaceFile(path, content, mode);
}

}  // namespace

std::string_view StateName(State state) {
  switch (state) {
    case State::kFactoryNew:
      return "FACTORY_NEW";
    case State::kKeyGenerated:
      return "KEY_GENERATED";
    case State::kCredentialsStaged:
      return "CREDENTIALS_STAGED";
    case State::kCommitted:
      return "COMMITTED";
  }
  return "UNKNOWN";
}

Result<std::unique_ptr<DeviceStore>> DeviceStore::Open(const std::string& dir) {
  IMPRINT_RETURN_IF_ERROR(MakePrivateDirectory(dir, 0700));
  std::unique_ptr<DeviceStore> store(new DeviceStore(dir));
  auto text = ReadWholeFile(store->Path("state.json"), 64 * 1024);
  if (text) {
    auto loaded = store->LoadRecord(*text);
    OPENSSL_cleanse(text->data(), text->size());
    IMPRINT_RETURN_IF_ERROR(loaded);
  } else if (text.error().code() != Code::kNotFound) {
    return std::unexpected(text.error());
  }
  IMPRINT_RETURN_IF_ERROR(store->Recover());
  return store;
}

// Version 2 is the commit record. Version 1 stores (one file per state, credentials in the
// copies) are read too: their COMMITTED stays committed, any earlier state is dropped and
// derived from the key again.
Status DeviceStore::LoadRecord(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("state")) {
    return Fail(Code::kDataLoss, "state.json in " + dir_ + " is corrupt");
  }
  if (j.value("state", "") != "COMMITTED") {
    if (j.value("version", 0) < kRecordVersion) return RemoveIfPresent(Path("state.json"));
    return Fail(Code::kDataLoss, "state.json in " + dir_ + " is not a commit record");
  }
  state_ = State::kCommitted;
  key_type_ = j.value("key_type", "");
  if (j.value("version", 0) < kRecordVersion) return {};
  auto corrupt = [&] { return Fail(Code::kDataLoss, "state.json in " + dir_ + " is corrupt"); };
  if (!j["certificate"].is_string() || !j["chain"].is_array() || !j["secrets"].is_object()) {
    return corrupt();
  }
  Credentials c;
  c.certificate_der = FromHex(j["certificate"].get<std::string>());
  for (const auto& der : j["chain"]) {
    if (!der.is_string()) return corrupt();
    c.chain_der.push_back(FromHex(der.get<std::string>()));
  }
  for (auto& [name, value] : j["secrets"].items()) {
    if (!value.is_string()) return corrupt();
    auto& plain = value.get_ref<std::string&>();
    c.secrets.emplace_back(name, Secret(std::move(plain)));
  }
  committed_ = std::move(c);
  return {};
}

Status DeviceStore::Recover() {
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    if (entry.path().extension() == ".tmp") IMPRINT_RETURN_IF_ERROR(RemoveIfPresent(entry.path()));
  }
  IMPRINT_RETURN_IF_ERROR(RemoveIfPresent(Path("staged.json")));  // version 1 staging
  if (state_ != State::kCommitted) {
    // Copies without a commit record are not the device's state. Not synced: the record's
    // absence is what counts, and a copy that comes back after a power cut goes again here.
    for (const char* name : kCopies) IMPRINT_RETURN_IF_ERROR(RemoveIfPresent(Path(name)));
    return {};
  }
  return committed_ ? WriteCopies(*committed_) : Status{};
}

Status DeviceStore::WriteCopies(const Credentials& c) {
  IMPRINT_ASSIGN_OR_RETURN(std::string cert_pem, x509::CertificateDerToPem(c.certificate_der));
  std::string chain_pem;
  for (const auto& der : c.chain_der) {
    IMPRINT_ASSIGN_OR_RETURN(std::string pem, x509::CertificateDerToPem(der));
    chain_pem += pem;
  }
  IMPRINT_ASSIGN_OR_RETURN(Secret secrets_text, JsonWithSecrets(json::object(), "", Members(c)));
  Status written = RestoreCopy(Path("certificate.pem"), cert_pem, 0644);
  if (written) Step("certificate-copied");
  if (written) written = RestoreCopy(Path("chain.pem"), chain_pem, 0644);
  if (written) Step("chain-copied");
  if (written) written = RestoreCopy(Path("secrets.json"), secrets_text.Reveal(), 0600);
  return written;
}

Status DeviceStore::MarkKeyGenerated(const std::string& key_type) {
  if (state_ == State::kCommitted) return Fail(Code::kFailedPrecondition, "device is committed");
  state_ = State::kKeyGenerated;
  key_type_ = key_type;
  staged_.reset();
  return {};
}

Status DeviceStore::Stage(Credentials credentials) {
  if (state_ != State::kKeyGenerated && state_ != State::kCredentialsStaged) {
    return Fail(Code::kFailedPrecondition, "no uncommitted key to stage credentials for");
  }
  staged_ = std::move(credentials);
  state_ = State::kCredentialsStaged;
  return {};
}

Status DeviceStore::Commit() {
  if (state_ != State::kCredentialsStaged || !staged_) {
    return Fail(Code::kFailedPrecondition, "no staged credentials");
  }
  IMPRINT_ASSIGN_OR_RETURN(Secret record, RecordText(*staged_, key_type_));
  // The commit point: the record's rename, made durable by the directory fsync.
  IMPRINT_RETURN_IF_ERROR(WriteFilesDurably(dir_, {{Path("state.json"), record.Reveal(), 0600}},
                                            [this](std::string_view name) { Step(name); }));
  Step("committed");
  state_ = State::kCommitted;
  committed_ = std::move(staged_);
  staged_.reset();
  return WriteCopies(*committed_);
}

Result<Bytes> DeviceStore::CommittedCertificate() const {
  if (state_ != State::kCommitted) return Fail(Code::kFailedPrecondition, "not committed");
  if (committed_) return committed_->certificate_der;
  IMPRINT_ASSIGN_OR_RETURN(std::string pem, ReadWholeFile(Path("certificate.pem")));
  IMPRINT_ASSIGN_OR_RETURN(auto cert, x509::ParseCertificatePem(pem));
  return x509::CertificateToDer(cert.get());
}

std::optional<Secret> DeviceStore::FindSecret(std::string_view name) const {
  const std::optional<Credentials>& current = staged_ ? staged_ : committed_;
  if (!current) return std::nullopt;
  for (const auto& [secret_name, value] : current->secrets) {
    if (secret_name == name) return Secret::CopyOf(value.Reveal());
  }
  return std::nullopt;
}

}  // namespace imprint::agent
