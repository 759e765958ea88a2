#include "factory_station/offline/cli.h"

#include <iostream>

#include "common/utc_time.h"
#include "factory_station/offline/reconcile.h"

namespace imprint::station {

void AddTokenOptions(CLI::App* enroll, TokenConfig& token) {
  auto* module = enroll->add_option("--token-module", token.module,
                                    "PKCS#11 module of this station's own token (offline work)");
  auto* uri = enroll->add_option("--token-uri", token.token_uri, "the token's pkcs11: URI");
  auto* pin = enroll->add_option("--token-pin-file", token.pin_file,
                                 "the token's user PIN (file, mode 0600)");
  module->needs(uri)->needs(pin);
  uri->needs(module);
  pin->needs(module);
}

OfflineCommands::OfflineCommands(CLI::App& app) {
  auto* token = app.add_subcommand("token", "this station's own PKCS#11 token (offline work)");
  token->require_subcommand(1);
  token_set_ = token->add_subcommand("set", "configure the token (checked by logging in)");
  token_set_->add_option("--state-dir", state_dir_)->required();
  token_set_->add_option("--module", token_.module, "PKCS#11 module")->required();
  token_set_->add_option("--token-uri", token_.token_uri, "pkcs11: URI of the token")->required();
  token_set_->add_option("--pin-file", token_.pin_file, "user PIN (file, mode 0600)")->required();

  auto* allowance = app.add_subcommand("allowance", "offline allowances");
  allowance->require_subcommand(1);
  fetch_ = allowance->add_subcommand(
      "fetch", "make a subordinate key in the token and get it certified for the allowance");
  fetch_->add_option("--state-dir", fetch_options_.state_dir)->required();
  fetch_->add_option("--ca", fetch_options_.ca_address, "CA HOST:PORT")->required();
  fetch_->add_option("--order", fetch_options_.order, "production order id")->required();

  reconcile_ = app.add_subcommand(
      "reconcile", "upload the offline logs; the CA records their devices or names violations");
  reconcile_->add_option("--state-dir", fetch_options_.state_dir)->required();
  reconcile_->add_option("--ca", fetch_options_.ca_address, "CA HOST:PORT")->required();
}

std::optional<int> OfflineCommands::Run() {
  auto fail = [](const Error& error) {
    std::cerr << "imprint-station: " << error.ToString() << "\n";
    return 1;
  };
  if (*token_set_) {
    if (auto saved = SaveTokenConfig(state_dir_, token_); !saved) return fail(saved.error());
    std::cout << "station token configured\n";
    return 0;
  }
  if (*fetch_) {
    auto fetched = FetchAllowance(fetch_options_);
    if (!fetched) return fail(fetched.error());
    const offline::SignedAllowance& a = fetched->allowance;
    std::cout << "allowance " << a.id << (fetched->again ? " (fetched before)" : "") << ": order "
              << a.order << ", " << a.count << " certificates until "
              << FormatUtcTime(a.not_after_ms) << "; subordinate CA " << a.subordinate_serial
              << " for token key " << fetched->key_label << std::endl;
    return 0;
  }
  if (*reconcile_) {
    auto reconciled = ReconcileLogs({fetch_options_.state_dir, fetch_options_.ca_address});
    if (!reconciled) return fail(reconciled.error());
    bool clean = PrintReconciled(*reconciled, std::cout);
    std::cout << std::flush;
    return clean ? 0 : 4;
  }
  return std::nullopt;
}

}  // namespace imprint::station
