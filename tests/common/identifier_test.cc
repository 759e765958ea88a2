#include "common/identifier.h"

#include <catch2/catch.hpp>

namespace imprint {
namespace {

TEST_CASE("identifiers: 1-64 of A-Z a-z 0-9 . _ : -, never . or ..", "[identifier]") {
  for (const char* ok : {"dev-1", "SIM_00001", "urn:x:1", "a.b", "A", "..."}) {
    INFO(ok);
    CHECK(IsValidIdentifier(ok));
  }
  CHECK(IsValidIdentifier(std::string(64, 'x')));
  for (std::string bad :
       {std::string(), std::string(65, 'x'), std::string("."), std::string(".."),
        std::string("a/b"), std::string("a b"), std::string("dev\x1b[2J"), std::string("dev\n"),
        std::string("d\0v", 3), std::string("caf\xc3\xa9")}) {
    INFO(EscapeForDisplay(bad));
    CHECK_FALSE(IsValidIdentifier(bad));
  }
}

TEST_CASE("text from outside is shown with every non-printable byte escaped", "[identifier]") {
  CHECK(EscapeForDisplay("plain text: 1-2") == "plain text: 1-2");
  CHECK(EscapeForDisplay("id\x1b[2J\nsummary: 999") == "id\\x1b[2J\\x0asummary: 999");
  CHECK(EscapeForDisplay("a\\x1b") == "a\\x5cx1b");  // a literal backslash cannot fake one
  CHECK(EscapeForDisplay(std::string("\0\r\x7f\xff", 4)) == "\\x00\\x0d\\x7f\\xff");
  CHECK(EscapeForDisplay(std::string(300, 'a'), 10) == "aaaaaaaaaa...");
}

}  // namespace
}  // namespace imprint
