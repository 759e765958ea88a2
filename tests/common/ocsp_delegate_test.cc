// The OCSP delegate's checks (common/offline/ocsp_delegate.h): the CA keeps a station's
// certificate for its responder key only when the allowance's subordinate signed it, for that
// key, as an OCSP-signing leaf that ends no later than the subordinate. Each refusal below is a
// delegate a station (or anyone who reached the RPC) could send instead.

#include "common/offline/ocsp_delegate.h"

#include <catch2/catch.hpp>
#include <chrono>

#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"
#include "tests/common/x509_test_util.h"

namespace imprint::testing {
namespace {

using std::chrono::hours;
using std::chrono::system_clock;

struct Delegation {
  x509::PkeyPtr sub_key = TestKey("P-256");
  std::unique_ptr<x509::EvpSigner> sub_signer =
      x509::EvpSigner::Create(x509::ShareKey(sub_key.get())).value();
  system_clock::time_point sub_end = system_clock::now() + hours(72);
  x509::X509Ptr subordinate = MakeSubordinate();
  x509::PkeyPtr responder_key = TestKey("P-256");
  x509::X509Ptr responder =
      Issue(offline::OcspDelegateProfile(), "CA responder", responder_key.get(), nullptr,
            *x509::EvpSigner::Create(x509::ShareKey(responder_key.get())).value());

  // A CA named as the subordinate is, for `key`.
  x509::X509Ptr MakeSubordinate(EVP_PKEY* key = nullptr, x509::Signer* signer = nullptr) {
    x509::CertificateProfile profile = IssuingProfile();
    x509::CertificateRequest request;
    request.profile = &profile;
    request.subject.name = {{"CN", "cm-line-3"}, {"OU", "PO-1"}};
    request.public_key = key ? key : sub_key.get();
    request.serial = TestSerial();
    request.not_after = sub_end;
    return x509::IssueCertificate(request, nullptr, signer ? *signer : *sub_signer).value();
  }

  // A delegate for `key`, signed by `signer` in the subordinate's name, with `profile`.
  Bytes Make(const x509::CertificateProfile& profile, EVP_PKEY* key, x509::Signer& signer,
             system_clock::time_point end, const X509* issuer = nullptr) const {
    x509::CertificateRequest request;
    request.profile = &profile;
    request.subject.name = {{"CN", "OCSP responder for allowance a1"}};
    request.public_key = key;
    request.serial = TestSerial();
    request.not_after = end;
    return x509::IssueCertificateDer(request, issuer ? issuer : subordinate.get(), signer).value();
  }
  Bytes Good() const {
    return Make(offline::OcspDelegateProfile(), X509_get0_pubkey(responder.get()), *sub_signer,
                sub_end);
  }
  Status Check(const Bytes& der) const {
    return offline::CheckOcspDelegate(der, subordinate.get(), responder.get());
  }
};

std::string Why(const Status& s) { return s ? "accepted" : s.error().message(); }

TEST_CASE("an OCSP delegate from the subordinate for the CA's responder key is kept", "[ocsp]") {
  Delegation d;
  CHECK(Why(d.Check(d.Good())) == "accepted");
  // Past the subordinate's end, as a station signs it: a renewed subordinate (same key and name)
  // carries it on (docs/offline.md, "Validity").
  CHECK(Why(d.Check(d.Make(offline::OcspDelegateProfile(), X509_get0_pubkey(d.responder.get()),
                           *d.sub_signer, d.sub_end + hours(24 * 365)))) == "accepted");
}

TEST_CASE("OCSP delegates a station could send instead are refused, each saying why", "[ocsp]") {
  Delegation d;
  auto other_key = TestKey("P-256");
  auto other_signer = x509::EvpSigner::Create(x509::ShareKey(other_key.get())).value();
  x509::CertificateProfile server = offline::OcspDelegateProfile();
  server.extended_key_usage = {"OCSPSigning", "serverAuth"};
  x509::CertificateProfile ca = IssuingProfile();
  ca.extended_key_usage = {"OCSPSigning"};
  EVP_PKEY* responder = X509_get0_pubkey(d.responder.get());

  // Signed by another key in the subordinate's name.
  x509::X509Ptr impostor = d.MakeSubordinate(other_key.get(), other_signer.get());
  CHECK_THAT(Why(d.Check(d.Make(offline::OcspDelegateProfile(), responder, *other_signer, d.sub_end,
                                impostor.get()))),
             Catch::Contains("not signed by the subordinate CA's key"));
  // For a key that is not the CA's responder key: a station's own responder.
  CHECK_THAT(Why(d.Check(d.Make(offline::OcspDelegateProfile(), other_key.get(), *d.sub_signer,
                                d.sub_end))),
             Catch::Contains("not for this CA's OCSP responder key"));
  CHECK_THAT(Why(d.Check(d.Make(server, responder, *d.sub_signer, d.sub_end))),
             Catch::Contains("not OCSPSigning alone"));
  CHECK_THAT(Why(d.Check(d.Make(ca, responder, *d.sub_signer, d.sub_end))),
             Catch::Contains("a CA certificate"));
  // Another issuer's certificate, and bytes that are no certificate.
  CHECK_THAT(Why(d.Check(x509::CertificateToDer(d.responder.get()).value())),
             Catch::Contains("its issuer is not the allowance's subordinate CA"));
  CHECK_THAT(Why(d.Check(Bytes{0x30, 0x03, 0x02, 0x01, 0x01})),
             Catch::Contains("not a certificate"));
  CHECK_THAT(Why(d.Check(Bytes(5000, 0x30))), Catch::Contains("larger than a certificate"));
}

}  // namespace
}  // namespace imprint::testing
