#!/usr/bin/env bash
# End-to-end checks of the decomposed encoder (DeFormer) on a tiny model: decompose on SQuAD and
# on a sentence-pair GLUE task, the passage cache, and the HTTP server (answers, 4xx refusals, a
# burst of concurrent requests), with their one-line errors.
# Usage: qa_e2e.sh SLIMFORMER SOURCE_DIR
set -uo pipefail
source "$(dirname "$0")/checks.sh"
cd "$src" || exit 1

zcat data/multi30k/train.en.gz | head -n 1500 >"$work/text.txt"
tiny=(--vocab-size 300 --d-model 32 --encoder-layers 2 --encoder-attention-heads 4
  --encoder-ffn-dim 64 --max-length 64 --max-tokens 1024 --warmup-steps 1 --log-every 2
  --normalize-before --position-embedding rotary)
"$bin" pretrain --train-text "$work/text.txt" --valid-pairs 20 "${tiny[@]}" --max-steps 2 \
  --output "$work/pt" >"$work/pt.txt" 2>&1
squad=(--squad --max-length 64 --max-query-length 16 --doc-stride 32 --max-steps 2
  --validate-every 2 --warmup-steps 1 --max-tokens 2048)
"$bin" finetune "$work/pt/best" "${squad[@]}" --output "$work/squad" >"$work/squad.txt" 2>&1
check "the span model for the checks" test -f "$work/squad/best/model.safetensors"

# k = 0 scores as the original; k = 1 fine-tunes with and without the auxiliary losses.
"$bin" decompose "$work/squad/best" --k 0 --finetune-steps 0 --repeats 1 \
  --output "$work/d0" >"$work/d0.txt" 2>&1
check "decompose --k 0 scores as the original" \
  test "$(jq -r '.models[0].value' "$work/d0/results.json")" = \
  "$(jq -r '.models[1].value' "$work/d0/results.json")"
"$bin" decompose "$work/squad/best" --k 1 --finetune-steps 2 --validate-every 2 --repeats 1 \
  --output "$work/d1" >"$work/d1.txt" 2>&1
check "decompose fine-tunes with distillation and similarity beside the control" \
  test -f "$work/d1/finetune/model/config.json" -a -f "$work/d1/task-only/model/config.json"
check "the decomposed model records k" grep -q '"separate_layers": 1' "$work/d1/finetune/model/config.json"
check "decompose writes its report" test -f "$work/d1/report.html"
"$bin" evaluate "$work/d1/finetune/model" >"$work/d1-eval.txt" 2>&1
check "a decomposed model evaluates like any model" \
  grep -q "^SQuAD v1.1 held-out (8 articles, 1589 questions): EM" "$work/d1-eval.txt"
expect_error "k outside the layers" 1 "--k 3 is outside [0, 2], the encoder's layers" -- \
  "$bin" decompose "$work/squad/best" --k 3 --output "$work/x"
expect_error "a model without a pair input" 1 \
  "decompose needs an encoder with a pair input (a span head, or a classification head fine-tuned on a sentence-pair task); $work/pt/best has a masked-LM head" -- \
  "$bin" decompose "$work/pt/best" --k 1 --output "$work/x"

# A sentence-pair GLUE task.
glue=(--max-steps 2 --validate-every 2 --warmup-steps 1 --max-tokens 1024)
"$bin" finetune "$work/pt/best" --glue WNLI "${glue[@]}" --output "$work/wnli" >"$work/wnli.txt" 2>&1
"$bin" decompose "$work/wnli/best" --k 1 --finetune-steps 2 --validate-every 2 --repeats 1 \
  --output "$work/dw" >"$work/dw.txt" 2>&1
check "decompose on a sentence-pair GLUE task" grep -q '"separate_layers": 1' "$work/dw/finetune/model/config.json"

# The passage cache: the held-out articles' paragraphs, float16.
passages="$work/passages.tsv"
printf 'p1\tThe Normans were the people who in the 10th and 11th centuries gave their name to Normandy, a region in France.\np2\tComputational complexity theory is a branch of the theory of computation.\n' >"$passages"
model="$work/d1/finetune/model"
"$bin" cache "$model" --passages "$passages" --output "$work/cache" --float16 \
  >"$work/cache.txt" 2>&1
check "cache stores every passage" grep -q "^cached 2 passages" "$work/cache.txt"
check "cache writes its size report" test -f "$work/cache/report.json"
expect_error "a cache directory is never overwritten" 1 "exists; give a new --output directory for the cache" -- \
  "$bin" cache "$model" --passages "$passages" --output "$work/cache"
expect_error "a model that is not decomposed has nothing to cache" 1 \
  "is not decomposed (separate_layers 0): nothing of a passage can be cached" -- \
  "$bin" cache "$work/squad/best" --passages "$passages" --output "$work/cache0"
expect_error "a cache from another model" 1 "was built for another model" -- \
  "$bin" serve "$work/d1/task-only/model" --cache "$work/cache" --port 0

# The server.
"$bin" serve "$model" --cache "$work/cache" --port 0 >"$work/serve.txt" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q "^serving" "$work/serve.txt" && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$work/serve.txt" | head -n 1)
check "serve prints its address" test -n "$url"
post() { curl -s -o "$work/body.json" -w '%{http_code}' -H 'Content-Type: application/json' \
  --data-binary "$1" "$url/answer"; }
check "an answer by passage id, from the cache" \
  test "$(post '{"question": "Who gave their name to Normandy?", "passage_id": "p1"}')" = 200 -a \
  "$(jq -r .cached "$work/body.json")" = true
check "an answer by passage text, computed afresh" \
  test "$(post '{"question": "What is a branch?", "passage": "Complexity theory is a branch of computation."}')" = 200 -a \
  "$(jq -r .cached "$work/body.json")" = false
check "malformed JSON is a 400" test "$(post '{"question": ')" = 400
check "a missing question is a 400" test "$(post '{"passage_id": "p1"}')" = 400
check "an unknown passage id is a 404" test "$(post '{"question": "Who?", "passage_id": "p9"}')" = 404
check "the 404 names the id" grep -q "unknown passage id 'p9'" "$work/body.json"
long=$(head -c 3000 /dev/zero | tr '\0' a)
check "an oversize question is a 413" test "$(post "{\"question\": \"$long\", \"passage_id\": \"p1\"}")" = 413
big=$(head -c 70000 /dev/zero | tr '\0' a)
check "an oversize request is a 413" test "$(post "{\"question\": \"$big\"}")" = 413
check "the page is served at /" bash -c "curl -s '$url/' | grep -q '<h1>Ask a passage</h1>'"
check "passages are listed" test "$(curl -s "$url/passages" | jq -r '.passages[1].id')" = p2
seq 40 | xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
  --data-binary '{"question": "Who were the Normans?", "passage_id": "p1"}' "$url/answer" \
  >"$work/burst.txt"
check "a burst of 40 requests from 8 clients: every answer 200" \
  test "$(grep -c '^200$' "$work/burst.txt")" = 40
kill -INT $server
wait $server
check "serve stops on SIGINT" test $? -eq 0

exit $((failures > 0))
