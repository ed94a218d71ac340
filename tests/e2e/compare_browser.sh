#!/usr/bin/env bash
# The comparison report of `slimformer compare` in a real headless browser (Chromium): both
# frontiers render as SVG with their axes labelled in units and every variant named on them.
# Labelled slow (`make test-all`); skips, saying so, where Chromium is missing.
# Usage: compare_browser.sh SLIMFORMER SOURCE_DIR
set -uo pipefail
source "$(dirname "$0")/checks.sh"
cd "$src" || exit 1
require_browser

tiny_translation_model "$work/base" 1000 2
for s in 0.5 0.9; do
  "$bin" sparsify "$work/base/best" --sparsity $s --test-src "$work/val.en" --test-ref "$work/val.de" \
    --repeats 1 --output "$work/sparse-$s" >"$work/sparse-$s.txt" 2>&1
done
"$bin" compare "$work/base/best" "$work/sparse-0.5/sparse" "$work/sparse-0.9/sparse" \
  --names dense,sparse-50,sparse-90 --test-src "$work/val.en" --test-ref "$work/val.de" \
  --latency-examples 4 --repeats 1 --output "$work/compare" >"$work/compare.txt" 2>&1
check "compare writes the report" test -f "$work/compare/report.html"

timeout 120 "$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$work/profile" \
  --dump-dom "file://$work/compare/report.html" >"$work/dom.html" 2>"$work/browser.txt"
check "both frontiers render as SVG" test "$(grep -o '<svg' "$work/dom.html" | wc -l)" = 2
check "the latency axis has its unit" grep -q "latency at batch 1 (ms per example)" "$work/dom.html"
check "the size axis has its unit" grep -q "size on disk (MB)" "$work/dom.html"
for name in dense sparse-50 sparse-90; do
  check "$name is named on both frontiers" \
    test "$(grep -o "font-size=\"10\" fill=\"#333333\">$name</text>" "$work/dom.html" | wc -l)" = 2
done
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$work/profile" \
  --window-size=1000,1400 --screenshot="$work/report.png" "file://$work/compare/report.html" \
  >/dev/null 2>>"$work/browser.txt"
check "the report renders to an image" test "$(stat -c %s "$work/report.png" 2>/dev/null || echo 0)" -gt 20000
exit $((failures > 0))
