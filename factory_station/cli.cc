#include "factory_station/cli.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "factory_station/labels/cli.h"
#include "factory_station/line_runner.h"
#include "factory_station/matter_attest.h"
#include "factory_station/matter_onboarding.h"
#include "factory_station/offline/cli.h"
#include "factory_station/station_identity.h"

namespace imprint::station {

int RunCli(int argc, char** argv) {
  CLI::App app{"imprint-station: provisions devices on a production line"};
  app.require_subcommand(1);

  EnrollOptions e;
  auto* enroll = app.add_subcommand("enroll", "enroll this station at the CA (once)");
  enroll->add_option("--ca", e.ca_address, "CA HOST:PORT")->required();
  enroll->add_option("--ca-root", e.ca_root_path, "the CA's root certificate (PEM)")->required();
  enroll->add_option("--name", e.name, "station name given by the CA admin")->required();
  enroll->add_option("--token-file", e.token_file, "one-time token (file, mode 0600)")->required();
  enroll->add_option("--state-dir", e.state_dir, "station state directory")->required();
  AddTokenOptions(enroll, e.token);

  ProvisionOptions p;
  auto* provision = app.add_subcommand("provision", "provision devices for an order");
  provision->add_option("--state-dir", p.state_dir)->required();
  provision
      ->add_option("--ca", p.ca_addresses,
                   "CA HOST:PORT; repeat for several nodes of one store (fail-over)")
      ->required();
  provision->add_option("--order", p.order, "production order id")->required();
  provision->add_option("--device", p.devices,
                        "agent HOST:PORT, or serial:PATH[@BAUD] (repeatable)");
  provision->add_option("--devices-file", p.devices_file,
                        "file with one agent HOST:PORT or serial:PATH[@BAUD] a line");
  provision->add_option("--serial-timeout-ms", p.serial_timeout_ms,
                        "serial devices: how long one attempt waits beyond the wire time");
  provision->add_option("--parallel", p.parallel, "devices at once");
  provision->add_flag("--offline", p.offline,
                      "issue within this station's allowance, without the CA (docs/offline.md)");
  provision->add_option("--printer", p.printer,
                        "print each provisioned device's label: tcp://HOST[:PORT] or file:DIR "
                        "(docs/labels.md)");
  provision->add_option("--label-template", p.label_template, "the labels' ZPL template");
  provision->add_option("--printer-wait", p.printer_wait_s,
                        "seconds the run waits at its end for labels a printer holds back");
  provision->add_option("--issue-rpc", p.issue_rpc,
                        "stream (one stream for all fixtures, when the CA offers it) or unary");

  std::string state_dir, order;
  auto* status = app.add_subcommand("status", "journal counts");
  status->add_option("--state-dir", state_dir)->required();
  status->add_option("--order", order);

  std::string attest_device, nonce_hex, challenge_hex;
  auto* attest = app.add_subcommand(
      "attest", "ask a Matter device for an attestation (nonce and challenge in hex); prints JSON");
  attest->add_option("--device", attest_device, "agent HOST:PORT")->required();
  attest->add_option("--nonce", nonce_hex, "32 bytes in hex")->required();
  attest->add_option("--challenge", challenge_hex, "16 bytes in hex")->required();

  std::string onboarding_dir, onboarding_order, onboarding_out;
  auto* matter = app.add_subcommand("matter", "Matter devices (docs/matter.md)");
  matter->require_subcommand(1);
  auto* onboarding = matter->add_subcommand(
      "onboarding", "the onboarding codes of an order's Matter devices as CSV (mode 0600)");
  onboarding->add_option("--state-dir", onboarding_dir)->required();
  onboarding->add_option("--order", onboarding_order)->required();
  onboarding->add_option("--out", onboarding_out, "a new CSV file")->required();

  OfflineCommands offline(app);
  LabelCommands labels(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& err) {
    return app.exit(err) == 0 ? 0 : 2;
  }
  auto fail = [](const Error& error) {
    std::cerr << "imprint-station: " << error.ToString() << "\n";
    return 1;
  };
  if (*enroll) {
    auto result = Enroll(e);
    if (!result) return fail(result.error());
    std::cout << "station " << e.name << " enrolled\n";
    return 0;
  }
  if (auto code = offline.Run()) return *code;
  if (auto code = labels.Run()) return *code;
  if (*onboarding) {
    auto rows = WriteMatterOnboarding(onboarding_dir, onboarding_order, onboarding_out);
    if (!rows) return fail(rows.error());
    std::cout << *rows << " devices written to " << onboarding_out << "\n";
    return 0;
  }
  if (*attest) {
    Bytes nonce, challenge;
    if (!HexDecode(nonce_hex, &nonce) || !HexDecode(challenge_hex, &challenge)) {
      return fail(Error(Code::kInvalidArgument, "--nonce and --challenge must be hex"));
    }
    auto attested = AttestDevice(attest_device, nonce, challenge, std::cout);
    return attested ? 0 : fail(attested.error());
  }
  if (*provision) {
    auto summary = RunLine(p, std::cout);
    if (!summary) return fail(summary.error());
    if (!summary->stopped.empty()) return 3;  // the allowance is spent: the line must stop
    return summary->failed == 0 ? 0 : 1;
  }
  auto result = PrintStatus(state_dir, order, std::cout);
  return result ? 0 : fail(result.error());
}

}  // namespace imprint::station
