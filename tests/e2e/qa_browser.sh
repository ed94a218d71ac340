#!/usr/bin/env bash
# The question-answering page of `slimformer serve` in a real headless browser (Chromium): it
# lists the cached passages, asks a question given in its address, and shows the answer with the
# cache and computed afresh. Labelled slow (`make test-all`); setup installs no browser, so the
# check skips, saying so, where Chromium is missing.
# Usage: qa_browser.sh SLIMFORMER SOURCE_DIR
set -uo pipefail
source "$(dirname "$0")/checks.sh"
cd "$src" || exit 1
require_browser

zcat data/multi30k/train.en.gz | head -n 1500 >"$work/text.txt"
tiny=(--vocab-size 300 --d-model 32 --encoder-layers 2 --encoder-attention-heads 4
  --encoder-ffn-dim 64 --max-length 64 --max-tokens 1024 --warmup-steps 1
  --normalize-before --position-embedding rotary)
"$bin" pretrain --train-text "$work/text.txt" --valid-pairs 20 "${tiny[@]}" --max-steps 2 \
  --output "$work/pt" >"$work/pt.txt" 2>&1
"$bin" finetune "$work/pt/best" --squad --max-length 64 --max-query-length 16 --doc-stride 32 \
  --max-steps 2 --validate-every 2 --warmup-steps 1 --output "$work/squad" >"$work/squad.txt" 2>&1
"$bin" decompose "$work/squad/best" --k 1 --finetune-steps 0 --repeats 1 --output "$work/d" \
  >"$work/d.txt" 2>&1
printf 'normans\tThe Normans gave their name to Normandy, a region in France.\ntheory\tComplexity theory is a branch of the theory of computation.\n' >"$work/passages.tsv"
"$bin" cache "$work/d/decomposed" --passages "$work/passages.tsv" --output "$work/cache" \
  >"$work/cache.txt" 2>&1
"$bin" serve "$work/d/decomposed" --cache "$work/cache" --port 0 >"$work/serve.txt" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q "^serving" "$work/serve.txt" && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$work/serve.txt" | head -n 1)
check "serve prints its address" test -n "$url"

timeout 120 "$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$work/profile" \
  --virtual-time-budget=30000 --dump-dom "$url/?passage=theory&question=What%20is%20a%20branch%3F" \
  >"$work/dom.html" 2>"$work/browser.txt"
check "the page loads and lists both passages" \
  bash -c "grep -q 'data-ready=\"yes\"' '$work/dom.html' && grep -q '<option value=\"normans\">' '$work/dom.html'"
check "the page shows the chosen passage" grep -q "Complexity theory is a branch" "$work/dom.html"
check "the page asked and shows both answers" grep -q 'data-answered="yes"' "$work/dom.html"
check "the cached row says it used the cache" grep -q "<td>with the passage cache</td>" "$work/dom.html"
check "no error on the page" grep -q '<p id="error" class="error"></p>' "$work/dom.html"
kill -INT $server
wait $server
exit $((failures > 0))
