// ExportDir: the output directory rules and what a failed export leaves (nothing), with many
// files and few descriptors (an Azure export of a million devices writes 100,000 files).

#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "ca/export_files.h"
#include "tests/support/temp_dir.h"

namespace imprint::ca {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

size_t Entries(const fs::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

TEST_CASE("an export directory must be new or empty unless forced", "[export]") {
  TempDir tmp;
  std::string fresh = (tmp / "a" / "b").string();
  REQUIRE(ExportDir::Prepare(fresh, false).has_value());
  CHECK_FALSE(fs::exists(fresh));  // made, and removed again: nothing was committed
  fs::create_directories(tmp / "full");
  testing::WriteFile(tmp / "full" / "x", "x");
  auto refused = ExportDir::Prepare((tmp / "full").string(), false);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code() == Code::kFailedPrecondition);
  CHECK(ExportDir::Prepare((tmp / "full").string(), true).has_value());
  auto file = ExportDir::Prepare((tmp / "full" / "x").string(), true);
  REQUIRE_FALSE(file.has_value());
  CHECK(file.error().message().find("not a directory") != std::string::npos);
}

TEST_CASE("files appear on commit only, and a failed export leaves none", "[export]") {
  TempDir tmp;
  std::string out = (tmp / "out").string();
  {
    auto dir = ExportDir::Prepare(out, false);
    REQUIRE(dir.has_value());
    ExportFile* f = dir->Create("a.json").value();
    REQUIRE(f->Write("{}").has_value());
    CHECK_FALSE(fs::exists(out + "/a.json"));
    CHECK(Entries(out) == 1);  // the temporary name only
  }  // not committed
  CHECK_FALSE(fs::exists(out));
  auto dir = ExportDir::Prepare(out, false);
  REQUIRE(dir.has_value());
  REQUIRE(dir->Create("a.json").value()->Write("{\"a\": 1}").has_value());
  auto paths = dir->Commit();
  REQUIRE(paths.has_value());
  CHECK(*paths == std::vector<std::string>{out + "/a.json"});
  CHECK(testing::ReadFile(out + "/a.json") == "{\"a\": 1}");
  CHECK(Entries(out) == 1);
}

TEST_CASE("thousands of files need no more descriptors than one", "[export]") {
  rlimit old{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &old) == 0);
  rlimit low = old;
  low.rlim_cur = 64;
  REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
  TempDir tmp;
  std::string out = (tmp / "out").string();
  bool ok = true;
  {
    auto dir = ExportDir::Prepare(out, false);
    for (int i = 0; ok && i < 2000; ++i) {
      auto f = dir->Create("f" + std::to_string(i) + ".json");
      ok = f.has_value() && (*f)->Write("[]").has_value() && (*f)->Close().has_value();
    }
    ok = ok && dir->Commit().has_value();
  }
  setrlimit(RLIMIT_NOFILE, &old);
  REQUIRE(ok);
  CHECK(Entries(out) == 2000);
}

TEST_CASE("CSV fields are quoted as RFC 4180 says", "[evidence]") {
  CHECK(CsvField("dev-1") == "dev-1");
  CHECK(CsvField("a,b") == "\"a,b\"");
  CHECK(CsvField("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(CsvField("two\r\nlines") == "\"two\r\nlines\"");
  CHECK(CsvField("") == "");
}

}  // namespace
}  // namespace imprint::ca
