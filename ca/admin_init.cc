// The key ceremony: `imprint-ca init` and `imprint-ca import-chain`.

#include <openssl/pem.h>
#include <sys/stat.h>

#include <filesystem>

#include "ca/admin.h"
#include "ca/admin_session.h"
#include "ca/ca_files.h"
#include "ca/handover/manifest_identity.h"
#include "ca/store/schema.h"
#include "common/file_util.h"
#include "common/pkcs11/keygen.h"
#include "common/pkcs11/mechanisms.h"
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
  IMPRINT_ASSIGN_OR_RETURN(
      auto cert,
      IssueWith(hsm.issuing(), issuing, config.profiles.at("tls-server"), key.get(), subject, hsm));
  IMPRINT_ASSIGN_OR_RETURN(std::string cert_pem, x509::CertificateToPem(cert.get()));
  IMPRINT_ASSIGN_OR_RETURN(std::string issuing_pem, x509::CertificateToPem(issuing));
  return WriteFileAtomic(config.TlsCertPath(), cert_pem + issuing_pem, 0644);
}

// Writes root.pem, chain.pem, the TLS identity, and marks the database initialised.
// `made_keys` (init's undo list) gets the manifest key's label before the key is made.
Status FinishHierarchy(const CaConfig& config, AdminSession& s, const X509* issuing,
                       const X509* root, const std::string& how,
                       std::vector<std::string>* made_keys = nullptr) {
  IMPRINT_ASSIGN_OR_RETURN(std::string root_pem, x509::CertificateToPem(root));
  IMPRINT_ASSIGN_OR_RETURN(std::string issuing_pem, x509::CertificateToPem(issuing));
  IMPRINT_RETURN_IF_ERROR(WriteFileAtomic(config.RootPemPath(), root_pem, 0644));
  IMPRINT_RETURN_IF_ERROR(WriteFileAtomic(config.ChainPemPath(), issuing_pem + root_pem, 0644));
  IMPRINT_RETURN_IF_ERROR(WriteTlsIdentity(config, *s.hsm, issuing));
  IMPRINT_ASSIGN_OR_RETURN(CaCertificates certs, CaCertificates::Load(config));
  if (made_keys) made_keys->emplace_back(kManifestKeyLabel);
  IMPRINT_ASSIGN_OR_RETURN(DelegatedIdentity manifest, LoadManifestIdentity(config, *s.hsm, certs));
  IMPRINT_ASSIGN_OR_RETURN(std::string manifest_serial,
                           x509::SerialHex(manifest.certificate.get()));
  IMPRINT_ASSIGN_OR_RETURN(std::string root_serial, x509::SerialHex(root));
  IMPRINT_ASSIGN_OR_RETURN(std::string issuing_serial, x509::SerialHex(issuing));
  return s.Write(config, [&](WriteContext& ctx) -> Status {
    IMPRINT_RETURN_IF_ERROR(ctx.Audit("admin", "ca.certificates_installed",
                                      {{"how", how},
                                       {"root_serial", root_serial},
                                       {"issuing_serial", issuing_serial},
                                       {"manifest_signer_serial", manifest_serial}}));
    IMPRINT_ASSIGN_OR_RETURN(
        auto meta, ctx.db().Prepare("INSERT INTO meta (key, value) VALUES ('state', 'initialised') "
                                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
    return meta.Run();
  });
}

// Everything `init` will ask of the token, checked before the first key is made: a token that
// cannot host this CA is refused with the list of what it lacks, and stays as it was.
Status RequireTokenSupports(const CaConfig& config, CaHsm& hsm, bool with_root) {
  IMPRINT_ASSIGN_OR_RETURN(p11::KeyType type, p11::ParseKeyType(config.key_type));
  p11::TokenNeeds needs;
  needs.random = true;
  if (with_root) p11::AddSigningKeyNeeds(needs, type, kRootKeyLabel);
  p11::AddSigningKeyNeeds(needs, type, kIssuingKeyLabel);
  p11::AddSigningKeyNeeds(needs, type, kAuditKeyLabel);
  p11::AddHmacKeyNeeds(needs, kVerifierKeyLabel);
  auto supported = p11::RequireMechanisms(hsm.pool().module(), hsm.pool().slot(), needs);
  if (supported) return {};
  return Fail(Code::kFailedPrecondition,
              "cannot initialise with key_type " + config.key_type + ": " +
                  supported.error().message() +
                  "\nNo key was made. Choose a key_type the token offers (P-256, P-384 or "
                  "RSA-3072) or another token; docs/operations.md lists what each tested module "
                  "supports.");
}

// The audit key has the CA's key type, so a token that offers only RSA (opencryptoki's soft
// token) hosts a whole CA. `made` lists each key once it exists, for InitUndo.
Status GenerateKeys(const CaConfig& config, CaHsm& hsm, bool with_root, nlohmann::json& log,
                    std::vector<std::string>& made) {
  IMPRINT_ASSIGN_OR_RETURN(p11::KeyType type, p11::ParseKeyType(config.key_type));
  IMPRINT_ASSIGN_OR_RETURN(auto lease, hsm.pool().Acquire());
  auto make = [&](const char* label, uint8_t id) -> Status {
    IMPRINT_RETURN_IF_ERROR(p11::GenerateKeyPair(lease, type, label, Bytes{id}));
    made.emplace_back(label);
    log.push_back({{"label", label}, {"type", std::string(p11::KeyTypeName(type))}});
    return {};
  };
  if (with_root) IMPRINT_RETURN_IF_ERROR(make(kRootKeyLabel, 1));
  IMPRINT_RETURN_IF_ERROR(make(kIssuingKeyLabel, 2));
  IMPRINT_RETURN_IF_ERROR(make(kAuditKeyLabel, 3));
  IMPRINT_RETURN_IF_ERROR(p11::GenerateHmacKey(lease, kVerifierKeyLabel, Bytes{4}));
  made.emplace_back(kVerifierKeyLabel);
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

// The state files `init` may write, in the order it writes them.
std::vector<std::string> StatePaths(const CaConfig& config) {
  std::string db = config.DatabasePath();
  return {db,
          db + "-wal",
          db + "-shm",
          config.AuditLockPath(),
          config.AuditKeyPemPath(),
          config.IssuingCsrPath(),
          config.RootPemPath(),
          config.ChainPemPath(),
          config.TlsKeyPath(),
          config.TlsCertPath(),
          ManifestSignerPath(config)};
}

Status RefuseExistingState(const CaConfig& config) {
  // First the store: for PostgreSQL this also proves it can be reached before any key exists.
  IMPRINT_ASSIGN_OR_RETURN(auto store, ExistingStore(config));
  if (store) {
    return Fail(Code::kFailedPrecondition,
                "refusing to initialise over existing state: " + *store + " holds a CA");
  }
  for (const std::string& path : {config.DatabasePath(), config.ChainPemPath(),
                                  config.RootPemPath(), config.IssuingCsrPath()}) {
    if (std::filesystem::exists(path)) {
      return Fail(Code::kFailedPrecondition,
                  "refusing to initialise over existing state: " + path + " exists");
    }
  }
  return {};
}

// The RFC 7512 URI of the objects labelled `label` in the token `token_uri` names.
std::string ObjectUri(const std::string& token_uri, const std::string& label) {
  size_t query = token_uri.find('?');
  std::string path = token_uri.substr(0, query);
  std::string uri = path + (path.back() == ':' ? "" : ";") + "object=" + label;
  return query == std::string::npos ? uri : uri + token_uri.substr(query);
}

// What a failed `init` takes back, so the token and the state directory are as they were and the
// next `init` can simply run again: the keys it made (their labels were free before, so every
// object with them is this run's), the audit anchor it wrote (the token held none before), and
// the files and directory it created.
class InitUndo {
 public:
  explicit InitUndo(const CaConfig& config) {
    created_dir_ = !std::filesystem::exists(config.state_dir);
    for (const std::string& path : StatePaths(config)) {
      if (!std::filesystem::exists(path)) new_files_.push_back(path);
    }
  }

  std::vector<std::string>& keys() { return keys_; }
  void AnchorMayExist() { anchor_ = true; }

  // `cause` with what was undone, or with the objects that could not be removed and how to
  // remove them by hand.
  Error Undo(const CaConfig& config, CaHsm* hsm, const Error& cause) {
    std::vector<std::pair<std::string, std::string>> left;  // label, why it is still there
    std::vector<std::string> labels = keys_;
    if (anchor_) labels.emplace_back(kAuditAnchorLabel);
    if (!labels.empty()) {
      auto lease = hsm->pool().Acquire();
      for (const std::string& label : labels) {
        Status destroyed =
            lease ? p11::DestroyObjects(*lease, label) : Status(std::unexpected(lease.error()));
        if (!destroyed) left.emplace_back(label, destroyed.error().message());
      }
    }
    // The store was empty (RefuseExistingState): whatever it holds now is this run's.
    std::string store_left;
    if (auto dropped = DropNewStore(config); !dropped) {
      store_left = "\nThe tables this init created in " + StoreName(config) +
                   " could not be dropped (" + dropped.error().message() +
                   "); drop them before running init again: DROP TABLE " + std::string(CaTables()) +
                   ";";
    }
    std::error_code ec;
    for (const std::string& path : new_files_) std::filesystem::remove(path, ec);
    if (created_dir_) std::filesystem::remove(config.state_dir, ec);  // only if empty
    std::string message = cause.message() + store_left;
    if (left.empty()) {
      if (!labels.empty()) {
        message += "\nThe keys this init made were removed; the token is as it was.";
      }
      return Error(cause.code(), message);
    }
    message += "\nThese objects this init made could not be removed from the token:";
    for (const auto& [label, why] : left) message += "\n  - " + label + " (" + why + ")";
    message +=
        "\nRemove them before running init again, with the token's own tool or with GnuTLS "
        "p11tool (package gnutls-bin; the user PIN in the environment variable GNUTLS_PIN):";
    for (const auto& [label, why] : left) {
      message += "\n    p11tool --provider " + config.module + " --login --batch --delete \"" +
                 ObjectUri(config.token_uri, label) + "\"";
    }
    return Error(cause.code(), message);
  }

 private:
  bool created_dir_ = false;
  bool anchor_ = false;
  std::vector<std::string> new_files_;
  std::vector<std::string> keys_;
};

Status MakeStateDirectory(const CaConfig& config) {
  std::error_code ec;
  std::filesystem::create_directories(config.state_dir, ec);
  if (ec) return Fail(Code::kUnavailable, "cannot create " + config.state_dir);
  ::chmod(config.state_dir.c_str(), 0700);
  return {};
}

// The ceremony after the checks: every step may fail, and InitUndo takes back what it made.
Status RunInit(const CaConfig& config, bool external_root, std::ostream& out, AdminSession& s,
               InitUndo& undo) {
  IMPRINT_RETURN_IF_ERROR(MakeStateDirectory(config));
  nlohmann::json keys = nlohmann::json::array();
  IMPRINT_RETURN_IF_ERROR(GenerateKeys(config, *s.hsm, !external_root, keys, undo.keys()));
  IMPRINT_RETURN_IF_ERROR(s.hsm->LoadKeys(!external_root));
  IMPRINT_ASSIGN_OR_RETURN(s.db, OpenCaDatabase(config));
  IMPRINT_ASSIGN_OR_RETURN(std::string audit_pem, PublicKeyPem(s.hsm->audit().public_key()));
  IMPRINT_RETURN_IF_ERROR(WriteFileAtomic(config.AuditKeyPemPath(), audit_pem, 0644));
  undo.AnchorMayExist();  // from the first sealed write on
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
    IMPRINT_ASSIGN_OR_RETURN(Bytes csr_der, x509::BuildCsr(s.hsm->issuing(), issuing_subject.name));
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
  IMPRINT_RETURN_IF_ERROR(
      FinishHierarchy(config, s, issuing.get(), root.get(), "init", &undo.keys()));
  out << "CA initialised in " << config.state_dir << "\n";
  return {};
}

}  // namespace

Status Init(const CaConfig& config, bool external_root, std::ostream& out) {
  IMPRINT_RETURN_IF_ERROR(RefuseExistingState(config));
  AdminSession s;
  IMPRINT_ASSIGN_OR_RETURN(s.hsm, CaHsm::Open(config));
  s.anchor = std::make_unique<AuditAnchor>(s.hsm->pool(), MakeSealLocker(config));
  IMPRINT_RETURN_IF_ERROR(RefuseExistingAnchor(*s.anchor));
  IMPRINT_RETURN_IF_ERROR(RequireTokenSupports(config, *s.hsm, !external_root));
  // A token that already holds imprint keys fails in GenerateKeys (ALREADY_EXISTS) before any
  // key is made; anything that fails later is undone.
  InitUndo undo(config);
  Status done = RunInit(config, external_root, out, s, undo);
  if (done) return {};
  s.db.reset();  // closed before its files are removed
  return std::unexpected(undo.Undo(config, s.hsm.get(), done.error()));
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
