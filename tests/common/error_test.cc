#include "common/error.h"

#include <catch2/catch.hpp>

namespace imprint {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Fail(Code::kInvalidArgument, "odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  IMPRINT_ASSIGN_OR_RETURN(int half, Half(x));
  IMPRINT_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

TEST_CASE("error codes are gRPC's canonical numbers and names", "[error]") {
  CHECK(static_cast<int>(Code::kInvalidArgument) == 3);
  CHECK(static_cast<int>(Code::kUnavailable) == 14);
  CHECK(static_cast<int>(Code::kUnauthenticated) == 16);
  CHECK(CodeName(Code::kResourceExhausted) == "RESOURCE_EXHAUSTED");
  CHECK(Error(Code::kNotFound, "no order").ToString() == "NOT_FOUND: no order");
  CHECK(Error(Code::kNotFound, "x").WithContext("load").message() == "load: x");
}

TEST_CASE("assign-or-return propagates the first error", "[error]") {
  CHECK(Quarter(8).value() == 2);
  auto odd = Quarter(6);
  REQUIRE_FALSE(odd.has_value());
  CHECK(odd.error().code() == Code::kInvalidArgument);
}

}  // namespace
}  // namespace imprint
