#include "factory_station/offline/reconcile.h"

#include <openssl/x509v3.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>

#include "common/file_util.h"
#include "common/offline/ocsp_delegate.h"
#include "common/pkcs11/objects.h"
#include "common/pkcs11/random.h"
#include "common/pkcs11/signer.h"
#include "common/rpc/status.h"
#include "common/x509/certificate_builder.h"
#include "common/x509/encoding.h"
#include "factory_station/journal.h"
#include "factory_station/offline/log.h"
#include "factory_station/offline/standing.h"
#include "factory_station/offline/token.h"
#include "factory_station/pending_reports.h"
#include "factory_station/station_identity.h"
#include "imprint/v1/ca.grpc.pb.h"

namespace imprint::station {
namespace {

// Entries per part: the CA takes at most 256, and a part ends at a checkpoint (at least every
// OfflineLog::kCheckpointEvery entries, and at the sealed head).
constexpr int64_t kPartEntries = 256;

struct Upload {
  imprint::v1::CertificateAuthority::Stub& stub;
  grpc::ChannelInterface& channel;
  RetryPolicy retry;

  Result<imprint::v1::ReconcileAllowanceResponse> Send(
      const imprint::v1::ReconcileAllowanceRequest& request) {
    imprint::v1::ReconcileAllowanceResponse response;
    grpc::Status status = CallWithRetry(retry, channel, [&](grpc::ClientContext& context) {
      return stub.ReconcileAllowance(&context, request, &response);
    });
    if (!status.ok()) return std::unexpected(rpc::FromGrpcStatus(status).WithContext("reconcile"));
    return response;
  }
};

// The subordinate's certificate for the CA's OCSP responder key (common/offline/ocsp_delegate.h),
// once the responder is checked to come from the CA this station enrolled with.
Result<Bytes> CertifyOcspResponder(const std::string& dir, const std::string& id,
                                   ByteView responder_der, const StationIdentity& identity,
                                   StationToken& token, p11::Pkcs11Signer& key) {
  IMPRINT_ASSIGN_OR_RETURN(auto responder, x509::ParseCertificateDer(responder_der));
  if (auto from_ca = identity.VerifyFromCa(responder.get()); !from_ca) {
    return std::unexpected(from_ca.error().WithContext("the CA's OCSP responder certificate"));
  }
  if ((X509_get_extended_key_usage(responder.get()) & XKU_OCSP_SIGN) == 0) {
    return Fail(Code::kDataLoss, "the CA's OCSP responder certificate is not for OCSP signing");
  }
  IMPRINT_ASSIGN_OR_RETURN(std::string chain_pem, ReadWholeFile(dir + "/subordinate.pem"));
  IMPRINT_ASSIGN_OR_RETURN(auto chain, x509::ParseCertificatesPem(chain_pem));
  if (chain.empty()) return Fail(Code::kDataLoss, dir + "/subordinate.pem holds no certificate");
  x509::CertificateProfile profile = offline::OcspDelegateProfile();
  IMPRINT_ASSIGN_OR_RETURN(Bytes random, p11::GenerateRandom(token.pool(), x509::kSerialBytes));
  x509::CertificateRequest request;
  request.profile = &profile;
  request.subject.name = {{"CN", "OCSP responder for allowance " + id}};
  request.public_key = X509_get0_pubkey(responder.get());
  request.serial = x509::MakeSerial(random);
  return x509::IssueCertificateDer(request, chain.front().get(), key);
}

Result<ReconciledAllowance> ReconcileOne(const std::string& dir, const std::string& id,
                                         const StationIdentity& identity, StationToken& token,
                                         Upload& upload) {
  ReconciledAllowance out;
  out.id = id;
  IMPRINT_ASSIGN_OR_RETURN(std::string label, ReadWholeFile(dir + "/key-label"));
  IMPRINT_ASSIGN_OR_RETURN(auto key,
                           p11::Pkcs11Signer::Create(token.pool(), {label, std::nullopt}));
  IMPRINT_ASSIGN_OR_RETURN(auto log, OfflineLog::Open(dir + "/log.db", id, *key));
  IMPRINT_RETURN_IF_ERROR(log->Seal());
  NotifyStep("reconcile-sealed");
  IMPRINT_ASSIGN_OR_RETURN(auto entries, log->Entries());
  IMPRINT_ASSIGN_OR_RETURN(auto checkpoints, log->Checkpoints());
  IMPRINT_ASSIGN_OR_RETURN(auto proofs, log->Proofs());
  IMPRINT_ASSIGN_OR_RETURN(auto passwords, log->SealedPasswords());
  out.entries = static_cast<int64_t>(entries.size());

  imprint::v1::ReconcileAllowanceRequest ask;
  ask.set_allowance_id(id);
  IMPRINT_ASSIGN_OR_RETURN(auto where, upload.Send(ask));
  out.reconciled_seq = where.reconciled_seq();
  if (where.revoked()) {
    // Uploaded, the log would be refused whole; the brand owner judges its devices.
    IMPRINT_RETURN_IF_ERROR(MarkRevoked(dir));
    out.revoked = true;
    return out;
  }
  if (!where.ocsp_responder_der().empty()) {
    IMPRINT_ASSIGN_OR_RETURN(
        Bytes delegate,
        CertifyOcspResponder(dir, id, AsBytes(where.ocsp_responder_der()), identity, token, *key));
    imprint::v1::ReconcileAllowanceRequest delegation;
    delegation.set_allowance_id(id);
    delegation.set_ocsp_delegate_der(std::string(delegate.begin(), delegate.end()));
    IMPRINT_ASSIGN_OR_RETURN(where, upload.Send(delegation));
    out.ocsp_delegated = where.ocsp_responder_der().empty();
    NotifyStep("reconcile-delegated");
  }
  while (out.reconciled_seq < out.entries) {
    // The part runs to the last checkpoint within reach.
    int64_t end = 0;
    for (const auto& c : checkpoints) {
      if (c.seq > out.reconciled_seq && c.seq <= out.reconciled_seq + kPartEntries) end = c.seq;
    }
    if (end == 0) return Fail(Code::kDataLoss, "the log of allowance " + id + " lacks checkpoints");
    imprint::v1::ReconcileAllowanceRequest part;
    part.set_allowance_id(id);
    for (int64_t seq = out.reconciled_seq + 1; seq <= end; ++seq) {
      const offline::LogEntry& e = entries[static_cast<size_t>(seq - 1)];
      auto* m = part.add_entries();
      m->set_seq(e.seq);
      m->set_device_id(e.device);
      m->set_serial_hex(e.serial_hex);
      m->set_certificate_der(std::string(e.certificate_der.begin(), e.certificate_der.end()));
      m->set_challenge(std::string(e.challenge.begin(), e.challenge.end()));
      m->set_issued_ms(e.issued_ms);
      m->set_hash(std::string(e.hash.begin(), e.hash.end()));
      if (auto proof = proofs.find(e.device); proof != proofs.end()) {
        m->set_proof_signature(std::string(proof->second.begin(), proof->second.end()));
      }
      if (auto sealed = passwords.find(e.device); sealed != passwords.end()) {
        const SealedPassword& p = sealed->second;
        m->set_sealed_password(std::string(p.sealed.begin(), p.sealed.end()));
        m->set_sealed_password_signature(std::string(p.signature.begin(), p.signature.end()));
      }
    }
    for (const auto& c : checkpoints) {
      if (c.seq <= out.reconciled_seq || c.seq > end) continue;
      auto* m = part.add_checkpoints();
      m->set_seq(c.seq);
      m->set_hash(std::string(c.hash.begin(), c.hash.end()));
      m->set_signature(std::string(c.signature.begin(), c.signature.end()));
    }
    IMPRINT_ASSIGN_OR_RETURN(auto answer, upload.Send(part));
    NotifyStep("reconcile-part");
    if (answer.violations_size() > 0) {
      for (const auto& v : answer.violations()) out.violations.push_back(v);
      IMPRINT_RETURN_IF_ERROR(MarkRefused(dir, out.violations));
      return out;
    }
    if (answer.reconciled_seq() <= out.reconciled_seq) {
      return Fail(Code::kInternal, "the CA made no progress on allowance " + id);
    }
    out.recorded_now += answer.recorded();
    out.reconciled_seq = answer.reconciled_seq();
  }
  IMPRINT_RETURN_IF_ERROR(ClearRefused(dir));
  return out;
}

}  // namespace

Result<ReconcileOutcome> ReconcileLogs(const ReconcileOptions& o) {
  IMPRINT_ASSIGN_OR_RETURN(StationIdentity identity, StationIdentity::Load(o.state_dir));
  std::string offline_dir = o.state_dir + "/offline";
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(offline_dir, ec)) {
    if (entry.is_directory() && std::filesystem::exists(entry.path() / "log.db")) {
      ids.push_back(entry.path().filename().string());
    }
  }
  if (o.automatic) {
    // Logs refused before, or of a revoked allowance, wait for the operator's reconcile.
    std::erase_if(ids, [&](const std::string& id) {
      std::string dir = offline_dir + "/" + id;
      return IsMarkedRefused(dir) || IsMarkedRevoked(dir);
    });
  }
  std::unique_ptr<Journal> opened;
  Journal* journal = o.journal;
  if (journal == nullptr) {
    IMPRINT_ASSIGN_OR_RETURN(opened, Journal::Open(o.state_dir + "/journal.db"));
    journal = opened.get();
  }
  IMPRINT_ASSIGN_OR_RETURN(auto pending, journal->PendingReports());
  if (ids.empty() && pending.empty()) {
    return Fail(Code::kFailedPrecondition, "no offline log in " + offline_dir +
                                               " and no report waiting for the CA: nothing to "
                                               "reconcile");
  }
  std::sort(ids.begin(), ids.end());
  IMPRINT_ASSIGN_OR_RETURN(std::string listener, identity.FindStationListener(o.ca_address));
  RetryPolicy retry;
  auto channel = identity.Connect(listener, retry);
  auto stub = imprint::v1::CertificateAuthority::NewStub(channel);
  ReconcileOutcome out;
  // Reports first: a device whose report waited is the CA's online device, not the log's.
  IMPRINT_ASSIGN_OR_RETURN(out.reports, SendPendingReports(*journal, *stub, *channel, retry));
  if (ids.empty()) return out;
  IMPRINT_ASSIGN_OR_RETURN(TokenConfig config, LoadTokenConfig(o.state_dir));
  IMPRINT_ASSIGN_OR_RETURN(auto token, StationToken::Open(config));
  Upload upload{*stub, *channel, retry};
  for (const std::string& id : ids) {
    IMPRINT_ASSIGN_OR_RETURN(auto one,
                             ReconcileOne(offline_dir + "/" + id, id, identity, *token, upload));
    out.allowances.push_back(std::move(one));
  }
  return out;
}

bool PrintReconciled(const ReconcileOutcome& outcome, std::ostream& out) {
  const SentReports& reports = outcome.reports;
  bool clean = reports.refused.empty();
  if (reports.taken > 0 || !reports.refused.empty()) {
    out << "reports that waited for the CA: " << reports.taken << " taken, "
        << reports.refused.size() << " refused\n";
    for (const std::string& r : reports.refused) out << "  refused: " << r << "\n";
  }
  for (const ReconciledAllowance& a : outcome.allowances) {
    if (a.revoked) {
      clean = false;
      out << "allowance " << a.id << ": revoked by the brand owner; " << a.entries << " logged, "
          << a.reconciled_seq
          << " reconciled before; the rest is not uploaded and nothing more is issued "
             "under it\n";
      continue;
    }
    out << "allowance " << a.id << ": " << a.entries << " logged, " << a.recorded_now
        << " recorded now, " << a.reconciled_seq << " reconciled";
    if (a.ocsp_delegated) out << ", OCSP delegated to the CA";
    if (a.violations.empty()) {
      out << (a.reconciled_seq == a.entries ? " (all)" : "") << "\n";
      continue;
    }
    clean = false;
    out << "; refused by the CA:\n";
    for (const std::string& v : a.violations) out << "  violation: " << v << "\n";
  }
  return clean;
}

}  // namespace imprint::station
