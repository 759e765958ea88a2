#pragma once
// The console's static files (ca/console/web/), built into the binary by cmake/embed_assets.cmake:
// factory networks are often offline, so nothing is fetched from elsewhere.

#include <span>
#include <string_view>

namespace imprint::ca {

struct ConsoleAsset {
  std::string_view path;  // "/index.html"
  std::string_view content;
  const char* type;
};

std::span<const ConsoleAsset> ConsoleAssets();

}  // namespace imprint::ca
