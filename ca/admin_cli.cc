#include "ca/admin_cli.h"

#include <openssl/sha.h>

#include <iostream>

#include "ca/admin_session.h"
#include "ca/cli_util.h"
#include "ca/server.h"

namespace imprint::ca {

Result<std::string> StationAddCommand(const CaConfig& config, const std::string& name) {
  IMPRINT_RETURN_IF_ERROR(CheckStationName(name));
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::Open(config, "station add"));
  IMPRINT_ASSIGN_OR_RETURN(Bytes random, s.hsm->Random(32));
  std::string token = HexEncode(random);
  Bytes token_hash(SHA256_DIGEST_LENGTH);
  SHA256(reinterpret_cast<const uint8_t*>(token.data()), token.size(), token_hash.data());
  int64_t lifetime_ms = int64_t{config.enrollment_token_hours} * 3600 * 1000;
  IMPRINT_RETURN_IF_ERROR(s.Write(
      config, [&](WriteContext& ctx) { return StationAdd(ctx, name, token_hash, lifetime_ms); }));
  return token;
}

Status StationRevokeCommand(const CaConfig& config, const std::string& name) {
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::Open(config, "station revoke"));
  return s.Write(config, [&](WriteContext& ctx) { return StationRevoke(ctx, name); });
}

Status OrderCreateCommand(const CaConfig& config, const OrderSpec& spec) {
  IMPRINT_RETURN_IF_ERROR(CheckOrderSpec(spec));
  if (spec.attestation == "tpm" && config.tpm_roots.empty()) {
    return Fail(Code::kFailedPrecondition,
                "--attestation tpm needs [attestation] tpm_roots in the CA's configuration "
                "(docs/attestation.md)");
  }
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::Open(config, "order create"));
  if (spec.matter) {
    IMPRINT_RETURN_IF_ERROR(CheckMatterOrder(*s.db, config.organization, *spec.matter));
  }
  return s.Write(config, [&](WriteContext& ctx) { return OrderCreate(ctx, spec); });
}

Status OrderCloseCommand(const CaConfig& config, const std::string& id) {
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::Open(config, "order close"));
  return s.Write(config, [&](WriteContext& ctx) { return CloseOrder(ctx, id, "admin"); });
}

Status DeviceResetCommand(const CaConfig& config, const std::string& device_id) {
  if (!IsValidIdentifier(device_id)) return Fail(Code::kInvalidArgument, "invalid device id");
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::Open(config, "device reset"));
  return s.Write(config, [&](WriteContext& ctx) { return DeviceReset(ctx, device_id); });
}

Result<OrderStatus> OrderShowCommand(const CaConfig& config, const std::string& id) {
  IMPRINT_ASSIGN_OR_RETURN(auto db, OpenCaDatabaseReadOnly(config));
  return OrderShow(*db, id);
}

namespace {

Status PrintOrder(const CaConfig& c, const std::string& id) {
  IMPRINT_ASSIGN_OR_RETURN(OrderStatus s, OrderShowCommand(c, id));
  std::cout << "order " << s.id << "\nproduct " << s.product << "\nstatus " << Name(s.state)
            << "\nquota " << s.quota << "\nissued " << s.issued << "\nverified " << s.verified
            << "\nrevoked " << s.revoked << "\nreserved " << s.reserved << "\nstations";
  for (const auto& st : s.stations) std::cout << " " << st;
  std::cout << "\nlabels bound " << s.labels_bound << (s.require_labels ? " (required)" : "")
            << std::endl;
  return {};
}

}  // namespace

AdminCommands::AdminCommands(CLI::App& app, std::string& config_path) : config_path_(config_path) {
  auto config = [&](CLI::App* cmd) {
    cmd->add_option("--config", config_path_, "CA configuration (TOML)")->required();
  };
  init_ = app.add_subcommand("init", "key ceremony: create keys and certificates");
  config(init_);
  init_->add_flag("--external-root", external_root_, "write an issuing-CA CSR for an offline root");

  import_ = app.add_subcommand("import-chain", "install an externally signed issuing CA");
  config(import_);
  import_->add_option("--cert", issuing_path_, "issuing CA certificate (PEM)")->required();
  import_->add_option("--root", root_path_, "root CA certificate (PEM)")->required();

  serve_ = app.add_subcommand("serve", "run the gRPC service");
  config(serve_);
  serve_->add_option("--listen", listen_, "HOST:PORT for enrollment (port 0 picks a free port)");
  serve_->add_option("--station-listen", station_listen_,
                     "HOST:PORT for stations (default: the next port after --listen)");

  auto* station = app.add_subcommand("station", "manage stations");
  station->require_subcommand(1);
  station_add_ = station->add_subcommand("add", "register a station; prints its token");
  config(station_add_);
  station_add_->add_option("NAME", station_name_)->required();
  station_revoke_ = station->add_subcommand("revoke", "revoke a station");
  config(station_revoke_);
  station_revoke_->add_option("NAME", station_name_)->required();

  auto* order = app.add_subcommand("order", "manage production orders");
  order->require_subcommand(1);
  order_create_ = order->add_subcommand("create", "create an order");
  config(order_create_);
  order_create_->add_option("--id", spec_.id)->required();
  order_create_->add_option("--product", spec_.product)->required();
  order_create_->add_option("--quota", spec_.quota)->required();
  order_create_->add_option("--station", spec_.stations)->required();
  order_create_->add_option("--attestation", spec_.attestation,
                            "none (default) or tpm: every device proves its key lives in its TPM "
                            "(docs/attestation.md)");
  order_create_->add_flag("--require-labels", spec_.require_labels,
                          "close only once every verified device's label is bound by scan-back "
                          "(docs/labels.md)");
  order_create_->add_flag("--matter", matter_.enabled, "a Matter order (docs/matter.md)");
  order_create_->add_option("--pai", matter_.pai, "Matter: the PAI label");
  order_create_->add_option("--pid", matter_.pid, "Matter: product id, 4 hex digits");
  order_create_->add_option("--cd", matter_.cd_path, "Matter: Certification Declaration (DER)");
  order_create_->add_option("--cd-signer", matter_.cd_signer_path,
                            "Matter: the CD signer's certificate (PEM)");
  order_create_->add_option("--discriminator", matter_.discriminator,
                            "Matter: random (default) or fixed:N (0-4095)");
  order_create_->add_option("--iterations", matter_.iterations,
                            "Matter: PBKDF2 iterations of the verifier (1000-100000)");
  order_show_ = order->add_subcommand("show", "quota, issued, verified");
  config(order_show_);
  order_show_->add_option("--id", spec_.id)->required();
  order_close_ = order->add_subcommand("close", "close an order");
  config(order_close_);
  order_close_->add_option("--id", spec_.id)->required();

  device_ = app.add_subcommand("device", "devices");
  device_->require_subcommand(1);
  device_reset_ =
      device_->add_subcommand("reset", "let the line try a failed or stuck device again (audited)");
  config(device_reset_);
  device_reset_->add_option("--id", device_id_, "device id")->required();
}

std::optional<int> AdminCommands::Run() {
  auto with = [&](auto&& f) { return WithConfig(config_path_, f); };
  if (*init_) return with([&](const CaConfig& c) { return Init(c, external_root_, std::cout); });
  if (*import_) {
    return with(
        [&](const CaConfig& c) { return ImportChain(c, issuing_path_, root_path_, std::cout); });
  }
  if (*serve_) {
    return with([&](const CaConfig& c) { return ServeUntilSignal(c, listen_, station_listen_); });
  }
  if (*station_add_) {
    return with([&](const CaConfig& c) -> Status {
      IMPRINT_ASSIGN_OR_RETURN(std::string token, StationAddCommand(c, station_name_));
      std::cout << token << std::endl;
      return {};
    });
  }
  if (*station_revoke_)
    return with([&](const CaConfig& c) { return StationRevokeCommand(c, station_name_); });
  if (*device_reset_) {
    return with([&](const CaConfig& c) -> Status {
      IMPRINT_RETURN_IF_ERROR(DeviceResetCommand(c, device_id_));
      std::cout << "device " << device_id_ << " reset" << std::endl;
      return {};
    });
  }
  if (*order_create_) {
    return with([&](const CaConfig& c) -> Status {
      if (matter_.enabled) {
        IMPRINT_ASSIGN_OR_RETURN(spec_.matter, matter_.Spec());
      }
      return OrderCreateCommand(c, spec_);
    });
  }
  if (*order_close_) {
    return with([&](const CaConfig& c) -> Status {
      IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::Open(c, "order close"));
      return s.Write(c, [&](WriteContext& ctx) { return CloseOrder(ctx, spec_.id, "admin"); });
    });
  }
  if (*order_show_) return with([&](const CaConfig& c) { return PrintOrder(c, spec_.id); });
  return std::nullopt;
}

}  // namespace imprint::ca
