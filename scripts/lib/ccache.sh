# Source it: sets `compiler_launcher` to the cmake arguments that put ccache in front of the
# compilers when it is installed (scripts/install-deps.sh installs it), else to nothing. Paths
# are hashed relative to the checkout, so a second clone of the same commit hits the cache.
compiler_launcher=()
if command -v ccache >/dev/null; then
  compiler_launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=true
fi
