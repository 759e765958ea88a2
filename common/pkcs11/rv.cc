#include "common/pkcs11/rv.h"

#include <cstdio>
#include <string>

#include "common/pkcs11/hints.h"

namespace imprint::p11 {
namespace {

struct RvEntry {
  CK_RV rv;
  const char* name;
  Code code;
};

constexpr RvEntry kTable[] = {
    {CKR_OK, "CKR_OK", Code::kOk},
    {CKR_HOST_MEMORY, "CKR_HOST_MEMORY", Code::kResourceExhausted},
    {CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID", Code::kNotFound},
    {CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR", Code::kInternal},
    {CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED", Code::kUnavailable},
    {CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD", Code::kInvalidArgument},
    {CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE", Code::kPermissionDenied},
    {CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID", Code::kInvalidArgument},
    {CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID", Code::kInvalidArgument},
    {CKR_DATA_INVALID, "CKR_DATA_INVALID", Code::kInvalidArgument},
    {CKR_DATA_LEN_RANGE, "CKR_DATA_LEN_RANGE", Code::kInvalidArgument},
    {CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR", Code::kUnavailable},
    {CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY", Code::kResourceExhausted},
    {CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED", Code::kUnavailable},
    {CKR_FUNCTION_CANCELED, "CKR_FUNCTION_CANCELED", Code::kUnavailable},
    {CKR_FUNCTION_NOT_SUPPORTED, "CKR_FUNCTION_NOT_SUPPORTED", Code::kUnimplemented},
    {CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID", Code::kNotFound},
    {CKR_KEY_SIZE_RANGE, "CKR_KEY_SIZE_RANGE", Code::kInvalidArgument},
    {CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT", Code::kInvalidArgument},
    {CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID", Code::kUnimplemented},
    {CKR_MECHANISM_PARAM_INVALID, "CKR_MECHANISM_PARAM_INVALID", Code::kInvalidArgument},
    {CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID", Code::kNotFound},
    {CKR_OPERATION_ACTIVE, "CKR_OPERATION_ACTIVE", Code::kInternal},
    {CKR_OPERATION_NOT_INITIALIZED, "CKR_OPERATION_NOT_INITIALIZED", Code::kInternal},
    {CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT", Code::kPermissionDenied},
    {CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE", Code::kPermissionDenied},
    {CKR_PIN_LOCKED, "CKR_PIN_LOCKED", Code::kPermissionDenied},
    {CKR_PIN_EXPIRED, "CKR_PIN_EXPIRED", Code::kPermissionDenied},
    {CKR_SESSION_CLOSED, "CKR_SESSION_CLOSED", Code::kUnavailable},
    {CKR_SESSION_COUNT, "CKR_SESSION_COUNT", Code::kResourceExhausted},
    {CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID", Code::kUnavailable},
    {CKR_SESSION_READ_ONLY, "CKR_SESSION_READ_ONLY", Code::kInternal},
    {CKR_SIGNATURE_INVALID, "CKR_SIGNATURE_INVALID", Code::kInvalidArgument},
    {CKR_TEMPLATE_INCOMPLETE, "CKR_TEMPLATE_INCOMPLETE", Code::kInvalidArgument},
    {CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT", Code::kInvalidArgument},
    {CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT", Code::kUnavailable},
    {CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED", Code::kUnavailable},
    {CKR_TOKEN_WRITE_PROTECTED, "CKR_TOKEN_WRITE_PROTECTED", Code::kFailedPrecondition},
    {CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN", Code::kOk},
    {CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN", Code::kUnavailable},
    {CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED", Code::kFailedPrecondition},
    {CKR_USER_TYPE_INVALID, "CKR_USER_TYPE_INVALID", Code::kInvalidArgument},
    {CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL", Code::kInternal},
    {CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED", Code::kInternal},
    {CKR_CRYPTOKI_ALREADY_INITIALIZED, "CKR_CRYPTOKI_ALREADY_INITIALIZED", Code::kInternal},
};

const RvEntry* Find(CK_RV rv) {
  for (const auto& e : kTable) {
    if (e.rv == rv) return &e;
  }
  return nullptr;
}

}  // namespace

std::string RvName(CK_RV rv) {
  if (const RvEntry* e = Find(rv)) return e->name;
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "CKR_0x%lx", static_cast<unsigned long>(rv));
  return buffer;
}

Error RvError(std::string_view call, CK_RV rv) {
  const RvEntry* e = Find(rv);
  Code code = e != nullptr && e->code != Code::kOk ? e->code : Code::kInternal;
  std::string message(call);
  message += ": ";
  message += RvName(rv);
  return Error(code, std::move(message));
}

Error ModuleRvError(std::string_view module_path, std::string_view manufacturer,
                    std::string_view call, CK_RV rv) {
  Error base = RvError(call, rv);
  std::string message = base.message() + " (module " + std::string(module_path) + ")";
  std::string hint = RvHint(GuessModuleKind(module_path, manufacturer), call, rv);
  if (!hint.empty()) message += ". Hint: " + hint;
  return Error(base.code(), std::move(message));
}

bool IsSessionFault(CK_RV rv) {
  switch (rv) {
    case CKR_SESSION_HANDLE_INVALID:
    case CKR_SESSION_CLOSED:
    case CKR_DEVICE_ERROR:
    case CKR_DEVICE_REMOVED:
    case CKR_USER_NOT_LOGGED_IN:
    case CKR_TOKEN_NOT_PRESENT:
      return true;
    default:
      return false;
  }
}

}  // namespace imprint::p11
