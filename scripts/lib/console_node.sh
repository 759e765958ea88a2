# console_node DIR: playwright-core from tests/console/package-lock.json installed in DIR
# (npm ci, skipped when DIR already holds that lockfile's install). Never downloads a browser:
# the tests and the bench drive Debian's /usr/bin/chromium.
console_node() {
  local dir=$1 src
  src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../tests/console" && pwd)
  mkdir -p "$dir"
  if ! cmp -s "$src/package-lock.json" "$dir/package-lock.json" 2>/dev/null ||
     [[ ! -d $dir/node_modules/playwright-core ]]; then
    cp "$src/package.json" "$src/package-lock.json" "$dir/"
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  fi
}
