#include "factory_station/offline/token.h"

#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/pkcs11/uri.h"
#include "common/secret.h"

namespace imprint::station {
namespace {

std::string ConfigPath(const std::string& dir) { return dir + "/offline-token.json"; }

}  // namespace

Result<std::unique_ptr<StationToken>> StationToken::Open(const TokenConfig& config) {
  std::unique_ptr<StationToken> token(new StationToken());
  auto uri = p11::Uri::Parse(config.token_uri);
  if (!uri) return std::unexpected(uri.error().WithContext("station token URI"));
  IMPRINT_ASSIGN_OR_RETURN(token->module_, p11::Module::Load(config.module));
  IMPRINT_ASSIGN_OR_RETURN(CK_SLOT_ID slot, token->module_->FindTokenSlot(*uri));
  auto pin = ReadPinFile(config.pin_file);
  if (!pin) return std::unexpected(pin.error().WithContext("station token PIN file"));
  IMPRINT_ASSIGN_OR_RETURN(token->pool_,
                           p11::SessionPool::Open(token->module_, slot, std::move(*pin), 4));
  return token;
}

Status SaveTokenConfig(const std::string& state_dir, const TokenConfig& config) {
  IMPRINT_RETURN_IF_ERROR(StationToken::Open(config));
  nlohmann::json j = {
      {"module", config.module}, {"token_uri", config.token_uri}, {"pin_file", config.pin_file}};
  return WriteFileAtomic(ConfigPath(state_dir), j.dump(2) + "\n", 0600);
}

Result<TokenConfig> LoadTokenConfig(const std::string& state_dir) {
  auto text = ReadWholeFile(ConfigPath(state_dir));
  if (!text) {
    return Fail(Code::kFailedPrecondition,
                "this station has no token of its own for offline work; configure one with "
                "imprint-station token set --state-dir DIR --module M --token-uri U --pin-file F");
  }
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  TokenConfig config;
  bool ok = j.is_object();
  for (auto [key, out] :
       {std::pair{"module", &config.module}, std::pair{"token_uri", &config.token_uri},
        std::pair{"pin_file", &config.pin_file}}) {
    auto it = ok ? j.find(key) : j.end();
    ok = ok && it != j.end() && it->is_string();
    if (ok) *out = it->get<std::string>();
  }
  if (!ok) return Fail(Code::kDataLoss, ConfigPath(state_dir) + " is not a token configuration");
  return config;
}

}  // namespace imprint::station
