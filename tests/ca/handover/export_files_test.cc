// ExportDir: the output directory rules and what a failed export leaves (nothing), with many
// files and few descriptors (an Azure export of a million devices writes 100,000 files).

#include "ca/handover/export_files.h"

#include <sys/resource.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

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

TEST_CASE("a symlink planted at a temporary name is replaced, never followed", "[export]") {
  TempDir tmp;
  std::string out = (tmp / "out").string();
  fs::create_directories(out);
  testing::WriteFile(tmp / "victim", "keep me");
  fs::create_symlink(tmp / "victim", out + "/.devices.csv.tmp-" + std::to_string(::getpid()));
  auto dir = ExportDir::Prepare(out, true);
  REQUIRE(dir.has_value());
  ExportFile* f = dir->Create("devices.csv").value();
  REQUIRE(f->Write("device_id\n").has_value());
  REQUIRE(dir->Close().has_value());
  REQUIRE(dir->Commit().has_value());
  CHECK(testing::ReadFile(tmp / "victim") == "keep me");
  CHECK(testing::ReadFile(fs::path(out) / "devices.csv") == "device_id\n");
  CHECK_FALSE(fs::is_symlink(fs::path(out) / "devices.csv"));
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
  }                            // not committed
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

TEST_CASE("each file's digest is of the bytes written, however they were split", "[export]") {
  TempDir tmp;
  auto dir = ExportDir::Prepare((tmp / "out").string(), false);
  REQUIRE(dir.has_value());
  ExportFile* split = dir->Create("split.txt").value();
  REQUIRE(split->Write("ab").has_value());
  REQUIRE(split->Write("").has_value());
  REQUIRE(split->Write("c").has_value());
  REQUIRE(dir->Create("empty.txt").has_value());
  auto hashes = dir->Close();
  REQUIRE(hashes.has_value());
  // FIPS 180-2's "abc" example and the digest of no bytes.
  CHECK(hashes->at("split.txt") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hashes->at("empty.txt") ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  REQUIRE(dir->Commit().has_value());  // Close, then Commit: each file closed once
  CHECK(testing::ReadFile((tmp / "out" / "split.txt").string()) == "abc");
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
