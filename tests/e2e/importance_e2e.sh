#!/usr/bin/env bash
# End-to-end checks of importance, report, prune-modules and rewind on a tiny model trained on
# bundled Multi30k text, and their one-line errors.
# Usage: importance_e2e.sh SLIMFORMER SOURCE_DIR
set -uo pipefail
source "$(dirname "$0")/checks.sh"

zcat "$src/data/multi30k/train.en.gz" | head -n 2000 >"$work/train.en"
zcat "$src/data/multi30k/train.de.gz" | head -n 2000 >"$work/train.de"
zcat "$src/data/multi30k/val.en.gz" | head -n 30 >"$work/val.en"
zcat "$src/data/multi30k/val.de.gz" | head -n 30 >"$work/val.de"
data=(--train-src "$work/train.en" --train-tgt "$work/train.de" --valid-src "$work/val.en"
  --valid-tgt "$work/val.de" --max-tokens 600 --bleu-samples 8 --log-every 2)
"$bin" train "${data[@]}" --vocab-size 500 --d-model 32 --encoder-layers 2 --decoder-layers 2 \
  --encoder-attention-heads 4 --decoder-attention-heads 4 --encoder-ffn-dim 64 \
  --decoder-ffn-dim 64 --warmup-steps 5 --max-steps 6 --validate-every 6 \
  --output "$work/run" >"$work/train.txt" 2>&1
check "tiny model trains" test -f "$work/run/best/init.safetensors"
model="$work/run/best"
eval_set=(--src "$work/val.en" --ref "$work/val.de")
test_set=(--test-src "$work/val.en" --test-ref "$work/val.de" --repeats 1)

# Loss is informative even for a barely trained model (its BLEU is about 0).
"$bin" importance "$model" "${eval_set[@]}" --metric loss --tolerance 0.25 --curve-max-k 3 \
  --output "$work/imp" >"$work/imp.txt" 2>&1
check "importance exits 0" test $? -eq 0
for f in results.json scores.csv evaluations.csv evaluations.jsonl report.html heatmap_contribution.svg \
  heatmap_criticality.svg removal_curves.svg; do
  check "importance writes $f" test -f "$work/imp/$f"
done
check "scores.csv has one row per sublayer" test "$(wc -l <"$work/imp/scores.csv")" -eq 11
check "importance prints the scores" grep -Eq "decoder.layers.1.cross_attn +D:EA" "$work/imp.txt"
check "importance prints the removal curves" grep -q "removal curve by criticality: k=0" "$work/imp.txt"

rm "$work/imp/report.html" "$work/imp/heatmap_contribution.svg"
"$bin" report "$work/imp" --compare "$work/imp" --compare-label itself >"$work/report.txt" 2>&1
check "report rebuilds the HTML and figures" test -f "$work/imp/report.html" -a -f "$work/imp/heatmap_contribution.svg"
check "report correlates with another run" grep -q "Spearman contribution vs contribution of itself: 1.000" "$work/report.txt"

"$bin" prune-modules "$model" --importance "$work/imp" --k 2 --finetune-steps 2 "${data[@]}" \
  "${test_set[@]}" --output "$work/prune" >"$work/prune.txt" 2>&1
check "prune-modules exits 0" test $? -eq 0
check "the pruned config records two removals" test "$(tr -d ' \n' <"$work/prune/pruned/config.json" | grep -o '"removed_sublayers":\[[^]]*\]' | grep -o '\.layers\.' | wc -l)" -eq 2
check "the pruned model has fewer parameters" grep -q "^pruned + 2 updates" "$work/prune.txt"
"$bin" info "$work/prune/pruned" >"$work/info.txt" 2>&1
check "the pruned model loads" test $? -eq 0
check "prune-modules measures three models" test "$(grep -c '"speedup"' "$work/prune/results.json")" -eq 3

"$bin" rewind "$model" --importance "$work/imp/results.json" --by criticality --k 1 --steps 2 \
  "${data[@]}" "${test_set[@]}" --output "$work/rewind" >"$work/rewind.txt" 2>&1
check "rewind exits 0" test $? -eq 0
check "rewind compares with continued training" grep -q "^original + 2 updates" "$work/rewind.txt"
check "rewind measures four models" test "$(grep -c '"speedup"' "$work/rewind/results.json")" -eq 4

"$bin" prune-modules "$model" --by random --k 2 --choice-seed 3 "${test_set[@]}" \
  --output "$work/random" >"$work/random.txt" 2>&1
check "prune-modules removes a random choice (the control)" \
  test "$(tr -d ' \n' <"$work/random/pruned/config.json" | grep -o '"removed_sublayers":\[[^]]*\]' | grep -o '\.layers\.' | wc -l)" -eq 2

expect_error "unknown metric" 1 "error: --metric accuracy: a translation model is scored by bleu, chrf, loss, ppl" -- \
  "$bin" importance "$model" "${eval_set[@]}" --metric accuracy --output "$work/x"
expect_error "unknown score" 1 "error: --scores must name contribution and/or criticality (magnitude is neither), got \"magnitude\"" -- \
  "$bin" importance "$model" "${eval_set[@]}" --scores magnitude --output "$work/x"
expect_error "unknown sublayer path" 1 "error: no sublayer decoder.layers.7.ffn in this model" -- \
  "$bin" prune-modules "$model" --paths decoder.layers.7.ffn "${test_set[@]}" --output "$work/y"
expect_error "pruning needs a ranking" 1 "error: --importance must name importance results (or give --paths)" -- \
  "$bin" prune-modules "$model" --output "$work/z"
expect_error "k larger than the model" 1 "error: --k must be in [0, 10] (the scored sublayers), got 11" -- \
  "$bin" prune-modules "$model" --importance "$work/imp" --k 11 --output "$work/z"
expect_error "a second prune does not overwrite the first" 1 "error: --output $work/prune already holds a pruned model" -- \
  "$bin" prune-modules "$model" --importance "$work/imp" --output "$work/prune"
"$bin" export "$model" --output "$work/no-init" --init drop >/dev/null 2>&1
expect_error "rewinding needs the initial parameters" 1 "has no initial parameters (init.safetensors or an init_seed record) to rewind to" -- \
  "$bin" rewind "$work/no-init" --paths decoder.layers.0.ffn --output "$work/w"
expect_error "criticality needs the initial parameters" 1 "criticality needs the model's initial parameters" -- \
  "$bin" importance "$work/no-init" "${eval_set[@]}" --scores contribution,criticality --output "$work/v"
"$bin" importance "$work/no-init" "${eval_set[@]}" --curve-max-k 1 --output "$work/v" >"$work/v.txt" 2>&1
check "a model without initial parameters gets contribution scores" \
  grep -q "has no initial parameters: contribution scores only" "$work/v.txt"

echo "$failures failed"
[[ $failures -eq 0 ]]
