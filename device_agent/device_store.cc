#include "device_agent/device_store.h"

#include <openssl/crypto.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/x509/encoding.h"

namespace imprint::agent {
namespace {

using nlohmann::json;

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

}  // namespace

std::string_view StateName(State state) {
  switch (state) {
    case State::kFactoryNew: return "FACTORY_NEW";
    case State::kKeyGenerated: return "KEY_GENERATED";
    case State::kCredentialsStaged: return "CREDENTIALS_STAGED";
    case State::kCommitted: return "COMMITTED";
  }
  return "UNKNOWN";
}

Result<std::unique_ptr<DeviceStore>> DeviceStore::Open(const std::string& dir) {
  IMPRINT_RETURN_IF_ERROR(MakePrivateDirectory(dir, 0700));
  std::unique_ptr<DeviceStore> store(new DeviceStore(dir));
  auto text = ReadWholeFile(store->Path("state.json"), 4096);
  if (text) {
    json state = json::parse(*text, nullptr, false);
    if (state.is_discarded() || !state.contains("state")) {
      return Fail(Code::kDataLoss, "state.json in " + dir + " is corrupt");
    }
    std::string name = state.value("state", "");
    store->key_type_ = state.value("key_type", "");
    if (name == "KEY_GENERATED") store->state_ = State::kKeyGenerated;
    else if (name == "CREDENTIALS_STAGED") store->state_ = State::kCredentialsStaged;
    else if (name == "COMMITTED") store->state_ = State::kCommitted;
    else return Fail(Code::kDataLoss, "state.json in " + dir + " has unknown state " + name);
  } else if (text.error().code() != Code::kNotFound) {
    return std::unexpected(text.error());
  }
  IMPRINT_RETURN_IF_ERROR(store->Recover());
  return store;
}

Status DeviceStore::Recover() {
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    if (entry.path().extension() == ".tmp") IMPRINT_RETURN_IF_ERROR(RemoveIfPresent(entry.path()));
  }
  if (state_ == State::kCommitted) {
    IMPRINT_RETURN_IF_ERROR(RemoveIfPresent(Path("staged.json")));
  } else {
    // A commit that did not reach state.json: its files are not the device's state.
    for (const char* name : {"certificate.pem", "chain.pem", "secrets.json"}) {
      IMPRINT_RETURN_IF_ERROR(RemoveIfPresent(Path(name)));
    }
    if (state_ != State::kCredentialsStaged) {
      IMPRINT_RETURN_IF_ERROR(RemoveIfPresent(Path("staged.json")));
    }
  }
  return SyncDirectory(dir_);
}

Status DeviceStore::WriteState(State state, const std::string& key_type) {
  json j = {{"version", 1}, {"state", std::string(StateName(state))}, {"key_type", key_type}};
  IMPRINT_RETURN_IF_ERROR(WriteFileAtomic(Path("state.json"), j.dump() + "\n", 0600));
  state_ = state;
  key_type_ = key_type;
  return {};
}

Status DeviceStore::MarkKeyGenerated(const std::string& key_type) {
  if (state_ == State::kCommitted) return Fail(Code::kFailedPrecondition, "device is committed");
  IMPRINT_RETURN_IF_ERROR(WriteState(State::kKeyGenerated, key_type));
  Step("state-key-generated");
  return RemoveIfPresent(Path("staged.json"));
}

Status DeviceStore::Stage(const Credentials& credentials) {
  if (state_ != State::kKeyGenerated && state_ != State::kCredentialsStaged) {
    return Fail(Code::kFailedPrecondition, "no uncommitted key to stage credentials for");
  }
  json j = {{"certificate", HexEncode(credentials.certificate_der)}};
  for (const auto& der : credentials.chain_der) j["chain"].push_back(HexEncode(der));
  j["secrets"] = json::object();
  for (const auto& [name, value] : credentials.secrets) {
    j["secrets"][name] = std::string(value.Reveal());
  }
  std::string text = j.dump();
  auto written = WriteFileAtomic(Path("staged.json"), text, 0600);
  OPENSSL_cleanse(text.data(), text.size());
  IMPRINT_RETURN_IF_ERROR(written);
  Step("staged-written");
  return WriteState(State::kCredentialsStaged, key_type_);
}

Result<Credentials> DeviceStore::LoadStaged() const {
  if (state_ != State::kCredentialsStaged) {
    return Fail(Code::kFailedPrecondition, "no staged credentials");
  }
  IMPRINT_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(Path("staged.json")));
  json j = json::parse(text, nullptr, false);
  OPENSSL_cleanse(text.data(), text.size());
  if (j.is_discarded()) return Fail(Code::kDataLoss, "staged.json is corrupt");
  Credentials c;
  c.certificate_der = FromHex(j.value("certificate", ""));
  for (const auto& der : j.value("chain", json::array())) {
    if (!der.is_string()) return Fail(Code::kDataLoss, "staged.json is corrupt");
    c.chain_der.push_back(FromHex(der.get<std::string>()));
  }
  json secrets = j.value("secrets", json::object());
  for (const auto& [name, value] : secrets.items()) {
    if (!value.is_string()) return Fail(Code::kDataLoss, "staged.json is corrupt");
    c.secrets.emplace_back(name, Secret(value.get<std::string>()));
  }
  return c;
}

Status DeviceStore::Commit() {
  IMPRINT_ASSIGN_OR_RETURN(Credentials c, LoadStaged());
  IMPRINT_ASSIGN_OR_RETURN(std::string cert_pem, x509::CertificateDerToPem(c.certificate_der));
  std::string chain_pem;
  for (const auto& der : c.chain_der) {
    IMPRINT_ASSIGN_OR_RETURN(std::string pem, x509::CertificateDerToPem(der));
    chain_pem += pem;
  }
  json secrets = json::object();
  for (const auto& [name, value] : c.secrets) secrets[name] = std::string(value.Reveal());
  std::string secrets_text = secrets.dump() + "\n";

  // One directory fsync for the three files; until state.json says COMMITTED, Recover
  // removes whichever of them a crash left behind.
  auto written = WriteFilesDurably(dir_, {{Path("certificate.pem"), &cert_pem, 0644},
                                          {Path("chain.pem"), &chain_pem, 0644},
                                          {Path("secrets.json"), &secrets_text, 0600}},
                                   [this](std::string_view name) { Step(name); });
  OPENSSL_cleanse(secrets_text.data(), secrets_text.size());
  IMPRINT_RETURN_IF_ERROR(written);
  Step("credentials-written");
  IMPRINT_RETURN_IF_ERROR(WriteState(State::kCommitted, key_type_));  // the commit point
  Step("state-committed");
  // Not synced: a staged.json that outlives a crash is removed by Recover once COMMITTED.
  return RemoveIfPresent(Path("staged.json"));
}

Result<Bytes> DeviceStore::CommittedCertificate() const {
  if (state_ != State::kCommitted) return Fail(Code::kFailedPrecondition, "not committed");
  IMPRINT_ASSIGN_OR_RETURN(std::string pem, ReadWholeFile(Path("certificate.pem")));
  IMPRINT_ASSIGN_OR_RETURN(auto cert, x509::ParseCertificatePem(pem));
  return x509::CertificateToDer(cert.get());
}

}  // namespace imprint::agent
