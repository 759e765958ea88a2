#include "ca/handover/evidence.h"

#include "ca/admin_session.h"
#include "ca/ca_files.h"
#include "ca/handover/export_files.h"
#include "ca/handover/manifest_identity.h"
#include "common/file_util.h"
#include "common/jose/jws.h"
#include "common/x509/encoding.h"

namespace imprint::ca {

Result<EvidenceResult> WriteEvidence(const CaConfig& config, const EvidenceOptions& options) {
  // One session, its store and token, for the facts, the signature and the audit record. The
  // check before writing comes after the facts: a log that fails it still gets its FAIL pack.
  IMPRINT_ASSIGN_OR_RETURN(AdminSession session, AdminSession::OpenUnverified(config));
  IMPRINT_ASSIGN_OR_RETURN(EvidenceFacts facts, GatherEvidence(config, session, options.order_id));
  nlohmann::json evidence = EvidenceJson(facts, Assess(facts));
  std::string json = evidence.dump(2) + "\n";
  std::string html = EvidenceHtml(evidence);

  IMPRINT_ASSIGN_OR_RETURN(CaCertificates certs, CaCertificates::Load(config));
  IMPRINT_ASSIGN_OR_RETURN(DelegatedIdentity signer,
                           LoadManifestIdentity(config, *session.hsm, certs));
  IMPRINT_ASSIGN_OR_RETURN(nlohmann::json header, SignerHeader(signer.certificate.get()));
  jose::JwsSigner jws(*signer.signer, std::move(header));
  nlohmann::json signed_files = {{"order", facts.order_id},
                                 {"verdict", evidence["verdict"]},
                                 {"sha256",
                                  {{"evidence.json", HexEncode(x509::Sha256(AsBytes(json)))},
                                   {"evidence.html", HexEncode(x509::Sha256(AsBytes(html)))}}}};
  IMPRINT_ASSIGN_OR_RETURN(nlohmann::json signature, jws.Sign(signed_files.dump()));
  IMPRINT_ASSIGN_OR_RETURN(std::string signer_chain, ReadWholeFile(ManifestSignerPath(config)));

  IMPRINT_ASSIGN_OR_RETURN(ExportDir dir, ExportDir::Prepare(options.out_dir, options.force));
  for (const auto& [name, content] : {std::pair<const char*, std::string>{"evidence.json", json},
                                      {"evidence.html", html},
                                      {"evidence.sig.json", signature.dump(2) + "\n"},
                                      {"manifest-signer.pem", signer_chain}}) {
    IMPRINT_ASSIGN_OR_RETURN(ExportFile * file, dir.Create(name));
    IMPRINT_RETURN_IF_ERROR(file->Write(content));
  }
  IMPRINT_RETURN_IF_ERROR(dir.Close());
  EvidenceResult result{evidence["verdict"].get<std::string>(), 0};
  // The pack is signed by a CA key, so it is audited (evidence.signed) before it appears; on
  // a log that failed verification the pack says FAIL and no record can be added to that log.
  if (facts.audit_verified) {
    IMPRINT_RETURN_IF_ERROR(session.VerifyBeforeWriting(config, "evidence"));
    IMPRINT_RETURN_IF_ERROR(session.Write(config, [&](WriteContext& w) -> Status {
      IMPRINT_ASSIGN_OR_RETURN(result.audit_seq, w.Audit("admin", "evidence.signed",
                                                         {{"order", facts.order_id},
                                                          {"verdict", result.verdict},
                                                          {"sha256", signed_files["sha256"]}}));
      return {};
    }));
  }
  IMPRINT_RETURN_IF_ERROR(dir.Commit());
  return result;
}

}  // namespace imprint::ca
