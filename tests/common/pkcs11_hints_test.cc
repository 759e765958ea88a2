// What an operator is told when a PKCS#11 call fails: the module is recognised by its file name
// or manufacturer, and the known failures of the tested modules get their fix.

#include <catch2/catch.hpp>

#include "common/pkcs11/hints.h"
#include "common/pkcs11/rv.h"

namespace imprint::p11 {
namespace {

TEST_CASE("modules are recognised by file name or manufacturer", "[pkcs11]") {
  CHECK(GuessModuleKind("/usr/lib/softhsm/libsofthsm2.so") == ModuleKind::kSoftHsm);
  CHECK(GuessModuleKind("/usr/lib/x86_64-linux-gnu/pkcs11/PKCS11_API.so") ==
        ModuleKind::kOpenCryptoki);
  CHECK(GuessModuleKind("/usr/lib/x86_64-linux-gnu/opencryptoki/libopencryptoki.so.0") ==
        ModuleKind::kOpenCryptoki);
  CHECK(GuessModuleKind("/usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so") == ModuleKind::kTpm2);
  CHECK(GuessModuleKind("/opt/hsm/libvendor.so", "tpm2-software.github.io") == ModuleKind::kTpm2);
  CHECK(GuessModuleKind("/opt/hsm/libvendor.so", "Acme HSM") == ModuleKind::kOther);
}

TEST_CASE("known module failures carry their fix", "[pkcs11]") {
  // opencryptoki without pkcsslotd fails C_Initialize with CKR_HOST_MEMORY.
  Error ock = ModuleRvError("/usr/lib/x86_64-linux-gnu/pkcs11/PKCS11_API.so", "", "C_Initialize",
                            CKR_HOST_MEMORY);
  CHECK(ock.code() == Code::kResourceExhausted);
  CHECK_THAT(ock.message(), Catch::StartsWith("C_Initialize: CKR_HOST_MEMORY (module "
                                              "/usr/lib/x86_64-linux-gnu/pkcs11/PKCS11_API.so)"));
  CHECK_THAT(ock.message(), Catch::Contains("start pkcsslotd"));

  // tpm2-pkcs11 turns a full resource manager into CKR_GENERAL_ERROR.
  Error tpm = ModuleRvError("/usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so", "",
                            "C_GenerateKeyPair", CKR_GENERAL_ERROR);
  CHECK_THAT(tpm.message(), Catch::Contains("out of memory for object contexts"));
  CHECK_THAT(tpm.message(), Catch::Contains("--max-transients"));
  CHECK_THAT(RvHint(ModuleKind::kTpm2, "C_Initialize", CKR_GENERAL_ERROR),
             Catch::Contains("TPM2_PKCS11_TCTI"));

  // The same result from another module gets no TPM advice.
  CHECK(RvHint(ModuleKind::kSoftHsm, "C_GenerateKeyPair", CKR_GENERAL_ERROR).empty());
  CHECK_THAT(RvHint(ModuleKind::kOther, "C_Login", CKR_PIN_LOCKED),
             Catch::Contains("security officer"));
  CHECK_THAT(RvHint(ModuleKind::kOther, "C_GenerateKeyPair", CKR_MECHANISM_INVALID),
             Catch::Contains("does not offer this mechanism"));
  CHECK_THAT(RvHint(ModuleKind::kOpenCryptoki, "C_Login", CKR_PIN_EXPIRED),
             Catch::Contains("pkcsconf"));
}

TEST_CASE("a failure with nothing to advise names only the call, result and module", "[pkcs11]") {
  Error e = ModuleRvError("/opt/hsm/libvendor.so", "Acme", "C_Sign", CKR_DATA_LEN_RANGE);
  CHECK(e.message() == "C_Sign: CKR_DATA_LEN_RANGE (module /opt/hsm/libvendor.so)");
  CHECK(MechanismName(CKM_EC_KEY_PAIR_GEN) == "CKM_EC_KEY_PAIR_GEN");
  CHECK(MechanismName(0x80001234UL) == "CKM_0x80001234");
}

}  // namespace
}  // namespace imprint::p11
