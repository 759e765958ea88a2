// A secret sealed to the CA (common/offline/sealed_secret.h): opens for its own binding and key
// only, fails closed when anything was changed, and python3-cryptography opens it from the
// documented format.

#include "common/offline/sealed_secret.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <catch2/catch.hpp>
#include <string>

#include "common/file_util.h"
#include "tests/support/build_paths.h"
#include "tests/support/temp_dir.h"

namespace imprint::offline {
namespace {

constexpr SealedFor kFor{"0123456789abcdef0123456789abcdef", "SIM-00001", "default_password"};

DeriveShared With(EVP_PKEY* key) {
  return [key](ByteView point) { return DeriveSharedInSoftware(key, point); };
}

TEST_CASE("a sealed password opens with its key and binding, and with nothing else", "[offline]") {
  x509::PkeyPtr ca(EVP_EC_gen("P-256"));
  REQUIRE(ca);
  auto sealed = SealSecret(ca.get(), kFor, "Tr7-qz9-Kw2-hh4");
  REQUIRE(sealed.has_value());
  CHECK(sealed->size() == 1 + 65 + 12 + 15 + 16);
  auto opened = OpenSealedSecret(*sealed, kFor, With(ca.get()));
  REQUIRE(opened.has_value());
  CHECK(opened->Reveal() == "Tr7-qz9-Kw2-hh4");
  // Sealed twice, never the same bytes (a fresh ephemeral key each time).
  CHECK(SealSecret(ca.get(), kFor, "Tr7-qz9-Kw2-hh4").value() != *sealed);
  // One sealer for a run: one ephemeral point for many values, each its own IV, each opening
  // only for its own binding.
  auto sealer = Sealer::For(ca.get());
  REQUIRE(sealer.has_value());
  auto a = sealer->Seal(kFor, "same-password").value();
  auto b = sealer->Seal(kFor, "same-password").value();
  SealedFor other_device{kFor.allowance, "SIM-00002", kFor.name};
  auto c = sealer->Seal(other_device, "same-password").value();
  CHECK(Bytes(a.begin() + 1, a.begin() + 66) == Bytes(c.begin() + 1, c.begin() + 66));
  CHECK(Bytes(a.begin() + 66, a.begin() + 78) != Bytes(b.begin() + 66, b.begin() + 78));
  CHECK(OpenSealedSecret(b, kFor, With(ca.get())).value().Reveal() == "same-password");
  CHECK(OpenSealedSecret(c, other_device, With(ca.get())).value().Reveal() == "same-password");
  CHECK(OpenSealedSecret(c, kFor, With(ca.get())).error().code() == Code::kDataLoss);

  auto refused = [&](const Bytes& value, const SealedFor& binding, EVP_PKEY* key) {
    auto result = OpenSealedSecret(value, binding, With(key));
    REQUIRE_FALSE(result.has_value());
    return result.error().code();
  };
  CHECK(refused(*sealed, {kFor.allowance, "SIM-00002", kFor.name}, ca.get()) == Code::kDataLoss);
  CHECK(refused(*sealed, {"ffffffffffffffffffffffffffffffff", kFor.device, kFor.name}, ca.get()) ==
        Code::kDataLoss);
  CHECK(refused(*sealed, {kFor.allowance, kFor.device, "wifi_psk"}, ca.get()) == Code::kDataLoss);
  x509::PkeyPtr other(EVP_EC_gen("P-256"));
  CHECK(refused(*sealed, kFor, other.get()) == Code::kDataLoss);
  for (size_t at : {size_t{1}, size_t{40}, size_t{70}, size_t{80}, sealed->size() - 1}) {
    INFO("byte " << at << " changed");
    Bytes changed = *sealed;
    changed[at] ^= 0x01;
    Code code = refused(changed, kFor, ca.get());
    // A changed point may leave the curve: refused as malformed rather than as not opening.
    CHECK((code == Code::kDataLoss || code == Code::kInvalidArgument));
  }
  Bytes version = *sealed;
  version[0] = 2;
  CHECK(refused(version, kFor, ca.get()) == Code::kInvalidArgument);
  CHECK(refused(Bytes(sealed->begin(), sealed->begin() + 90), kFor, ca.get()) ==
        Code::kInvalidArgument);
  CHECK(SealSecret(ca.get(), kFor, "").error().code() == Code::kInvalidArgument);
  CHECK(SealSecret(ca.get(), kFor, std::string(kMaxSealedValue + 1, 'x')).error().code() ==
        Code::kInvalidArgument);
  x509::PkeyPtr rsa(EVP_RSA_gen(2048));
  CHECK(SealSecret(rsa.get(), kFor, "x").error().code() == Code::kInvalidArgument);
  // What the station signs names the binding and the sealed bytes.
  CHECK(SealedSecretMessage(kFor, *sealed) != SealedSecretMessage(kFor, version));
  CHECK(SealedSecretMessage(kFor, *sealed) !=
        SealedSecretMessage({kFor.allowance, "SIM-00002", kFor.name}, *sealed));
}

TEST_CASE("python3-cryptography opens a sealed password from the documented format", "[offline]") {
  testing::TempDir dir;
  x509::PkeyPtr ca(EVP_EC_gen("P-256"));
  BIO* bio = BIO_new(BIO_s_mem());
  REQUIRE(PEM_write_bio_PrivateKey(bio, ca.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  testing::WriteFile(dir.path() / "ca.pem", pem, 0600);
  auto sealed = SealSecret(ca.get(), kFor, "Tr7-qz9-Kw2-hh4").value();
  testing::WriteFile(dir.path() / "sealed.hex", HexEncode(sealed), 0600);
  std::string open = "/usr/bin/python3 " + testing::SourceDir() + "/tests/common/open_sealed.py " +
                     (dir.path() / "sealed.hex").string() + " " + (dir.path() / "ca.pem").string() +
                     " " + std::string(kFor.allowance) + " ";
  std::string out;
  REQUIRE(testing::RunCommand(open + "SIM-00001 default_password 2>&1", &out) == 0);
  CHECK(out == "Tr7-qz9-Kw2-hh4\n");
  CHECK(testing::RunCommand(open + "SIM-00002 default_password 2>&1", &out) == 1);
  CHECK(out == "does not open\n");
}

}  // namespace
}  // namespace imprint::offline
