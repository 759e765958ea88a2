#include "ca/matter/cli.h"

#include <iostream>

#include "ca/cli_util.h"
#include "ca/matter/pai.h"
#include "ca/matter/pai_crl.h"
#include "common/file_util.h"
#include "common/x509/encoding.h"

namespace imprint::ca {
namespace {

Result<std::optional<uint16_t>> ParseDiscriminator(const std::string& text) {
  if (text == "random") return std::optional<uint16_t>{};
  constexpr std::string_view kFixed = "fixed:";
  if (text.rfind(kFixed, 0) == 0) {
    std::string digits = text.substr(kFixed.size());
    if (!digits.empty() && digits.size() <= 4 &&
        digits.find_first_not_of("0123456789") == std::string::npos) {
      unsigned long value = std::stoul(digits);
      if (value <= 4095) return std::optional<uint16_t>(static_cast<uint16_t>(value));
    }
  }
  return Fail(Code::kInvalidArgument, "--discriminator must be random or fixed:N with N 0-4095");
}

}  // namespace

Result<uint16_t> ParseMatterId(const std::string& text, const char* what) {
  std::string hex = text.rfind("0x", 0) == 0 || text.rfind("0X", 0) == 0 ? text.substr(2) : text;
  if (hex.empty() || hex.size() > 4 ||
      hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    return Fail(Code::kInvalidArgument, std::string(what) + " must be 1-4 hex digits, e.g. FFF1");
  }
  return static_cast<uint16_t>(std::stoul(hex, nullptr, 16));
}

Result<MatterOrderSpec> MatterOrderOptions::Spec() const {
  if (pai.empty() || pid.empty() || cd_path.empty() || cd_signer_path.empty()) {
    return Fail(Code::kInvalidArgument, "--matter needs --pai, --pid, --cd and --cd-signer");
  }
  MatterOrderSpec spec;
  spec.pai_label = pai;
  IMPRINT_ASSIGN_OR_RETURN(spec.product_id, ParseMatterId(pid, "--pid"));
  IMPRINT_ASSIGN_OR_RETURN(std::string cd, ReadWholeFile(cd_path, 4096));
  spec.cd_der.assign(cd.begin(), cd.end());
  IMPRINT_ASSIGN_OR_RETURN(spec.cd_signer_pem, ReadWholeFile(cd_signer_path, 64 * 1024));
  IMPRINT_ASSIGN_OR_RETURN(spec.discriminator, ParseDiscriminator(discriminator));
  spec.iterations = iterations;
  return spec;
}

MatterCommands::MatterCommands(CLI::App& app, std::string& config_path)
    : config_path_(config_path) {
  auto* matter = app.add_subcommand("matter", "Matter device attestation (docs/matter.md)");
  matter->require_subcommand(1);
  auto config = [&](CLI::App* cmd) {
    cmd->add_option("--config", config_path_, "CA configuration (TOML)")->required();
  };
  auto* pai = matter->add_subcommand("pai", "Product Attestation Intermediates in the token");
  pai->require_subcommand(1);
  pai_create_ = pai->add_subcommand("create", "make a PAI key in the token and its CSR");
  config(pai_create_);
  pai_create_->add_option("--label", label_, "the PAI's name in orders")->required();
  pai_create_->add_option("--vid", vid_, "vendor id, 4 hex digits")->required();
  pai_create_->add_option("--pid", pid_, "product id, when the PAI serves one product only");
  pai_create_->add_option("--out", out_, "where the CSR (PEM) goes")->required();
  pai_import_ = pai->add_subcommand("import", "install the PAI certificate the PAA signed");
  config(pai_import_);
  pai_import_->add_option("--label", label_)->required();
  pai_import_->add_option("--cert", cert_path_, "the PAI certificate (PEM)")->required();
  pai_import_->add_option("--paa", paa_path_, "the PAA certificate (PEM)")->required();
  auto* paa = matter->add_subcommand("paa", "Product Attestation Authorities");
  paa->require_subcommand(1);
  paa_create_test_ = paa->add_subcommand(
      "create-test", "a test PAA in the token; signs and imports the vendor's waiting PAIs");
  config(paa_create_test_);
  paa_create_test_->add_option("--vid", vid_, "vendor id, 4 hex digits")->required();
  paa_create_test_->add_option("--out", out_, "where the test PAA (PEM) goes");
  crl_ = matter->add_subcommand("crl", "sign and write a PAI's CRL of revoked DACs");
  config(crl_);
  crl_->add_option("--label", label_, "the PAI")->required();
}

std::optional<int> MatterCommands::Run() {
  auto with = [&](auto&& f) { return WithConfig(config_path_, f); };
  if (*pai_create_) {
    return with([&](const CaConfig& c) -> Status {
      PaiSpec spec;
      spec.label = label_;
      IMPRINT_ASSIGN_OR_RETURN(spec.vendor_id, ParseMatterId(vid_, "--vid"));
      if (!pid_.empty()) {
        IMPRINT_ASSIGN_OR_RETURN(spec.product_id, ParseMatterId(pid_, "--pid"));
      }
      IMPRINT_ASSIGN_OR_RETURN(Bytes csr, CreatePai(c, spec));
      IMPRINT_ASSIGN_OR_RETURN(std::string pem, x509::DerToPem(csr, "CERTIFICATE REQUEST"));
      IMPRINT_RETURN_IF_ERROR(WriteFileAtomic(out_, pem, 0644));
      std::cout << "PAI " << label_ << " created; CSR in " << out_ << std::endl;
      return {};
    });
  }
  if (*pai_import_) {
    return with([&](const CaConfig& c) -> Status {
      IMPRINT_ASSIGN_OR_RETURN(std::string pai, ReadWholeFile(cert_path_, 64 * 1024));
      IMPRINT_ASSIGN_OR_RETURN(std::string paa, ReadWholeFile(paa_path_, 64 * 1024));
      IMPRINT_RETURN_IF_ERROR(ImportPai(c, label_, pai, paa));
      std::cout << "PAI " << label_ << " imported" << std::endl;
      return {};
    });
  }
  if (*paa_create_test_) {
    return with([&](const CaConfig& c) -> Status {
      IMPRINT_ASSIGN_OR_RETURN(uint16_t vid, ParseMatterId(vid_, "--vid"));
      IMPRINT_ASSIGN_OR_RETURN(TestPaaResult r, CreateTestPaa(c, vid));
      if (!out_.empty()) {
        IMPRINT_RETURN_IF_ERROR(WriteFileAtomic(out_, r.paa_pem, 0644));
      }
      for (const auto& label : r.signed_pais) {
        std::cout << "PAI " << label << " signed by the test PAA and imported" << std::endl;
      }
      std::cout << "test PAA ready" << (out_.empty() ? "" : " in " + out_) << std::endl;
      return {};
    });
  }
  if (*crl_) {
    return with([&](const CaConfig& c) -> Status {
      IMPRINT_ASSIGN_OR_RETURN(PaiCrl crl, IssuePaiCrl(c, label_));
      std::cout << "PAI " << label_ << " CRL " << crl.number << " with " << crl.entries
                << " entries written to " << crl.path << " and " << crl.path << ".pem" << std::endl;
      return {};
    });
  }
  return std::nullopt;
}

}  // namespace imprint::ca
