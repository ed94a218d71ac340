#!/usr/bin/env bash
# Builds the instrumented project (fuzz/: clang, libFuzzer, ASan + UBSan): the loaders' fuzz
# targets and the sanitized unit tests, which the tests fuzz_smoke and sanitized_unit_tests run.
# Skips, saying so, where clang or its libFuzzer runtime is missing; they then skip as well.
# Usage: instrumented_build.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build=$1
src=$2
compiler=$(command -v clang++ || command -v clang++-14 || true)
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, long) { return 0; }' >"$probe/p.cpp"
if [ -z "$compiler" ] || ! "$compiler" -fsanitize=fuzzer "$probe/p.cpp" -o "$probe/p" 2>/dev/null; then
  rm -rf "$build"
  echo "skipped: no clang with libFuzzer (apt-get install clang libclang-rt-14-dev)"
  exit 0
fi
export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}
cmake -S "$src/fuzz" -B "$build" -DCMAKE_CXX_COMPILER="$compiler" >"$probe/configure.log" 2>&1 &&
  cmake --build "$build" -j 2 >"$probe/build.log" 2>&1 ||
  { tail -n 20 "$probe/configure.log" "$probe/build.log"; echo "FAILED: the instrumented build"; exit 1; }
echo "built: $(cd "$build" && ls fuzz_* sanitized_unit_tests 2>/dev/null | grep -v '\.a$' | tr '\n' ' ')"
