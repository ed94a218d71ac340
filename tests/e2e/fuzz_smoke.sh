#!/usr/bin/env bash
# Builds the loaders' fuzz targets (fuzz/: clang, libFuzzer, ASan + UBSan) and runs each briefly
# from the bundled seeds, then replays the inputs of crashes found before. Skips, saying so, where
# clang or its libFuzzer runtime is missing.
# Usage: fuzz_smoke.sh BUILD_DIR SOURCE_DIR [SECONDS]
set -uo pipefail
build=$1
src=$2
seconds=${3:-8}
compiler=$(command -v clang++ || command -v clang++-14 || true)
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, long) { return 0; }' >"$probe/p.cpp"
if [ -z "$compiler" ] || ! "$compiler" -fsanitize=fuzzer "$probe/p.cpp" -o "$probe/p" 2>/dev/null; then
  echo "skipped: no clang with libFuzzer (apt-get install clang libclang-rt-14-dev)"
  exit 0
fi
cmake -S "$src/fuzz" -B "$build" -DCMAKE_CXX_COMPILER="$compiler" >"$probe/configure.log" 2>&1 &&
  cmake --build "$build" -j 2 >"$probe/build.log" 2>&1 ||
  { tail -20 "$probe/configure.log" "$probe/build.log"; echo "FAILED: the fuzz targets build"; exit 1; }
bash "$src/fuzz/run.sh" "$build" "$seconds"
