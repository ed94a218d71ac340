#!/usr/bin/env bash
# Runs the unit tests of the loaders, kernels, metrics and stores built under AddressSanitizer and
# UndefinedBehaviorSanitizer (the instrumented build); a sanitizer report fails them. Skips where
# the build was skipped or lacks them (no clang, GoogleTest or sentencepiece).
# Usage: sanitized_unit_tests.sh BUILD_DIR
set -uo pipefail
build=$1
[ -x "$build/sanitized_unit_tests" ] ||
  { echo "skipped: no sanitized unit tests (see instrumented_build)"; exit 0; }
# The sentencepiece shim is loaded into a namespace of its own (verify_asan_link_order); LibTorch
# keeps allocations for the life of the process (detect_leaks); any report ends the run.
export ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
"$build/sanitized_unit_tests" --gtest_brief=1
