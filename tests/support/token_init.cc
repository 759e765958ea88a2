#include "tests/support/token_init.h"

#include <cstring>
#include <vector>

#include "common/pkcs11/rv.h"

namespace imprint::testing {
namespace {

CK_UTF8CHAR* Chars(const std::string& s) {
  return reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(s.data()));
}

Result<CK_SLOT_ID> FreeSlot(CK_FUNCTION_LIST* api) {
  CK_ULONG count = 0;
  IMPRINT_RETURN_IF_ERROR(
      p11::CheckRv("C_GetSlotList", api->C_GetSlotList(CK_TRUE, nullptr, &count)));
  std::vector<CK_SLOT_ID> slots(count);
  IMPRINT_RETURN_IF_ERROR(
      p11::CheckRv("C_GetSlotList", api->C_GetSlotList(CK_TRUE, slots.data(), &count)));
  for (CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info{};
    if (api->C_GetTokenInfo(slot, &info) == CKR_OK && !(info.flags & CKF_TOKEN_INITIALIZED)) {
      return slot;
    }
  }
  return Fail(Code::kNotFound, "no uninitialised token slot");
}

}  // namespace

Result<CK_SLOT_ID> InitToken(const p11::Module& module, const std::string& label,
                             const std::string& so_pin, const std::string& user_pin) {
  CK_FUNCTION_LIST* api = module.api();
  IMPRINT_ASSIGN_OR_RETURN(CK_SLOT_ID free_slot, FreeSlot(api));
  unsigned char padded[32];
  std::memset(padded, ' ', sizeof(padded));
  std::memcpy(padded, label.data(), std::min(label.size(), sizeof(padded)));
  IMPRINT_RETURN_IF_ERROR(p11::CheckRv(
      "C_InitToken", api->C_InitToken(free_slot, Chars(so_pin), so_pin.size(), padded)));
  p11::Uri uri;
  uri.token = label;
  IMPRINT_ASSIGN_OR_RETURN(CK_SLOT_ID slot, module.FindTokenSlot(uri));
  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  IMPRINT_RETURN_IF_ERROR(p11::CheckRv(
      "C_OpenSession",
      api->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &session)));
  CK_RV rv = api->C_Login(session, CKU_SO, Chars(so_pin), so_pin.size());
  if (rv == CKR_OK) rv = api->C_InitPIN(session, Chars(user_pin), user_pin.size());
  api->C_Logout(session);
  api->C_CloseSession(session);
  IMPRINT_RETURN_IF_ERROR(p11::CheckRv("C_InitPIN", rv));
  return slot;
}

}  // namespace imprint::testing
