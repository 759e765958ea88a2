#include "tests/support/softhsm_token.h"

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "tests/support/token_init.h"

namespace imprint::testing {

SoftHsmToken::SoftHsmToken(const std::string& label, bool keep_loaded)
    : label_(label), user_pin_("4321-user") {
  std::filesystem::create_directory(dir_ / "tokens");
  WriteFile(dir_ / "softhsm2.conf",
            "directories.tokendir = " + (dir_ / "tokens").string() +
                "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n");
  ::setenv("SOFTHSM2_CONF", (dir_ / "softhsm2.conf").c_str(), 1);
  WriteFile(pin_file(), user_pin_ + "\n", 0600);

  auto module = p11::Module::Load(kSoftHsmModule);
  if (!module) throw std::runtime_error(module.error().ToString());
  module_ = *module;
  auto slot = InitToken(*module_, label, "8765-so", user_pin_);
  if (!slot) throw std::runtime_error(slot.error().ToString());
  slot_ = *slot;
  if (!keep_loaded) module_.reset();
}

SoftHsmToken::~SoftHsmToken() = default;

std::unique_ptr<p11::SessionPool> SoftHsmToken::OpenPool(size_t size) const {
  auto pool = p11::SessionPool::Open(module_, slot_, Secret::CopyOf(user_pin_), size);
  if (!pool) throw std::runtime_error(pool.error().ToString());
  return std::move(*pool);
}

}  // namespace imprint::testing
