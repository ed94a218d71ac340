#!/usr/bin/env bash
# End-to-end checks of compression chains and comparisons on a tiny translation model: a chain
# equals its steps run by hand, an interrupted chain resumes to the same model, an impossible
# chain is refused before anything runs, and compare measures the variants side by side.
# Usage: compress_e2e.sh SLIMFORMER SOURCE_DIR
set -uo pipefail
source "$(dirname "$0")/checks.sh"
cd "$src" || exit 1

tiny_translation_model "$work/base" 2000 4
check "the tiny model for the checks" test -f "$work/base/best/model.safetensors"
model="$work/base/best"

cat >"$work/chain.yaml" <<YAML
defaults:
  data: {train_src: $work/train.en, train_tgt: $work/train.de, valid_src: $work/val.en,
         valid_tgt: $work/val.de, src: $work/val.en, ref: $work/val.de, samples: 10}
  eval: {test_src: $work/val.en, test_ref: $work/val.de}
  train: {max_tokens: 600, validate_every: 2, bleu_samples: 4, log_every: 1}
steps:
  - importance:
      importance: {curve_max_k: 1, scores: contribution,
                   paths: "encoder.layers.0.ffn,encoder.layers.1.ffn,decoder.layers.0.ffn,decoder.layers.1.ffn"}
  - prune-modules:
      prune: {k: 1, finetune_steps: 2}
  - sparsify:
      sparsify: {sparsity: 0.6, finetune_steps: 2}
  - linearize:
      linearize: {sublayers: "decoder.layers.*.self_attn", finetune_steps: 2}
YAML
"$bin" compress "$model" --config "$work/chain.yaml" --check --output "$work/checked" >"$work/check.txt" 2>&1
check "--check prints the plan" grep -q "4. slimformer linearize --config $work/checked/recipes/04-linearize.yaml" "$work/check.txt"
check "--check runs no step" test ! -d "$work/checked/steps"
"$bin" compress "$model" --config "$work/chain.yaml" --output "$work/chain" >"$work/chain.txt" 2>&1
check "compress runs the chain" test -f "$work/chain/model/model.safetensors"
check "fine-tuning after sparsify holds the pruned zeros" \
  grep -q "holding the pruned model's zero weights" "$work/chain.txt"
check "every step's model is kept" test -f "$work/chain/steps/03-sparsify/finetune/model/config.json"
"$bin" info "$work/chain/model" >"$work/info.txt" 2>&1
check "the final model names its chain" grep -q "4. linearize (finetune_steps 2, sublayers decoder.layers.\*.self_attn)" "$work/info.txt"
check "the final model is linear in its self-attention" grep -q "decoder.layers.[01].self_attn *linear_attention" "$work/info.txt"

# The same steps by hand, each with the recipe the chain wrote for it.
prev="$model"
"$bin" importance "$prev" --config "$work/chain/recipes/01-importance.yaml" --output "$work/hand/1" >/dev/null 2>&1
"$bin" prune-modules "$prev" --config "$work/chain/recipes/02-prune-modules.yaml" \
  --importance "$work/hand/1" --output "$work/hand/2" >/dev/null 2>&1
prev=$(jq -r .delivered "$work/hand/2/results.json")
"$bin" sparsify "$prev" --config "$work/chain/recipes/03-sparsify.yaml" --output "$work/hand/3" >/dev/null 2>&1
prev=$(jq -r .delivered "$work/hand/3/results.json")
"$bin" linearize "$prev" --config "$work/chain/recipes/04-linearize.yaml" --output "$work/hand/4" >/dev/null 2>&1
prev=$(jq -r .delivered "$work/hand/4/results.json")
fingerprint() { "$bin" info "$1" 2>/dev/null | sed -n 's/.*fingerprint \([0-9a-f]*\).*/\1/p'; }
chained=$(fingerprint "$work/chain/model")
check "the chain's model has a fingerprint" test -n "$chained"
check "the chain equals its steps run by hand" test "$chained" = "$(fingerprint "$prev")"

# Killed in the middle of the chain, then resumed.
"$bin" compress "$model" --config "$work/chain.yaml" --output "$work/killed" >"$work/killed.txt" 2>&1 &
pid=$!
for _ in $(seq 1 3000); do
  [[ -f "$work/killed/steps/02-prune-modules/done.json" ]] && break
  sleep 0.1
done
check "the chain reached its second step" test -f "$work/killed/steps/02-prune-modules/done.json"
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
check "the chain was stopped before its end" test ! -d "$work/killed/model"
"$bin" compress "$model" --config "$work/chain.yaml" --output "$work/killed" >"$work/resumed.txt" 2>&1
check "the resumed chain keeps the finished steps" grep -q "resumed: 2 finished steps kept" "$work/resumed.txt"
check "the resumed chain ends with the same model" test "$(fingerprint "$work/killed/model")" = "$chained"

# An impossible chain is refused before anything runs.
cat >"$work/bad.yaml" <<YAML
steps:
  - prune-modules:
      prune: {paths: "decoder.layers.0.self_attn,decoder.layers.1.self_attn"}
  - linearize:
      linearize: {sublayers: "decoder.layers.*.self_attn"}
YAML
expect_error "linearizing removed sublayers is refused" 1 \
  "step 2 (linearize, $work/bad.yaml:4): no softmax attention sublayer left to convert matches decoder.layers.*.self_attn" -- \
  "$bin" compress "$model" --config "$work/bad.yaml" --output "$work/bad"
check "a refused chain runs no step" test ! -d "$work/bad/steps"
cat >"$work/typo.yaml" <<YAML
steps:
  - sparsify:
      sparsify: {sparsty: 0.5}
YAML
expect_error "a misspelt step option names the step and the field" 1 \
  "step 1 (sparsify, $work/typo.yaml:2): " -- \
  "$bin" compress "$model" --config "$work/typo.yaml" --output "$work/typo"
expect_error "a command that is not a step" 1 "train is not a compression step" -- \
  "$bin" compress "$model" --config <(printf 'steps:\n  - train: {}\n') --output "$work/x"

# The variants side by side.
"$bin" compare "$model" "$work/chain/steps/03-sparsify/finetune/model" "$work/chain/model" \
  --names original,sparse,chain --test-src "$work/val.en" --test-ref "$work/val.de" \
  --latency-examples 5 --repeats 1 --output "$work/compare" >"$work/compare.txt" 2>&1
check "compare writes its JSON" test "$(jq '.variants | length' "$work/compare/results.json")" = 3
check "compare measures latency and memory" \
  test "$(jq '[.variants[] | select(.latency_ms > 0 and .peak_mb > 0)] | length' "$work/compare/results.json")" = 3
check "compare marks a Pareto front" \
  test "$(jq '[.variants[] | select(.optimal_for_size)] | length' "$work/compare/results.json")" -ge 1
check "the report draws both frontiers" test "$(grep -c '<svg' "$work/compare/report.html")" = 2
check "the report names the chain" grep -q "prune-modules (finetune_steps 2, k 1)" "$work/compare/report.html"
expect_error "compare refuses a missing model" 1 "nowhere: not a checkpoint directory" -- \
  "$bin" compare "$model" nowhere --output "$work/x"
exit $failures
