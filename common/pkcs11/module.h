#pragma once
// Module: one loaded PKCS#11 library (dlopen + C_GetFunctionList + C_Initialize with
// CKF_OS_LOCKING_OK, so the module may be called from many threads). Loading the same library
// again (by any path) shares the one Module: it is reference-counted, and C_Finalize and
// dlclose run when the last owner in the process lets go.

#include <memory>
#include <string>

#include "common/error.h"
#include "common/pkcs11/pkcs11.h"
#include "common/pkcs11/uri.h"

namespace imprint::p11 {

class Module {
 public:
  // Loads the module at `path`, or shares the Module already loaded for that library.
  // NOT_FOUND if it cannot be loaded, INTERNAL if it is not a PKCS#11 module or C_Initialize
  // fails.
  static Result<std::shared_ptr<Module>> Load(const std::string& path);

  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // The function table. Valid while this Module lives.
  CK_FUNCTION_LIST* api() const { return api_; }
  const std::string& path() const { return path_; }
  // C_GetInfo's manufacturerID, trimmed (empty if the module would not say).
  const std::string& manufacturer() const { return manufacturer_; }

  // The Error for a failed call into this module: names the call, the CK_RV and the module,
  // with a hint where one is known (ModuleRvError).
  Error CallError(std::string_view call, CK_RV rv) const;
  Status Check(std::string_view call, CK_RV rv) const {
    if (rv == CKR_OK) return {};
    return std::unexpected(CallError(call, rv));
  }

  // The slot holding the one token that matches the token attributes of `uri` (label,
  // manufacturer, model, serial, slot-id). NOT_FOUND if none does, FAILED_PRECONDITION if
  // several do. Slot ids can change when tokens are added: look them up, never store them.
  Result<CK_SLOT_ID> FindTokenSlot(const Uri& uri) const;

 private:
  static void Release(Module* module);
  static std::shared_ptr<Module> Share(Module* module);
  ~Module();

  Module(void* handle, CK_FUNCTION_LIST* api, std::string path, bool owns_initialization)
      : handle_(handle),
        api_(api),
        path_(std::move(path)),
        owns_initialization_(owns_initialization) {}

  void* handle_;
  CK_FUNCTION_LIST* api_;
  std::string path_;
  std::string manufacturer_;
  bool owns_initialization_;
};

// A PKCS#11 fixed-width, blank-padded text field (e.g. CK_TOKEN_INFO.label) as a string
// without the padding.
std::string TrimPadded(const unsigned char* field, size_t size);

}  // namespace imprint::p11
