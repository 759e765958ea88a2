// The key ceremony: `imprint-ca init` and `imprint-ca import-chain`.

#include <openssl/pem.h>
#include <sys/stat.h>

#include <filesystem>

#include "ca/admin.h"
#include "ca/admin_session.h"
#include "ca/ca_files.h"
#include "common/pkcs11/keygen.h"
#include "common/file_util.h"
#include "common/x509/chain.h"
#include "common/x509/csr.h"
#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"

namespace imprint::ca {
namespace {

x509::CertificateProfile CaProfile(int path_length) {
  x509::CertificateProfile p;
  p.is_ca = true;
  p.path_length = path_length;
  p.key_usage = {"keyCertSign", "cRLSign"};
  p.lifetime = std::nullopt;  // IEEE 802.1AR: device certificates outlive any CA expiry
  return p;
}

Result<std::string> PublicKeyPem(EVP_PKEY* key) {
  x509::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
    return Fail(Code::kInternal, "PEM_write_bio_PUBKEY");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<x509::X509Ptr> IssueWith(x509::Signer& signer, const X509* issuer,
                                const x509::CertificateProfile& profile, EVP_PKEY* key,
                                x509::CertificateSubject subject, CaHsm& hsm) {
  IMPRINT_ASSIGN_OR_RETURN(Bytes random, hsm.Random(x509::kSerialBytes));
  x509::CertificateRequest request;
  request.profile = &profile;
  request.subject = std::move(subject);
  request.public_key = key;
  request.serial = x509::MakeSerial(random);
  return x509::IssueCertificate(request, issuer, signer);
}

// TLS server key (in a 0600 file: it guards the transport, not the CA) and its certificate.
Status WriteTlsIdentity(const CaConfig& config, CaHsm& hsm, const X509* issuing) {
  IMPRINT_ASSIGN_OR_RETURN(x509::PkeyPtr key, x509::GenerateKey("P-256"));
  IMPRINT_ASSIGN_OR_RETURN(std::string key_pem, x509::PrivateKeyToPem(key.get()));
  IMPRINT_RETURN_IF_ERROR(WriteFileAtomic(config.TlsKeyPath(), key_pem, 0600));
  OPENSSL_cleanse(key_pem.data(), key_pem.size());

  x509::CertificateSubject subject;
  subject.name = {{"CN", "imprint-ca"}, {"O", config.organization}};
  subject.san_dns = {"localhost"};
  subject.san_dns.insert(subject.san_dns.end(), config.tls_dns_names.begin(),
                         config.tls_dns_names.end());
  subject.san_ips = {"127.0.0.1", "::1"};
  IMPRINT_ASSIGN_OR_RETURN(auto cert, IssueWith(hsm.issuing(), issuing,
                                                config.profiles.at("tls-server"), key.get(),
                                                subject, hsm));
  IMPRINT_ASSIGN_OR_RETURN(std::string cert_pem, x509::CertificateToPem(cert.get()));
  IMPRINT_ASSIGN_OR_RETURN(std::string issuing_pem, x509::CertificateToPem(issuing));
  return WriteFileAtomic(config.TlsCertPath(), cert_pem + issuing_pem, 0644);
}

// Writes root.pem, chain.pem, the TLS identity, and marks the database initialised.
Status FinishHierarchy(const CaConfig& config, AdminSession& s, const X509* issuing,
                       const X509* root, const std::string& how) {
  IMPRINT_ASSIGN_OR_RETURN(std::string root_pem, x509::CertificateToPem(root));
  IMPRINT_ASSIGN_OR_RETURN(std::string issuing_pem, x509::CertificateToPem(issuing));
  IMPRINT_RETURN_IF_ERROR(WriteFileAtomic(config.RootPemPath(), root_pem, 0644));
  IMPRINT_RETURN_IF_ERROR(WriteFileAtomic(config.ChainPemPath(), issuing_pem + root_pem, 0644));
  IMPRINT_RETURN_IF_ERROR(WriteTlsIdentity(config, *s.hsm, issuing));
  IMPRINT_ASSIGN_OR_RETURN(std::string root_serial, x509::SerialHex(root));
  IMPRINT_ASSIGN_OR_RETURN(std::string issuing_serial, x509::SerialHex(issuing));
  return s.Write(config, [&](WriteContext& ctx) -> Status {
    IMPRINT_RETURN_IF_ERROR(ctx.Audit("admin", "ca.certificates_installed",
                                      {{"how", how}, {"root_serial", root_serial},
                                       {"issuing_serial", issuing_serial}}));
    IMPRINT_ASSIGN_OR_RETURN(auto meta, ctx.db().Prepare(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('state', 'initialised')"));
    return meta.Run();
  });
}

Status GenerateKeys(const CaConfig& config, CaHsm& hsm, bool with_root, nlohmann::json& log) {
  IMPRINT_ASSIGN_OR_RETURN(p11::KeyType type, p11::ParseKeyType(config.key_type));
  IMPRINT_ASSIGN_OR_RETURN(auto lease, hsm.pool().Acquire());
  auto make = [&](const char* label, p11::KeyType t, uint8_t id) -> Status {
    IMPRINT_RETURN_IF_ERROR(p11::GenerateKeyPair(lease, t, label, Bytes{id}));
    log.push_back({{"label", label}, {"type", std::string(p11::KeyTypeName(t))}});
    return {};
  };
  if (with_root) IMPRINT_RETURN_IF_ERROR(make(kRootKeyLabel, type, 1));
  IMPRINT_RETURN_IF_ERROR(make(kIssuingKeyLabel, type, 2));
  IMPRINT_RETURN_IF_ERROR(make(kAuditKeyLabel, p11::KeyType::kEcP256, 3));
  IMPRINT_RETURN_IF_ERROR(p11::GenerateHmacKey(lease, kVerifierKeyLabel, Bytes{4}));
  log.push_back({{"label", kVerifierKeyLabel}, {"type", "HMAC-SHA-256"}});
  return {};
}

// A token that already anchors an audit log belongs to another CA (or an earlier one).
Status RefuseExistingAnchor(AuditAnchor& anchor) {
  IMPRINT_ASSIGN_OR_RETURN(auto existing, anchor.Read());
  if (existing) {
    return Fail(Code::kFailedPrecondition,
                std::string("refusing to initialise: the token already holds an audit anchor (") +
                    kAuditAnchorLabel + ", sealing record " + std::to_string(existing->seq) +
                    "): it belongs to another CA");
  }
  return {};
}

// Record 1, sealed on its own by the first checkpoint (docs/audit-format.md, "Genesis").
Status WriteGenesis(const CaConfig& config, AdminSession& s) {
  IMPRINT_ASSIGN_OR_RETURN(Bytes audit_spki, x509::SpkiSha256(s.hsm->audit().public_key()));
  return s.Write(config, [&](WriteContext& ctx) -> Status {
    IMPRINT_ASSIGN_OR_RETURN(uint64_t seq,
                             ctx.Audit("ca", audit::kGenesisEvent,
                                       {{"format", audit::kFormat},
                                        {"organization", config.organization},
                                        {"audit_key_spki_sha256", HexEncode(audit_spki)}}));
    if (seq != 1) return Fail(Code::kFailedPrecondition, "the audit log is not empty");
    return {};
  });
}

Status RefuseExistingState(const CaConfig& config) {
  for (const std::string& path : {config.DatabasePath(), config.ChainPemPath(),
                                  config.RootPemPath(), config.IssuingCsrPath()}) {
    if (std::filesystem::exists(path)) {
      return Fail(Code::kFailedPrecondition,
                  "refusing to initialise over existing state: " + path + " exists");
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(config.state_dir, ec);
  if (ec) return Fail(Code::kUnavailable, "cannot create " + config.state_dir);
  ::chmod(config.state_dir.c_str(), 0700);
  return {};
}

}  // namespace

Status Init(const CaConfig& config, bool external_root, std::ostream& out) {
  IMPRINT_RETURN_IF_ERROR(RefuseExistingState(config));
  AdminSession s;
  IMPRINT_ASSIGN_OR_RETURN(s.hsm, CaHsm::Open(config));
  s.anchor = std::make_unique<AuditAnchor>(s.hsm->pool(), config.AuditLockPath());
  IMPRINT_RETURN_IF_ERROR(RefuseExistingAnchor(*s.anchor));
  nlohmann::json keys = nlohmann::json::array();
  // Keys first: a token that already holds imprint keys fails here (ALREADY_EXISTS) before any
  // file or database is written.
  IMPRINT_RETURN_IF_ERROR(GenerateKeys(config, *s.hsm, !external_root, keys));
  IMPRINT_RETURN_IF_ERROR(s.hsm->LoadKeys(!external_root));
  IMPRINT_ASSIGN_OR_RETURN(s.db, OpenCaDatabase(config));
  IMPRINT_ASSIGN_OR_RETURN(std::string audit_pem, PublicKeyPem(s.hsm->audit().public_key()));
  IMPRINT_RETURN_IF_ERROR(WriteFileAtomic(config.AuditKeyPemPath(), audit_pem, 0644));
  IMPRINT_RETURN_IF_ERROR(WriteGenesis(config, s));
  IMPRINT_RETURN_IF_ERROR(s.Write(config, [&](WriteContext& ctx) -> Status {
    IMPRINT_RETURN_IF_ERROR(ctx.Audit("admin", "ca.init",
                                      {{"organization", config.organization},
                                       {"key_type", config.key_type},
                                       {"external_root", external_root}}));
    for (const auto& key : keys) IMPRINT_RETURN_IF_ERROR(ctx.Audit("admin", "key.generated", key));
    return {};
  }));

  auto issuing_subject = x509::CertificateSubject{
      {{"CN", config.issuing_common_name}, {"O", config.organization}}, {}, {}, {}};
  if (external_root) {
    IMPRINT_ASSIGN_OR_RETURN(Bytes csr_der,
                             x509::BuildCsr(s.hsm->issuing(), issuing_subject.name));
    const unsigned char* p = csr_der.data();
    x509::X509ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(csr_der.size())));
    x509::BioPtr bio(BIO_new(BIO_s_mem()));
    if (!req || !bio || PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1) {
      return Fail(Code::kInternal, "cannot encode issuing CA CSR");
    }
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    IMPRINT_RETURN_IF_ERROR(WriteFileAtomic(config.IssuingCsrPath(),
                                            std::string(data, static_cast<size_t>(len)), 0644));
    out << "issuing CA CSR written to " << config.IssuingCsrPath()
        << "; have the offline root sign it, then run imprint-ca import-chain\n";
    return {};
  }

  x509::CertificateSubject root_subject{
      {{"CN", config.root_common_name}, {"O", config.organization}}, {}, {}, {}};
  IMPRINT_ASSIGN_OR_RETURN(auto root, IssueWith(*s.hsm->root(), nullptr, CaProfile(1),
                                                s.hsm->root()->public_key(), root_subject, *s.hsm));
  IMPRINT_ASSIGN_OR_RETURN(auto issuing,
                           IssueWith(*s.hsm->root(), root.get(), CaProfile(0),
                                     s.hsm->issuing().public_key(), issuing_subject, *s.hsm));
  IMPRINT_RETURN_IF_ERROR(FinishHierarchy(config, s, issuing.get(), root.get(), "init"));
  out << "CA initialised in " << config.state_dir << "\n";
  return {};
}

Status ImportChain(const CaConfig& config, const std::string& issuing_pem_path,
                   const std::string& root_pem_path, std::ostream& out) {
  if (!std::filesystem::exists(config.IssuingCsrPath())) {
    return Fail(Code::kFailedPrecondition, "no pending external-root init in " + config.state_dir);
  }
  if (std::filesystem::exists(config.ChainPemPath())) {
    return Fail(Code::kFailedPrecondition, "chain already installed");
  }
  IMPRINT_ASSIGN_OR_RETURN(AdminSession s, AdminSession::Open(config, "import-chain"));
  IMPRINT_ASSIGN_OR_RETURN(std::string issuing_pem, ReadWholeFile(issuing_pem_path));
  IMPRINT_ASSIGN_OR_RETURN(std::string root_pem, ReadWholeFile(root_pem_path));
  IMPRINT_ASSIGN_OR_RETURN(auto issuing, x509::ParseCertificatePem(issuing_pem));
  IMPRINT_ASSIGN_OR_RETURN(auto root, x509::ParseCertificatePem(root_pem));
  if (EVP_PKEY_eq(X509_get0_pubkey(issuing.get()), s.hsm->issuing().public_key()) != 1) {
    return Fail(Code::kInvalidArgument, "certificate is not for this CA's issuing key");
  }
  std::vector<X509*> none;
  IMPRINT_RETURN_IF_ERROR(x509::VerifyChain(issuing.get(), none, root.get()));
  IMPRINT_RETURN_IF_ERROR(FinishHierarchy(config, s, issuing.get(), root.get(), "import-chain"));
  out << "chain installed in " << config.state_dir << "\n";
  return {};
}

}  // namespace imprint::ca
