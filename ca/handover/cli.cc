#include "ca/handover/cli.h"

#include <filesystem>
#include <iostream>

#include "ca/cli_util.h"
#include "ca/handover/cloud_verification.h"
#include "ca/handover/evidence.h"
#include "ca/handover/export.h"
#include "ca/handover/manifest_verify.h"

namespace imprint::ca {

HandoverCommands::HandoverCommands(CLI::App& app, std::string& config_path)
    : config_path_(config_path) {
  auto order_out = [&](CLI::App* cmd) {
    cmd->add_option("--config", config_path_, "CA configuration (TOML)")->required();
    cmd->add_option("--order", order_, "order id")->required();
    cmd->add_option("--out", out_, "output directory (new or empty)")->required();
    cmd->add_flag("--force", force_, "write into a directory that is not empty");
  };
  export_ = app.add_subcommand("export", "hand an order over: manifest, cloud files or CSV");
  order_out(export_);
  export_
      ->add_option("--format", format_, "manifest, aws-iot, azure-dps, csv or matter-factory-data")
      ->required();

  auto* manifest = app.add_subcommand("manifest", "signed device manifests");
  manifest->require_subcommand(1);
  manifest_verify_ = manifest->add_subcommand(
      "verify", "verify every entry of a manifest (exit 0 only if all verify)");
  manifest_verify_->add_option("MANIFEST", manifest_, "manifest.json")->required();
  manifest_verify_->add_option("--root", root_, "the root certificate (PEM) to trust")->required();
  manifest_verify_->add_option(
      "--signer", signer_, "manifest signer chain (default: manifest-signer.pem beside MANIFEST)");
  manifest_verify_->add_option("--signer-sha256", signer_sha256_,
                               "the signer certificate's SHA-256 as the CA printed it at export");
  manifest_verify_->add_option("--matter-paa", matter_paa_,
                               "a Matter order's PAA (PEM): its DACs chain to it (docs/matter.md)");

  auto* cloud = app.add_subcommand("cloud", "cloud registration helpers");
  cloud->require_subcommand(1);
  verification_cert_ = cloud->add_subcommand(
      "verification-cert",
      "sign the proof-of-possession certificate AWS IoT or Azure DPS asks for (audited)");
  verification_cert_->add_option("--config", config_path_, "CA configuration (TOML)")->required();
  verification_cert_->add_option("--code", code_, "the cloud's registration/verification code")
      ->required();
  verification_cert_->add_option("--out", out_, "certificate file to write (PEM)")->required();

  evidence_ = app.add_subcommand(
      "evidence", "EN 303 645 / EN 18031 evidence for an order, computed and signed");
  order_out(evidence_);
}

std::optional<int> HandoverCommands::Run() {
  if (*export_) {
    return WithConfig(config_path_, [&](const CaConfig& c) -> Status {
      ExportOptions o{order_, {}, out_, force_};
      IMPRINT_ASSIGN_OR_RETURN(o.format, ParseExportFormat(format_));
      IMPRINT_ASSIGN_OR_RETURN(ExportSummary s, ExportOrder(c, o));
      std::cout << "exported " << s.written << " devices of order " << order_;
      for (const auto& [status, n] : s.skipped) std::cout << "; skipped " << n << " " << status;
      std::cout << "\n";
      if (s.files.size() <= 10) {
        for (const auto& f : s.files) std::cout << "wrote " << f << "\n";
      } else {  // Azure: a body of ten per file
        std::cout << "wrote " << s.files.size() << " files in " << out_ << " (" << s.files.front()
                  << " ... " << s.files.back() << ")\n";
      }
      if (s.audit_seq != 0) {
        std::cout << "manifest.json sha256 " << s.sha256.at("manifest.json") << " (audit record "
                  << s.audit_seq << ", manifest.signed)\n";
      }
      if (!s.signer_sha256.empty()) {
        std::cout << "manifest signer sha256 " << s.signer_sha256
                  << " (for the brand owner's manifest verify --signer-sha256)\n";
      }
      if (s.order_open) {
        std::cout << "note: order " << order_ << " is still open; devices made after this "
                  << "export are not in it\n";
      }
      std::cout << std::flush;
      return {};
    });
  }
  if (*manifest_verify_) {
    std::string signer =
        signer_.empty()
            ? (std::filesystem::path(manifest_).parent_path() / "manifest-signer.pem").string()
            : signer_;
    auto report = VerifyManifest(
        {manifest_, root_, signer, signer_sha256_, matter_paa_}, [](const ManifestFailure& f) {
          std::cout << "entry " << f.index << " (" << (f.unique_id.empty() ? "?" : f.unique_id)
                    << "): " << f.reason << "\n";
        });
    if (!report) return Report(std::unexpected(report.error()));
    std::cout << report->entries - report->failed << " of " << report->entries
              << " entries verify (signer sha256 " << report->signer_sha256 << ")" << std::endl;
    return report->failed == 0 ? 0 : 1;
  }
  if (*verification_cert_) {
    return WithConfig(config_path_, [&](const CaConfig& c) -> Status {
      IMPRINT_RETURN_IF_ERROR(WriteCloudVerificationCert(c, code_, out_));
      std::cout << "verification certificate for code " << code_ << " written to " << out_
                << std::endl;
      return {};
    });
  }
  if (*evidence_) {
    return WithConfig(config_path_, [&](const CaConfig& c) -> Status {
      IMPRINT_ASSIGN_OR_RETURN(EvidenceResult r, WriteEvidence(c, {order_, out_, force_}));
      std::cout << "evidence for order " << order_ << ": " << r.verdict << "\nwrote " << out_
                << "/evidence.json, evidence.html, evidence.sig.json, manifest-signer.pem\n";
      if (r.audit_seq != 0) {
        std::cout << "audit record " << r.audit_seq << " (evidence.signed)\n";
      } else {
        std::cout << "not audited: the audit log failed verification (see the pack)\n";
      }
      std::cout << std::flush;
      return {};
    });
  }
  return std::nullopt;
}

}  // namespace imprint::ca
