// imprint-test-token: initialises a test token (SoftHSM) with PINs read from 0600 files, so
// scripts never put a PIN on a command line. Not for production HSMs: use the vendor's tool.
#include <CLI/CLI.hpp>
#include <iostream>

#include "common/secret.h"
#include "tests/support/token_init.h"

int main(int argc, char** argv) {
  CLI::App app{"imprint-test-token: initialise a test PKCS#11 token"};
  std::string module_path = "/usr/lib/softhsm/libsofthsm2.so";
  std::string label, so_pin_file, pin_file;
  app.add_option("--module", module_path, "PKCS#11 module");
  app.add_option("--label", label, "token label")->required();
  app.add_option("--so-pin-file", so_pin_file, "SO PIN file (0600)")->required();
  app.add_option("--pin-file", pin_file, "user PIN file (0600)")->required();
  CLI11_PARSE(app, argc, argv);

  auto so_pin = imprint::ReadPinFile(so_pin_file);
  auto pin = imprint::ReadPinFile(pin_file);
  if (!so_pin || !pin) {
    std::cerr << "imprint-test-token: " << (so_pin ? pin.error() : so_pin.error()).ToString()
              << "\n";
    return 1;
  }
  auto module = imprint::p11::Module::Load(module_path);
  if (!module) {
    std::cerr << "imprint-test-token: " << module.error().ToString() << "\n";
    return 1;
  }
  auto slot = imprint::testing::InitToken(**module, label, std::string(so_pin->Reveal()),
                                          std::string(pin->Reveal()));
  if (!slot) {
    std::cerr << "imprint-test-token: " << slot.error().ToString() << "\n";
    return 1;
  }
  std::cout << "token " << label << " initialised\n";
  return 0;
}
