#include "common/pkcs11/module.h"

#include <dlfcn.h>

#include <map>
#include <mutex>
#include <vector>

#include "common/pkcs11/rv.h"

namespace imprint::p11 {
namespace {

bool Matches(const std::optional<std::string>& wanted, const unsigned char* field, size_t size) {
  return !wanted.has_value() || *wanted == TrimPadded(field, size);
}

// Every Module this process has loaded, by dlopen handle (one per library, whatever path
// named it), with its number of owners. C_Initialize and C_Finalize are process-wide in
// PKCS#11, so one library gets one Module, initialised by the first Load and finalised when
// its last owner lets go, never while another user still calls it.
struct Loaded {
  Module* module;
  long owners;
};
std::mutex g_loaded_mu;
std::map<void*, Loaded>& LoadedModules() {
  static auto* loaded = new std::map<void*, Loaded>();  // outlives static destructors
  return *loaded;
}

}  // namespace

std::string TrimPadded(const unsigned char* field, size_t size) {
  std::string text(reinterpret_cast<const char*>(field), size);
  size_t end = text.find_last_not_of(' ');
  text.erase(end == std::string::npos ? 0 : end + 1);
  if (size_t nul = text.find('\0'); nul != std::string::npos) text.erase(nul);
  return text;
}

void Module::Release(Module* module) {
  std::lock_guard lock(g_loaded_mu);
  auto it = LoadedModules().find(module->handle_);
  if (it == LoadedModules().end() || --it->second.owners > 0) return;
  LoadedModules().erase(it);
  delete module;  // C_Finalize (if ours) and dlclose, under the lock: no Load interleaves
}

std::shared_ptr<Module> Module::Share(Module* module) {
  return std::shared_ptr<Module>(module, &Module::Release);
}

Result<std::shared_ptr<Module>> Module::Load(const std::string& path) {
  std::lock_guard lock(g_loaded_mu);
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    return Fail(Code::kNotFound, "cannot load PKCS#11 module " + path);
  }
  if (auto it = LoadedModules().find(handle); it != LoadedModules().end()) {
    ::dlclose(handle);  // the Module holds its own reference
    ++it->second.owners;
    return Share(it->second.module);
  }
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(handle, "C_GetFunctionList"));
  CK_FUNCTION_LIST* api = nullptr;
  if (get_list == nullptr || get_list(&api) != CKR_OK || api == nullptr) {
    ::dlclose(handle);
    return Fail(Code::kInternal, path + " is not a PKCS#11 module (C_GetFunctionList)");
  }
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  CK_RV rv = api->C_Initialize(&args);
  // Already initialised by code of this process that is not a Module (another library using
  // the same PKCS#11 module): use it, and leave C_Finalize to that code.
  bool owns = rv == CKR_OK;
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    ::dlclose(handle);
    return std::unexpected(ModuleRvError(path, {}, "C_Initialize", rv));
  }
  auto* module = new Module(handle, api, path, owns);
  CK_INFO info{};
  if (api->C_GetInfo(&info) == CKR_OK) {
    module->manufacturer_ = TrimPadded(info.manufacturerID, sizeof(info.manufacturerID));
  }
  LoadedModules()[handle] = {module, 1};
  return Share(module);
}

Error Module::CallError(std::string_view call, CK_RV rv) const {
  return ModuleRvError(path_, manufacturer_, call, rv);
}

Module::~Module() {
  if (owns_initialization_) api_->C_Finalize(nullptr);
  ::dlclose(handle_);
}

Result<CK_SLOT_ID> Module::FindTokenSlot(const Uri& uri) const {
  CK_ULONG count = 0;
  IMPRINT_RETURN_IF_ERROR(Check("C_GetSlotList", api_->C_GetSlotList(CK_TRUE, nullptr, &count)));
  std::vector<CK_SLOT_ID> slots(count);
  IMPRINT_RETURN_IF_ERROR(
      Check("C_GetSlotList", api_->C_GetSlotList(CK_TRUE, slots.data(), &count)));
  slots.resize(count);
  std::optional<CK_SLOT_ID> found;
  for (CK_SLOT_ID slot : slots) {
    if (uri.slot_id.has_value() && *uri.slot_id != slot) continue;
    CK_TOKEN_INFO info{};
    if (api_->C_GetTokenInfo(slot, &info) != CKR_OK) continue;
    if (!(info.flags & CKF_TOKEN_INITIALIZED)) continue;
    if (!Matches(uri.token, info.label, sizeof(info.label)) ||
        !Matches(uri.manufacturer, info.manufacturerID, sizeof(info.manufacturerID)) ||
        !Matches(uri.model, info.model, sizeof(info.model)) ||
        !Matches(uri.serial, info.serialNumber, sizeof(info.serialNumber))) {
      continue;
    }
    if (found.has_value()) {
      return Fail(Code::kFailedPrecondition, "several tokens match the pkcs11 URI");
    }
    found = slot;
  }
  if (!found.has_value()) {
    return Fail(Code::kNotFound, "no initialised token matches the pkcs11 URI" +
                                     (uri.token ? " (token=" + *uri.token + ")" : std::string()) +
                                     " in module " + path_);
  }
  return *found;
}

}  // namespace imprint::p11
