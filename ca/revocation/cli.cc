#include "ca/revocation/cli.h"

#include <iostream>

#include "ca/admin_session.h"
#include "ca/ca_files.h"
#include "ca/cli_util.h"
#include "ca/revocation/crl_keeper.h"
#include "ca/revocation/crl_publisher.h"
#include "ca/revocation/device_history.h"
#include "common/file_util.h"
#include "common/identifier.h"
#include "common/utc_time.h"
#include "common/x509/encoding.h"

namespace imprint::ca {
namespace {

void PrintDevice(const DeviceInfo& d) {
  std::cout << "device " << d.device_id << "\nstatus " << d.status << "\n";
  if (!d.serial_hex.empty()) {
    std::cout << "order " << d.order_id << "\nstation " << d.station << "\nserial " << d.serial_hex
              << "\nissued " << FormatUtcTime(d.issued_ms) << "\n";
    if (d.reported_ms) std::cout << "reported " << FormatUtcTime(*d.reported_ms) << "\n";
    if (d.revocation) {
      std::cout << "revoked " << FormatUtcTime(d.revocation->revoked_ms) << " "
                << d.revocation->reason;
      if (d.revocation->invalidity_ms) {
        std::cout << " (invalid since " << FormatUtcTime(*d.revocation->invalidity_ms) << ")";
      }
      std::cout << "\n";
    }
  }
  if (d.label) {
    std::cout << "label " << d.label->code << " bound " << FormatUtcTime(d.label->bound_ms)
              << " by station " << d.label->station << "\n";
  }
  if (d.attestation) {
    const auto& a = *d.attestation;
    std::cout << "attestation " << a.kind << "\nek_sha256 "
              << HexEncode(x509::Sha256(a.ek_certificate_der)) << "\nek_issuer " << a.ek_issuer
              << "\nak_name " << HexEncode(a.ak_name) << "\ncertify_sha256 "
              << HexEncode(x509::Sha256(a.certify_info)) << "\n";
  }
  for (const auto& o : d.operational) {
    std::cout << "operational " << o.serial_hex << " profile " << o.profile << " valid "
              << FormatUtcTime(o.not_before_ms) << " to " << FormatUtcTime(o.not_after_ms)
              << " authenticated by " << o.authenticated_by << " revoked "
              << (o.revoked.empty() ? "no" : o.revoked) << "\n";
  }
  for (const auto& f : d.former) {
    std::cout << "former " << f.serial_hex << " order " << f.order_id << " issued "
              << FormatUtcTime(f.issued_ms) << " reworked " << FormatUtcTime(f.reworked_ms)
              << " revoked " << (f.reason.empty() ? "no" : f.reason) << "\n";
  }
  std::cout << std::flush;
}

// The evidence as files a buyer checks with tools of their own (docs/attestation.md).
Status WriteEvidence(const DeviceInfo& d, const std::string& dir) {
  if (!d.attestation) {
    return Fail(Code::kNotFound, "device " + d.device_id + " has no key attestation evidence");
  }
  const auto& a = *d.attestation;
  IMPRINT_RETURN_IF_ERROR(MakePrivateDirectory(dir, 0755));
  const std::pair<const char*, const Bytes*> files[] = {{"ek.der", &a.ek_certificate_der},
                                                        {"ak.pub", &a.ak_public},
                                                        {"key.pub", &a.key_public},
                                                        {"certify.attest", &a.certify_info},
                                                        {"certify.sig", &a.certify_signature}};
  for (const auto& [name, bytes] : files) {
    IMPRINT_RETURN_IF_ERROR(
        WriteFileAtomic(dir + "/" + name, std::string(bytes->begin(), bytes->end()), 0644));
  }
  return {};
}

Status IssueAndPrintCrl(const CaConfig& config) {
  IMPRINT_ASSIGN_OR_RETURN(auto issued, IssueCrlCommand(config));
  for (const auto& [list, crl] : issued) {
    std::cout << (list == CrlList::kIssuing ? std::string("CRL ")
                                            : std::string(CrlListName(list)) + " CRL ")
              << crl.number << " with " << crl.entries << " entries, next update "
              << FormatUtcTime(crl.next_update_ms) << ", written to " << CrlPath(config, list)
              << " and " << CrlPath(config, list) << ".pem" << std::endl;
  }
  return {};
}

}  // namespace

Result<RevocationOutcome> RevokeCommand(const CaConfig& config, const RevocationRequest& r) {
  if (r.dry_run) {
    IMPRINT_ASSIGN_OR_RETURN(auto db, OpenCaDatabaseReadOnly(config));
    return CountRevocable(*db, r);
  }
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::Open(config, "revoke"));
  RevocationOutcome out;
  IMPRINT_RETURN_IF_ERROR(s.Write(config, [&](WriteContext& ctx) { return Revoke(ctx, r, out); }));
  return out;
}

Status UnrevokeCommand(const CaConfig& config, const std::string& device_id) {
  if (!IsValidIdentifier(device_id)) return Fail(Code::kInvalidArgument, "invalid device id");
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::Open(config, "unrevoke"));
  return s.Write(config, [&](WriteContext& ctx) { return Unrevoke(ctx, device_id); });
}

Result<std::vector<IssuedCrl>> IssueCrlCommand(const CaConfig& config) {
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::Open(config, "crl issue"));
  IMPRINT_ASSIGN_OR_RETURN(CaCertificates certs, CaCertificates::Load(config));
  IMPRINT_ASSIGN_OR_RETURN(CrlSources sources, LoadCrlSources(config, *s.hsm, certs));
  WriteFn write = [&](const WriteOp& op) { return s.Write(config, op); };
  std::vector<IssuedCrl> issued;
  for (const CrlSource& source : sources.lists) {
    IMPRINT_ASSIGN_OR_RETURN(
        CrlInfo crl, PublishCrl(config, *s.db, source.list, source.signer, write, "admin", true));
    IMPRINT_RETURN_IF_ERROR(WriteCrlFiles(config, source.list, crl));
    issued.push_back({source.list, std::move(crl)});
  }
  return issued;
}

Result<DeviceInfo> DeviceShowCommand(const CaConfig& config, const std::string& device_id) {
  if (!IsValidIdentifier(device_id)) return Fail(Code::kInvalidArgument, "invalid device id");
  IMPRINT_ASSIGN_OR_RETURN(auto db, OpenCaDatabaseReadOnly(config));
  return DeviceShow(*db, device_id);
}

Status DeviceReworkCommand(const CaConfig& config, const std::string& device_id) {
  if (!IsValidIdentifier(device_id)) return Fail(Code::kInvalidArgument, "invalid device id");
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::Open(config, "device rework"));
  return s.Write(config, [&](WriteContext& ctx) { return DeviceRework(ctx, device_id); });
}

RevocationCommands::RevocationCommands(CLI::App& app, CLI::App& device, std::string& config_path)
    : config_path_(config_path) {
  auto config = [&](CLI::App* cmd) {
    cmd->add_option("--config", config_path_, "CA configuration (TOML)")->required();
  };
  auto* revoke = app.add_subcommand("revoke", "revoke device certificates (audited)");
  revoke->require_subcommand(1);
  auto common = [&](CLI::App* cmd) {
    config(cmd);
    cmd->add_option("--reason", reason_,
                    "unspecified, key-compromise, affiliation-changed, superseded, "
                    "cessation-of-operation or certificate-hold")
        ->required();
    cmd->add_option("--invalidity-date", invalidity_,
                    "YYYY-MM-DDTHH:MM:SSZ: since when the key is believed compromised");
    cmd->add_flag("--dry-run", dry_run_, "print how many would be revoked; change nothing");
  };
  revoke_device_ = revoke->add_subcommand("device", "one device's certificate");
  revoke_device_->add_option("--id", id_, "device id")->required();
  common(revoke_device_);
  revoke_order_ = revoke->add_subcommand("order", "every certificate of a production order");
  revoke_order_->add_option("--id", id_, "order id")->required();
  common(revoke_order_);
  revoke_station_ = revoke->add_subcommand(
      "station", "the certificates a station issued in a time window (both ends included)");
  revoke_station_->add_option("--name", id_, "station name")->required();
  revoke_station_->add_option("--since", since_, "YYYY-MM-DDTHH:MM:SSZ")->required();
  revoke_station_->add_option("--until", until_, "YYYY-MM-DDTHH:MM:SSZ")->required();
  common(revoke_station_);

  unrevoke_ = app.add_subcommand("unrevoke", "lift a certificate-hold (audited)");
  config(unrevoke_);
  unrevoke_->add_option("--id", id_, "device id")->required();

  auto* crl = app.add_subcommand("crl", "certificate revocation list");
  crl->require_subcommand(1);
  crl_issue_ = crl->add_subcommand("issue", "sign and write a new CRL now");
  config(crl_issue_);

  device_show_ = device.add_subcommand("show", "a device's status, certificates and revocation");
  config(device_show_);
  device_show_->add_option("--id", id_, "device id")->required();
  device_show_->add_option("--evidence-dir", evidence_dir_,
                           "write the key attestation evidence here: ek.der, ak.pub, key.pub, "
                           "certify.attest, certify.sig (docs/attestation.md)");
  device_rework_ =
      device.add_subcommand("rework",
                            "a returned device: revoke its certificate (superseded) and let it be "
                            "provisioned again (audited)");
  config(device_rework_);
  device_rework_->add_option("--id", id_, "device id")->required();
}

int RevocationCommands::RunRevoke(RevocationRequest::Scope scope) {
  return WithConfig(config_path_, [&](const CaConfig& c) -> Status {
    RevocationRequest r;
    r.scope = scope;
    r.id = id_;
    r.dry_run = dry_run_;
    IMPRINT_ASSIGN_OR_RETURN(r.reason, x509::ParseCrlReason(reason_));
    if (!invalidity_.empty()) {
      IMPRINT_ASSIGN_OR_RETURN(int64_t t, ParseUtcTime(invalidity_));
      r.invalidity_ms = t;
    }
    if (scope == RevocationRequest::Scope::kStation) {
      IMPRINT_ASSIGN_OR_RETURN(r.since_ms, ParseUtcTime(since_));
      IMPRINT_ASSIGN_OR_RETURN(r.until_ms, ParseUtcTime(until_));
      r.until_ms += 999;  // the whole last second
    }
    IMPRINT_ASSIGN_OR_RETURN(RevocationOutcome out, RevokeCommand(c, r));
    int64_t pending = out.selected - out.already_revoked;
    if (r.dry_run) {
      std::cout << "would revoke " << pending << " certificates (" << out.already_revoked
                << " of the " << out.selected << " selected are revoked already)" << std::endl;
    } else if (out.revoked == 0) {
      std::cout << "nothing to revoke: the " << out.selected
                << " certificates selected are revoked already" << std::endl;
    } else {
      std::cout << "revoked " << out.revoked << " certificates (" << out.already_revoked
                << " were revoked already)" << std::endl;
    }
    return {};
  });
}

std::optional<int> RevocationCommands::Run() {
  using Scope = RevocationRequest::Scope;
  if (*revoke_device_) return RunRevoke(Scope::kDevice);
  if (*revoke_order_) return RunRevoke(Scope::kOrder);
  if (*revoke_station_) return RunRevoke(Scope::kStation);
  if (*unrevoke_) {
    return WithConfig(config_path_, [&](const CaConfig& c) -> Status {
      IMPRINT_RETURN_IF_ERROR(UnrevokeCommand(c, id_));
      std::cout << "certificate-hold lifted from device " << id_ << std::endl;
      return {};
    });
  }
  if (*crl_issue_) return WithConfig(config_path_, IssueAndPrintCrl);
  if (*device_show_) {
    return WithConfig(config_path_, [&](const CaConfig& c) -> Status {
      IMPRINT_ASSIGN_OR_RETURN(DeviceInfo d, DeviceShowCommand(c, id_));
      PrintDevice(d);
      if (!evidence_dir_.empty()) return WriteEvidence(d, evidence_dir_);
      return {};
    });
  }
  if (*device_rework_) {
    return WithConfig(config_path_, [&](const CaConfig& c) -> Status {
      IMPRINT_RETURN_IF_ERROR(DeviceReworkCommand(c, id_));
      std::cout << "device " << id_
                << " reworked: its certificate is revoked (superseded) and "
                   "the next provisioning issues a new one"
                << std::endl;
      return {};
    });
  }
  return std::nullopt;
}

}  // namespace imprint::ca
