// WriteFileAtomic with two writers of one file at once (a serving CA and `crl issue` both
// publishing the CRL): each write succeeds whole, the file is always one of them, and no
// temporary file stays behind. With one shared temporary name, one writer removed or renamed
// the other's and failed ("cannot write ...crl"), seen in CI under load.

#include "common/file_util.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/temp_dir.h"

namespace imprint::testing {
namespace {

TEST_CASE("two writers of one file both succeed and leave no temporary file", "[file]") {
  TempDir dir;
  std::string path = (dir / "issuing.crl").string();
  const std::string a(4096, 'a'), b(8192, 'b');
  std::atomic<int> failures{0};
  auto writer = [&](const std::string& content) {
    for (int i = 0; i < 200; ++i) {
      if (!WriteFileAtomic(path, content, 0644)) ++failures;
    }
  };
  std::thread first(writer, a), second(writer, b);
  first.join();
  second.join();
  CHECK(failures == 0);
  auto content = ReadWholeFile(path);
  REQUIRE(content.has_value());
  CHECK((*content == a || *content == b));
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    (void)entry;
    ++files;
  }
  CHECK(files == 1);
}

}  // namespace
}  // namespace imprint::testing
