#include "ca/handover/cloud_verification.h"

#include <algorithm>
#include <cctype>

#include "ca/admin_session.h"
#include "ca/ca_files.h"
#include "common/file_util.h"
#include "common/x509/certificate_builder.h"
#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"

namespace imprint::ca {
namespace {

bool IsValidCode(const std::string& code) {
  return !code.empty() && code.size() <= 64 &&
         std::all_of(code.begin(), code.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '-'; });
}

}  // namespace

Status WriteCloudVerificationCert(const CaConfig& config, const std::string& code,
                                  const std::string& out_path) {
  if (!IsValidCode(code)) {
    return Fail(Code::kInvalidArgument,
                "--code must be 1-64 letters, digits or '-' (the registration or verification "
                "code the cloud shows)");
  }
  if (out_path.empty()) return Fail(Code::kInvalidArgument, "--out is empty");
  IMPRINT_ASSIGN_OR_RETURN(CaCertificates certs, CaCertificates::Load(config));
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::Open(config, "cloud verification-cert"));
  // The subject key is never used: the cloud checks only the CA's signature and the CN.
  IMPRINT_ASSIGN_OR_RETURN(x509::PkeyPtr key, x509::GenerateKey("P-256"));
  x509::CertificateProfile profile;
  profile.key_usage = {"digitalSignature"};
  profile.lifetime = std::chrono::days(30);
  IMPRINT_ASSIGN_OR_RETURN(Bytes random, s.hsm->Random(x509::kSerialBytes));
  x509::CertificateRequest request;
  request.profile = &profile;
  request.subject.name = {{"CN", code}, {"O", config.organization}};
  request.public_key = key.get();
  request.serial = x509::MakeSerial(random);
  IMPRINT_ASSIGN_OR_RETURN(auto cert,
                           x509::IssueCertificate(request, certs.issuing.get(), s.hsm->issuing()));
  IMPRINT_ASSIGN_OR_RETURN(std::string pem, x509::CertificateToPem(cert.get()));
  IMPRINT_RETURN_IF_ERROR(s.Write(config, [&](WriteContext& ctx) -> Status {
    IMPRINT_RETURN_IF_ERROR(ctx.Audit("admin", "cloud.verification_certificate",
                                      {{"code", code}, {"serial", HexEncode(request.serial)}}));
    return {};
  }));
  return WriteFileAtomic(out_path, pem, 0644);
}

}  // namespace imprint::ca
