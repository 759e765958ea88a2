#include "ca/ca_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/file_util.h"
#include "common/x509/encoding.h"

namespace imprint::ca {

Result<CaCertificates> CaCertificates::Load(const CaConfig& config) {
  if (!std::filesystem::exists(config.ChainPemPath())) {
    return Fail(Code::kFailedPrecondition,
                "CA not initialised: " + config.ChainPemPath() + " missing (run imprint-ca init)");
  }
  IMPRINT_ASSIGN_OR_RETURN(std::string pem, ReadWholeFile(config.ChainPemPath()));
  IMPRINT_ASSIGN_OR_RETURN(auto certs, x509::ParseCertificatesPem(pem));
  if (certs.size() != 2) {
    return Fail(Code::kFailedPrecondition, config.ChainPemPath() + " must hold issuing and root");
  }
  CaCertificates out;
  for (const auto& cert : certs) {
    IMPRINT_ASSIGN_OR_RETURN(Bytes der, x509::CertificateToDer(cert.get()));
    out.chain_der.push_back(std::move(der));
  }
  out.issuing = std::move(certs[0]);
  out.root = std::move(certs[1]);
  return out;
}

}  // namespace imprint::ca
