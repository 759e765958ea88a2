#include "ca/allowance/cli.h"

#include <iostream>

#include "ca/admin_session.h"
#include "ca/allowance/issuer.h"
#include "ca/allowance/renewal.h"
#include "ca/allowance/secret_transport.h"
#include "ca/cli_util.h"
#include "ca/store/store.h"
#include "common/bytes.h"
#include "common/utc_time.h"

namespace imprint::ca {
namespace {

void PrintAllowance(const Allowance& a, int64_t now_ms) {
  std::cout << "allowance " << a.id << " order " << a.order_id << " station " << a.station
            << " status " << Name(a.state) << " granted " << a.count << " used " << a.used
            << " outstanding " << a.outstanding() << " not-after " << FormatUtcTime(a.not_after_ms);
  if (a.state == AllowanceState::kGranted && a.not_after_ms <= now_ms) std::cout << " (expired)";
  if (a.revoked_ms) std::cout << " revoked " << FormatUtcTime(*a.revoked_ms);
  if (a.violations > 0) std::cout << " violations " << a.violations;
  std::cout << "\n";
}

}  // namespace

Result<Allowance> AllowanceGrantCommand(const CaConfig& config, const AllowanceGrant& grant) {
  IMPRINT_RETURN_IF_ERROR(CheckAllowanceGrant(grant));
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::Open(config, "allowance grant"));
  IMPRINT_ASSIGN_OR_RETURN(CaCertificates certs, CaCertificates::Load(config));
  // Refused at once for a CA that could not certify the station's key at fetch.
  IMPRINT_RETURN_IF_ERROR(LoadAllowanceIssuer(config, *s.hsm, certs));
  IMPRINT_ASSIGN_OR_RETURN(Bytes nonce, s.hsm->Random(16));
  Allowance granted;
  IMPRINT_RETURN_IF_ERROR(s.Write(config, [&](WriteContext& ctx) -> Status {
    IMPRINT_ASSIGN_OR_RETURN(granted, GrantAllowance(ctx, grant, HexEncode(nonce)));
    return EnsureSecretTransportKey(*s.hsm, ctx);
  }));
  return granted;
}

Result<Allowance> AllowanceRevokeCommand(const CaConfig& config, const std::string& order_id,
                                         const std::string& station, const std::string& reason) {
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::Open(config, "allowance revoke"));
  Allowance revoked;
  IMPRINT_RETURN_IF_ERROR(s.Write(config, [&](WriteContext& ctx) -> Status {
    IMPRINT_ASSIGN_OR_RETURN(revoked, RevokeAllowance(ctx, order_id, station, reason));
    return {};
  }));
  return revoked;
}

Result<std::vector<Allowance>> AllowanceShowCommand(const CaConfig& config,
                                                    const std::string& order_id) {
  IMPRINT_ASSIGN_OR_RETURN(auto db, OpenCaDatabaseReadOnly(config));
  return ListAllowances(*db, order_id);
}

AllowanceCommands::AllowanceCommands(CLI::App& app, std::string& config_path)
    : config_path_(config_path) {
  auto* allowance = app.add_subcommand(
      "allowance", "offline allowances: a station's certificates for an order without the CA");
  allowance->require_subcommand(1);
  auto config = [&](CLI::App* cmd) {
    cmd->add_option("--config", config_path_, "CA configuration (TOML)")->required();
  };
  grant_ = allowance->add_subcommand("grant", "reserve part of an order's quota for one station");
  config(grant_);
  grant_->add_option("--order", grant_args_.order_id)->required();
  grant_->add_option("--station", grant_args_.station)->required();
  grant_->add_option("--count", grant_args_.count, "certificates the station may issue")
      ->required();
  grant_->add_option("--valid-for", valid_for_, "how long, e.g. 72h (at most 31d)")->required();
  show_ = allowance->add_subcommand("show", "granted, used, outstanding, per allowance");
  config(show_);
  show_->add_option("--order", grant_args_.order_id, "one order's allowances only");
  revoke_ = allowance->add_subcommand("revoke", "end a station's allowance; unused count returns");
  config(revoke_);
  revoke_->add_option("--order", grant_args_.order_id)->required();
  revoke_->add_option("--station", grant_args_.station)->required();
  revoke_->add_option("--reason", reason_, "why (kept in the audit log)")->required();
  renew_ = allowance->add_subcommand(
      "renew",
      "certify the station's subordinate key again, without end, so its devices verify "
      "after the allowance's window (docs/offline.md)");
  config(renew_);
  renew_->add_option("--order", grant_args_.order_id)->required();
  renew_->add_option("--station", grant_args_.station)->required();
}

std::optional<int> AllowanceCommands::Run() {
  auto with = [&](auto&& f) { return WithConfig(config_path_, f); };
  if (*grant_) {
    auto valid_for = ParseValidFor(valid_for_);
    if (!valid_for) return Report(std::unexpected(valid_for.error()));
    grant_args_.valid_for_ms = *valid_for;
    return with([&](const CaConfig& c) -> Status {
      IMPRINT_ASSIGN_OR_RETURN(Allowance a, AllowanceGrantCommand(c, grant_args_));
      std::cout << "allowance " << a.id << " granted: order " << a.order_id << ", station "
                << a.station << ", " << a.count << " certificates until "
                << FormatUtcTime(a.not_after_ms) << std::endl;
      return {};
    });
  }
  if (*revoke_) {
    return with([&](const CaConfig& c) -> Status {
      IMPRINT_ASSIGN_OR_RETURN(Allowance a, AllowanceRevokeCommand(c, grant_args_.order_id,
                                                                   grant_args_.station, reason_));
      std::cout << "allowance " << a.id << " revoked; " << (a.count - a.used)
                << " unused certificates returned to order " << a.order_id << std::endl;
      return {};
    });
  }
  if (*renew_) {
    return with([&](const CaConfig& c) -> Status {
      IMPRINT_ASSIGN_OR_RETURN(RenewedSubordinate r,
                               AllowanceRenewCommand(c, grant_args_.order_id, grant_args_.station));
      std::cout << "allowance " << r.allowance_id << ": subordinate "
                << (r.renewed_now ? "renewed" : "already renewed") << ", serial " << r.serial_hex
                << ", no end; chain written to " << RenewedSubordinatePath(c, r.allowance_id)
                << std::endl;
      return {};
    });
  }
  if (*show_) {
    return with([&](const CaConfig& c) -> Status {
      IMPRINT_ASSIGN_OR_RETURN(auto all, AllowanceShowCommand(c, grant_args_.order_id));
      int64_t now_ms = NowMs();
      for (const Allowance& a : all) PrintAllowance(a, now_ms);
      if (all.empty()) std::cout << "no allowances\n";
      std::cout << std::flush;
      return {};
    });
  }
  return std::nullopt;
}

}  // namespace imprint::ca
