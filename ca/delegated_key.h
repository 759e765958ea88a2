#pragma once
// A key the CA makes in its token for one job beside issuing (OCSP responses, manifests),
// with a certificate from one of the CA's own keys kept in the state directory. Made on first
// use; the certificate is issued again when it is missing, is for another key, lacks an extended
// key usage of the profile or has less than `renew_before` left.

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ca/ca_files.h"
#include "ca/hsm.h"
#include "common/pkcs11/keygen.h"
#include "common/pkcs11/signer.h"
#include "common/x509/certificate_builder.h"
#include "common/x509/openssl_types.h"

namespace imprint::ca {

struct DelegatedKeySpec {
  const char* label = nullptr;  // CKA_LABEL of the key pair
  uint8_t id = 0;               // CKA_ID
  p11::KeyType type = p11::KeyType::kEcP256;
  std::string cert_path;  // PEM: the certificate, then `issuer_chain_pem`
  std::string what;       // "OCSP responder", for log lines
  x509::CertificateProfile profile;
  std::vector<std::pair<std::string, std::string>> subject;
  std::chrono::days renew_before{30};
  // Who certifies the key: its signer and certificate, and what follows the new certificate in
  // cert_path (the issuing CA's PEM when the issuer is not the root; empty otherwise).
  x509::Signer* issuer = nullptr;
  const X509* issuer_cert = nullptr;
  std::string issuer_chain_pem;
};

struct DelegatedIdentity {
  std::unique_ptr<p11::Pkcs11Signer> signer;
  x509::X509Ptr certificate;
};

// FAILED_PRECONDITION if the key exists but is, or ever was, extractable.
Result<DelegatedIdentity> LoadDelegatedIdentity(CaHsm& hsm, const DelegatedKeySpec& spec);

// The root key, when this token holds the one root.pem certifies; null when it does not (a CA
// made with --external-root). FAILED_PRECONDITION if it is, or ever was, extractable.
Result<std::unique_ptr<p11::Pkcs11Signer>> RootSignerInToken(CaHsm& hsm,
                                                             const CaCertificates& certs);

}  // namespace imprint::ca
