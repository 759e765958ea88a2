#include "common/pkcs11/uri.h"

#include <catch2/catch.hpp>

namespace imprint::p11 {
namespace {

TEST_CASE("an RFC 7512 URI yields token, object, id, type and pin-source", "[uri]") {
  auto uri = Uri::Parse(
      "pkcs11:token=imprint%20ca;object=ca-issuing;id=%01%02%ff;type=private"
      "?pin-source=file:/etc/imprint/ca.pin&module-path=/usr/lib/softhsm/libsofthsm2.so");
  REQUIRE(uri.has_value());
  CHECK(uri->token == "imprint ca");
  CHECK(uri->object == "ca-issuing");
  CHECK(uri->id == Bytes{0x01, 0x02, 0xff});
  CHECK(uri->type == CKO_PRIVATE_KEY);
  CHECK(uri->pin_source == "/etc/imprint/ca.pin");
  CHECK(uri->module_path == "/usr/lib/softhsm/libsofthsm2.so");
  CHECK_FALSE(uri->serial.has_value());
}

TEST_CASE("an empty pkcs11 URI matches anything", "[uri]") {
  auto uri = Uri::Parse("pkcs11:");
  REQUIRE(uri.has_value());
  CHECK_FALSE(uri->token.has_value());
}

TEST_CASE("malformed or unsafe pkcs11 URIs are rejected", "[uri]") {
  for (const char* bad :
       {"pkcs12:token=x", "token=x", "pkcs11:token=%4", "pkcs11:token=%zz", "pkcs11:colour=blue",
        "pkcs11:token=x?pin-value=1234", "pkcs11:type=secret", "pkcs11:slot-id=abc", "pkcs11:=x",
        "pkcs11:token"}) {
    INFO(bad);
    auto uri = Uri::Parse(bad);
    REQUIRE_FALSE(uri.has_value());
    CHECK(uri.error().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("vendor attributes and slot ids are accepted", "[uri]") {
  auto uri = Uri::Parse("pkcs11:x-vendor=1;slot-id=7;serial=abc");
  REQUIRE(uri.has_value());
  CHECK(uri->slot_id == 7u);
  CHECK(uri->serial == "abc");
}

}  // namespace
}  // namespace imprint::p11
