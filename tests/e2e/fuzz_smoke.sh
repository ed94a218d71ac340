#!/usr/bin/env bash
# Runs each fuzz target of the instrumented build briefly from the bundled seeds, then replays
# the inputs of crashes found before. Skips where the build was skipped (no clang).
# Usage: fuzz_smoke.sh BUILD_DIR SOURCE_DIR [SECONDS]
set -uo pipefail
build=$1
src=$2
seconds=${3:-8}
[ -x "$build/fuzz_recipe" ] || { echo "skipped: no instrumented build (see instrumented_build)"; exit 0; }
bash "$src/fuzz/run.sh" "$build" "$seconds"
