#include "tests/support/softhsm_token.h"

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "common/pkcs11/uri.h"

namespace imprint::testing {
namespace {

void Check(CK_RV rv, const char* call) {
  if (rv != CKR_OK) throw std::runtime_error(std::string(call) + " failed: " + std::to_string(rv));
}

CK_SLOT_ID FindUninitialisedSlot(CK_FUNCTION_LIST* api) {
  CK_ULONG count = 0;
  Check(api->C_GetSlotList(CK_TRUE, nullptr, &count), "C_GetSlotList");
  std::vector<CK_SLOT_ID> slots(count);
  Check(api->C_GetSlotList(CK_TRUE, slots.data(), &count), "C_GetSlotList");
  for (CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info{};
    if (api->C_GetTokenInfo(slot, &info) == CKR_OK && !(info.flags & CKF_TOKEN_INITIALIZED)) {
      return slot;
    }
  }
  throw std::runtime_error("no free SoftHSM slot");
}

}  // namespace

SoftHsmToken::SoftHsmToken(const std::string& label) : label_(label), user_pin_("4321-user") {
  std::filesystem::create_directory(dir_ / "tokens");
  WriteFile(dir_ / "softhsm2.conf",
            "directories.tokendir = " + (dir_ / "tokens").string() +
                "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n");
  ::setenv("SOFTHSM2_CONF", (dir_ / "softhsm2.conf").c_str(), 1);
  WriteFile(pin_file(), user_pin_ + "\n", 0600);

  auto module = p11::Module::Load(kSoftHsmModule);
  if (!module) throw std::runtime_error(module.error().ToString());
  module_ = *module;
  CK_FUNCTION_LIST* api = module_->api();

  std::string so_pin = "8765-so";
  unsigned char padded[32];
  std::memset(padded, ' ', sizeof(padded));
  std::memcpy(padded, label.data(), std::min(label.size(), sizeof(padded)));
  CK_SLOT_ID free_slot = FindUninitialisedSlot(api);
  Check(api->C_InitToken(free_slot, reinterpret_cast<CK_UTF8CHAR*>(so_pin.data()), so_pin.size(),
                         padded),
        "C_InitToken");
  // SoftHSM renumbers the slot once its token is initialised: look it up again by label.
  p11::Uri uri;
  uri.token = label;
  auto slot = module_->FindTokenSlot(uri);
  if (!slot) throw std::runtime_error(slot.error().ToString());
  slot_ = *slot;

  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  Check(api->C_OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &session),
        "C_OpenSession");
  Check(api->C_Login(session, CKU_SO, reinterpret_cast<CK_UTF8CHAR*>(so_pin.data()),
                     so_pin.size()),
        "C_Login(SO)");
  Check(api->C_InitPIN(session, reinterpret_cast<CK_UTF8CHAR*>(user_pin_.data()),
                       user_pin_.size()),
        "C_InitPIN");
  api->C_Logout(session);
  api->C_CloseSession(session);
}

SoftHsmToken::~SoftHsmToken() = default;

std::unique_ptr<p11::SessionPool> SoftHsmToken::OpenPool(size_t size) const {
  auto pool = p11::SessionPool::Open(module_, slot_, Secret(user_pin_), size);
  if (!pool) throw std::runtime_error(pool.error().ToString());
  return std::move(*pool);
}

}  // namespace imprint::testing
