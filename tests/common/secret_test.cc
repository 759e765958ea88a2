#include "common/secret.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>

#include "common/secret_json.h"
#include "tests/support/temp_dir.h"

namespace imprint {
namespace {

using testing::TempDir;
using testing::WriteFile;

TEST_CASE("a PIN file with mode 0600 is read without its trailing newline", "[secret]") {
  TempDir dir;
  WriteFile(dir / "pin", "s3cret-pin\n", 0600);
  auto pin = ReadPinFile((dir / "pin").string());
  REQUIRE(pin.has_value());
  CHECK(pin->Reveal() == "s3cret-pin");
  WriteFile(dir / "pin2", "other", 0400);
  CHECK(ReadPinFile((dir / "pin2").string())->Reveal() == "other");
}

TEST_CASE("a PIN file readable by group or others is refused without revealing the PIN",
          "[secret]") {
  TempDir dir;
  for (int mode : {0644, 0640, 0604, 0660}) {
    WriteFile(dir / "pin", "s3cret-pin\n", mode);
    ::chmod((dir / "pin").c_str(), static_cast<mode_t>(mode));
    auto pin = ReadPinFile((dir / "pin").string());
    REQUIRE_FALSE(pin.has_value());
    CHECK(pin.error().code() == Code::kPermissionDenied);
    CHECK(pin.error().message().find("s3cret") == std::string::npos);
  }
}

TEST_CASE("missing, empty and non-regular PIN files get distinct clear errors", "[secret]") {
  TempDir dir;
  CHECK(ReadPinFile((dir / "absent").string()).error().code() == Code::kNotFound);
  WriteFile(dir / "empty", "\n", 0600);
  CHECK(ReadPinFile((dir / "empty").string()).error().code() == Code::kInvalidArgument);
  CHECK(ReadPinFile(dir.path().string()).error().code() == Code::kInvalidArgument);
}

TEST_CASE("a PIN can come from an environment variable", "[secret]") {
  ::setenv("IMPRINT_TEST_PIN", "env-pin", 1);
  CHECK(ReadPinEnv("IMPRINT_TEST_PIN")->Reveal() == "env-pin");
  ::unsetenv("IMPRINT_TEST_PIN");
  CHECK(ReadPinEnv("IMPRINT_TEST_PIN").error().code() == Code::kNotFound);
}

TEST_CASE("a moved-from secret is empty", "[secret]") {
  Secret a(std::string("a-long-secret-value-beyond-small-string-size"));
  Secret b(std::move(a));
  CHECK(a.empty());  // NOLINT(bugprone-use-after-move): the contract under test
  CHECK(b.Reveal() == "a-long-secret-value-beyond-small-string-size");
}

TEST_CASE("a secret taken from a string leaves nothing of it behind", "[secret]") {
  for (std::string value : {std::string("pw-short"), std::string(100, 'k')}) {
    std::string source = value;
    const char* buffer = source.data();
    size_t capacity = source.capacity();
    Secret secret(std::move(source));
    CHECK(secret.Reveal() == value);
    CHECK(source.empty());  // NOLINT(bugprone-use-after-move): the contract under test
    // The source's own buffer (inline for short strings) no longer holds a byte of it.
    CHECK(source.data() == buffer);
    CHECK(std::string_view(buffer, capacity).find(value.substr(0, 4)) == std::string_view::npos);
  }
  std::string kept = "not ours";
  CHECK(Secret::CopyOf(kept).Reveal() == "not ours");
  CHECK(kept == "not ours");
}

TEST_CASE("JSON with secrets: the secrets are in the text and only there", "[secret]") {
  Secret password(std::string("p\"w\\1"));
  Secret pin(std::string("1234"));
  nlohmann::json fields = {{"order", "PO-1"}, {"n", 3}};
  auto flat = JsonWithSecrets(fields, "", {{"default_password", &password}});
  REQUIRE(flat.has_value());
  CHECK(flat->Reveal().back() == '\n');
  auto parsed = nlohmann::json::parse(flat->Reveal());
  CHECK(parsed == nlohmann::json{{"order", "PO-1"}, {"n", 3}, {"default_password", "p\"w\\1"}});

  auto nested = JsonWithSecrets(fields, "secrets", {{"a", &password}, {"b", &pin}});
  REQUIRE(nested.has_value());
  CHECK(nlohmann::json::parse(nested->Reveal())["secrets"] ==
        nlohmann::json{{"a", "p\"w\\1"}, {"b", "1234"}});
  auto empty = JsonWithSecrets(nlohmann::json::object(), "", {{"x", &pin}});
  CHECK(nlohmann::json::parse(empty->Reveal()) == nlohmann::json{{"x", "1234"}});

  Secret control(std::string("a\nb"));
  auto refused = JsonWithSecrets(fields, "", {{"bad", &control}});
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().message().find("a\nb") == std::string::npos);
}

}  // namespace
}  // namespace imprint
