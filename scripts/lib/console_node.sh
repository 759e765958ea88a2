# node_packages SRC DIR MODULE: the npm packages of SRC's package-lock.json installed in DIR
# (npm ci, skipped when DIR already holds that lockfile's install, MODULE being there). Nothing
# is resolved anew: the lockfile pins every package and its integrity hash.
node_packages() {
  local src=$1 dir=$2 module=$3
  mkdir -p "$dir"
  if ! cmp -s "$src/package-lock.json" "$dir/package-lock.json" 2>/dev/null ||
     [[ ! -d $dir/node_modules/$module ]]; then
    cp "$src/package.json" "$src/package-lock.json" "$dir/"
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# console_node DIR: playwright-core from tests/console/package-lock.json installed in DIR.
# Never downloads a browser: the tests and the bench drive Debian's /usr/bin/chromium.
console_node() {
  node_packages "$(cd "$(dirname "${BASH_SOURCE[0]}")/../../tests/console" && pwd)" "$1" \
    playwright-core
}

# matter_node DIR: matter.js (@matter/general, @matter/protocol, @matter/types) from
# tests/matter/package-lock.json installed in DIR: the independent Matter stack the Matter
# tests and the bench check imprint's output with, run by Node offline.
matter_node() {
  node_packages "$(cd "$(dirname "${BASH_SOURCE[0]}")/../../tests/matter" && pwd)" "$1" \
    @matter/protocol
}

# labels_node DIR: zpl-renderer-js from tests/labels/package-lock.json installed in DIR (the
# label tests render ZPL with it and read the barcodes back with zbarimg).
labels_node() {
  node_packages "$(cd "$(dirname "${BASH_SOURCE[0]}")/../../tests/labels" && pwd)" "$1" \
    zpl-renderer-js
}
