#include "factory_station/offline/fetch.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/file_util.h"
#include "common/identifier.h"
#include "common/pkcs11/keygen.h"
#include "common/pkcs11/objects.h"
#include "common/pkcs11/random.h"
#include "common/pkcs11/signer.h"
#include "common/rpc/status.h"
#include "common/utc_time.h"
#include "common/x509/chain.h"
#include "common/x509/csr.h"
#include "common/x509/encoding.h"
#include "factory_station/offline/token.h"
#include "factory_station/station_identity.h"
#include "imprint/v1/ca.grpc.pb.h"

namespace imprint::station {
namespace {

std::string OfflineDir(const std::string& dir) { return dir + "/offline"; }

// The label of the order's key in the token: the one an earlier fetch made, or a new one
// (written down before the key is made, so a crash leaves no key nobody knows of).
Result<std::string> KeyLabel(const std::string& dir, const std::string& order, StationToken& token,
                             bool fresh) {
  std::string path = OfflineDir(dir) + "/" + order + ".key";
  if (!fresh) {
    if (auto label = ReadWholeFile(path); label) return *label;
  }
  IMPRINT_ASSIGN_OR_RETURN(Bytes random, p11::GenerateRandom(token.pool(), 4));
  std::string label = "imprint-allowance-" + order + "-" + HexEncode(random);
  IMPRINT_RETURN_IF_ERROR(WriteFileAtomic(path, label, 0600));
  return label;
}

// The token's key under `label`, made if missing, refused if it can leave the token.
Result<std::unique_ptr<p11::Pkcs11Signer>> TokenKey(StationToken& token, const std::string& label) {
  p11::ObjectRef ref{label, std::nullopt};
  auto signer = p11::Pkcs11Signer::Create(token.pool(), ref);
  if (!signer && signer.error().code() == Code::kNotFound) {
    {
      IMPRINT_ASSIGN_OR_RETURN(auto lease, token.pool().Acquire());
      IMPRINT_RETURN_IF_ERROR(p11::GenerateKeyPair(lease, p11::KeyType::kEcP256, label, Bytes{}));
    }
    signer = p11::Pkcs11Signer::Create(token.pool(), ref);
  }
  if (!signer) return std::unexpected(signer.error());
  IMPRINT_ASSIGN_OR_RETURN(auto lease, token.pool().Acquire());
  IMPRINT_RETURN_IF_ERROR(p11::RequireKeyStaysInToken(lease, CKO_PRIVATE_KEY, ref));
  return signer;
}

Status Refuse(const std::string& why) {
  return Fail(Code::kDataLoss, "the CA's answer to fetch was refused: " + why);
}

// Everything the answer claims, checked against what the station knows: its root, its key,
// its order.
Result<offline::SignedAllowance> CheckAnswer(const imprint::v1::FetchAllowanceResponse& r,
                                             const StationIdentity& identity,
                                             const p11::Pkcs11Signer& key,
                                             const std::string& order) {
  IMPRINT_ASSIGN_OR_RETURN(Bytes root_der, x509::CertificateToDer(identity.root()));
  if (r.chain_der_size() != 1 || r.chain_der(0) != std::string(root_der.begin(), root_der.end())) {
    return std::unexpected(Refuse("the chain is not the root this station enrolled with").error());
  }
  IMPRINT_ASSIGN_OR_RETURN(auto sub,
                           x509::ParseCertificateDer(AsBytes(r.subordinate_certificate_der())));
  if (auto chained = x509::VerifyChain(sub.get(), {}, identity.root()); !chained) {
    return std::unexpected(Refuse("subordinate certificate: " + chained.error().message()).error());
  }
  if (EVP_PKEY_eq(X509_get0_pubkey(sub.get()), key.public_key()) != 1) {
    return std::unexpected(
        Refuse("the subordinate certificate is not for this token's key").error());
  }
  auto allowance = offline::VerifySignedAllowance(r.signed_allowance(), identity.root());
  if (!allowance) return std::unexpected(Refuse(allowance.error().message()).error());
  IMPRINT_ASSIGN_OR_RETURN(Bytes spki_sha256, x509::SpkiSha256(key.public_key()));
  if (allowance->order != order || allowance->subordinate_spki_sha256 != spki_sha256 ||
      allowance->id != r.allowance_id()) {
    return std::unexpected(Refuse("the signed allowance names another order, key or id").error());
  }
  return allowance;
}

Status Keep(const std::string& dir, const imprint::v1::FetchAllowanceResponse& r,
            const offline::SignedAllowance& allowance, const std::string& key_label) {
  std::string at = OfflineDir(dir) + "/" + allowance.id;
  IMPRINT_RETURN_IF_ERROR(MakePrivateDirectory(at, 0700));
  IMPRINT_RETURN_IF_ERROR(WriteFileAtomic(at + "/key-label", key_label, 0600));
  std::string chain;
  for (const std::string* der : {&r.subordinate_certificate_der(), &r.chain_der(0)}) {
    IMPRINT_ASSIGN_OR_RETURN(std::string pem, x509::CertificateDerToPem(AsBytes(*der)));
    chain += pem;
  }
  IMPRINT_RETURN_IF_ERROR(WriteFileAtomic(at + "/subordinate.pem", chain, 0644));
  IMPRINT_RETURN_IF_ERROR(WriteFileAtomic(at + "/allowance.jws", r.signed_allowance(), 0644));
  return WriteFileAtomic(OfflineDir(dir) + "/" + allowance.order + ".current", allowance.id, 0600);
}

}  // namespace

Result<FetchedAllowance> FetchAllowance(const FetchOptions& o) {
  if (!IsValidIdentifier(o.order)) return Fail(Code::kInvalidArgument, "invalid order id");
  IMPRINT_ASSIGN_OR_RETURN(StationIdentity identity, StationIdentity::Load(o.state_dir));
  IMPRINT_ASSIGN_OR_RETURN(TokenConfig config, LoadTokenConfig(o.state_dir));
  IMPRINT_ASSIGN_OR_RETURN(auto token, StationToken::Open(config));
  IMPRINT_RETURN_IF_ERROR(MakePrivateDirectory(OfflineDir(o.state_dir), 0700));
  IMPRINT_ASSIGN_OR_RETURN(std::string listener, identity.FindStationListener(o.ca_address));
  RetryPolicy retry;
  auto channel = identity.Connect(listener, retry);
  auto stub = imprint::v1::CertificateAuthority::NewStub(channel);

  // A key an earlier allowance used is never certified again: then a fresh key, once.
  for (bool fresh : {false, true}) {
    IMPRINT_ASSIGN_OR_RETURN(std::string label, KeyLabel(o.state_dir, o.order, *token, fresh));
    IMPRINT_ASSIGN_OR_RETURN(auto key, TokenKey(*token, label));
    IMPRINT_ASSIGN_OR_RETURN(Bytes csr, x509::BuildCsr(*key, {{"CN", o.order}}));
    imprint::v1::FetchAllowanceRequest request;
    request.set_order_id(o.order);
    request.set_csr_der(std::string(csr.begin(), csr.end()));
    imprint::v1::FetchAllowanceResponse response;
    grpc::Status status = CallWithRetry(retry, *channel, [&](grpc::ClientContext& context) {
      return stub->FetchAllowance(&context, request, &response);
    });
    if (!status.ok()) {
      Error error = rpc::FromGrpcStatus(status);
      if (!fresh && error.code() == Code::kFailedPrecondition &&
          error.message().starts_with(offline::kKeyUsedBeforeMessage)) {
        continue;
      }
      return std::unexpected(error.WithContext("allowance fetch"));
    }
    IMPRINT_ASSIGN_OR_RETURN(offline::SignedAllowance allowance,
                             CheckAnswer(response, identity, *key, o.order));
    std::string kept = OfflineDir(o.state_dir) + "/" + allowance.id + "/allowance.jws";
    auto before = ReadWholeFile(kept);
    bool again = before && *before == response.signed_allowance();
    IMPRINT_RETURN_IF_ERROR(Keep(o.state_dir, response, allowance, label));
    return FetchedAllowance{std::move(allowance), label, again};
  }
  return Fail(Code::kInternal, "unreachable");
}

}  // namespace imprint::station
