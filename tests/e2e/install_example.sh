#!/usr/bin/env bash
# Installs slimformer into a temporary prefix, builds examples/minimal against the installed CMake
# package, and runs it on the bundled model.
# Usage: install_example.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
cmake -S "$src/examples/minimal" -B "$prefix/example-build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$prefix/example-build" -j 2 >/dev/null
out=$("$prefix/example-build/translate_one" "$src/models/multi30k-base" "A man is riding a bike.")
echo "$out"
grep -q "decoder.layers.2.ffn" <<<"$out"
[[ $(wc -l <<<"$out") -eq 2 ]]
echo "installed package builds and runs"
