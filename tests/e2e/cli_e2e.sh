#!/usr/bin/env bash
# End-to-end checks of the slimformer program on the bundled data: train, resume, interrupt,
# info, translate, evaluate, and the one-line errors for bad input.
# Usage: cli_e2e.sh SLIMFORMER SOURCE_DIR
set -uo pipefail
source "$(dirname "$0")/checks.sh"

# A small corpus from the bundled Multi30k.
zcat "$src/data/multi30k/train.en.gz" | head -n 3000 >"$work/train.en"
zcat "$src/data/multi30k/train.de.gz" | head -n 3000 >"$work/train.de"
zcat "$src/data/multi30k/val.en.gz" | head -n 40 >"$work/val.en"
zcat "$src/data/multi30k/val.de.gz" | head -n 40 >"$work/val.de"
tiny=(--train-src "$work/train.en" --train-tgt "$work/train.de" --valid-src "$work/val.en"
  --valid-tgt "$work/val.de" --vocab-size 500 --d-model 32 --encoder-layers 2 --decoder-layers 2
  --encoder-attention-heads 4 --decoder-attention-heads 4 --encoder-ffn-dim 64 --decoder-ffn-dim 64
  --warmup-steps 5 --max-tokens 600 --bleu-samples 8 --log-every 2)

"$bin" doctor --size 256 >"$work/doctor.txt" 2>&1
check "doctor reports the BLAS library" grep -q "^blas " "$work/doctor.txt"
check "doctor runs on OpenBLAS" grep -q "openblas" "$work/doctor.txt"

"$bin" train "${tiny[@]}" --max-steps 6 --validate-every 3 --output "$work/run" >"$work/train.txt" 2>&1
check "train exits 0" test $? -eq 0
check "train writes results.json" test -f "$work/run/results.json"
check "train keeps best and last" test -f "$work/run/best/model.safetensors" -a -f "$work/run/last/training_state/state.json"
check "train logs JSON lines" grep -q '"event":"validation"' "$work/run/train_log.jsonl"

"$bin" train "${tiny[@]}" --max-steps 8 --validate-every 3 --output "$work/run" --resume >"$work/resume.txt" 2>&1
check "resume continues to the new step limit" grep -q '"step":8' "$work/run/train_log.jsonl"
check "resume does not start over" bash -c "! grep -q 'training a bpe vocabulary' '$work/resume.txt'"

"$bin" info "$work/run/last" >"$work/info.txt" 2>&1
check "info lists sublayer paths" grep -q "decoder.layers.1.cross_attn" "$work/info.txt"

"$bin" export "$work/run/last" --output "$work/exported" --init seed >/dev/null 2>&1
check "export drops training state and init" test ! -e "$work/exported/training_state" -a ! -e "$work/exported/init.safetensors"
"$bin" info "$work/exported" >"$work/info-exported.txt" 2>&1
check "exported init is regenerated from the seed" grep -q "regenerated from init_seed" "$work/info-exported.txt"
check "float16 export is about half the size" test "$(stat -c %s "$work/exported/model.safetensors")" -lt \
  "$(( $(stat -c %s "$work/run/last/model.safetensors") * 6 / 10 ))"

echo "A dog runs on the beach." | "$bin" translate "$work/run/last" --beam 2 >"$work/hyp.txt" 2>"$work/translate.err"
check "translate writes one line per input" test "$(wc -l <"$work/hyp.txt")" -eq 1

"$bin" evaluate --hyp "$work/val.de" --ref "$work/val.de" >"$work/eval.txt" 2>&1
check "evaluate scores identical text at 100 BLEU" grep -q "^BLEU = 100.00" "$work/eval.txt"
check "evaluate prints the sacreBLEU signature" grep -q "tok:13a|smooth:exp" "$work/eval.txt"
"$bin" evaluate "$work/run/last" --src "$work/val.en" --ref "$work/val.de" --beam 1 --output "$work/eval" >/dev/null 2>&1
check "evaluate decodes and writes results.json" test -f "$work/eval/results.json"
expect_error "evaluate refuses an option of another family" 1 \
  "--glue applies to classification encoders; $work/run/last is a translation model (seq2seq)" -- \
  "$bin" evaluate "$work/run/last" --glue SST-2

# Ctrl-C saves a resumable checkpoint and exits 130.
"$bin" train "${tiny[@]}" --max-steps 100000 --validate-every 0 --output "$work/sigint" >"$work/sigint.txt" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  grep -q '"event":"train"' "$work/sigint/train_log.jsonl" 2>/dev/null && break
  sleep 0.5
done
kill -INT $pid
wait $pid
check "Ctrl-C exits 130" test $? -eq 130
check "Ctrl-C leaves a resumable checkpoint" test -f "$work/sigint/last/training_state/state.json"

# --dump-config prints the effective options as a recipe that reads back to the same options.
"$bin" train --config "$src/recipes/multi30k-base.yaml" --lr 0.002 --dump-config >"$work/dump.yaml"
check "dump-config shows flags over the recipe" grep -q '"lr": 0.002' "$work/dump.yaml"
"$bin" train --config "$work/dump.yaml" --dump-config >"$work/dump2.yaml"
check "dump-config round-trips" cmp -s "$work/dump.yaml" "$work/dump2.yaml"
"$bin" info "$work/run/last" --threads 1 >/dev/null
check "--threads is accepted" test $? -eq 0

# Bad input: one line naming the file, field or option; exit 1.
printf 'train:\n  lr: 0.1\n  lrr: 0.2\n' >"$work/bad.yaml"
expect_error "unknown recipe field" 1 "error: $work/bad.yaml:3: unknown field train.lrr" -- \
  "$bin" train --config "$work/bad.yaml"
printf 'train:\n  max_steps: -5\n' >"$work/neg.yaml"
expect_error "out-of-range recipe value" 1 "error: $work/neg.yaml:2: train.max_steps must be >= 1, got -5" -- \
  "$bin" train "${tiny[@]}" --config "$work/neg.yaml" --output "$work/neg"
head -n 10 "$work/val.de" >"$work/short.de"
expect_error "mismatched parallel files" 1 "has 40 lines but $work/short.de has 10" -- \
  "$bin" train "${tiny[@]}" --valid-tgt "$work/short.de" --output "$work/mismatch" --vocab "$work/run/last/tokenizer.model"
expect_error "a new run does not overwrite an old one" 1 "error: --output $work/run already holds a training run; add --resume" -- \
  "$bin" train "${tiny[@]}" --max-steps 2 --output "$work/run"
expect_error "missing checkpoint" 1 "error: $work/none: not a checkpoint directory" -- "$bin" info "$work/none"
expect_error "bad device" 1 "error: --device must be cpu or cuda, got tpu" -- "$bin" translate "$work/run/last" --device tpu
cp -r "$work/run/last" "$work/broken"
head -c 100 "$work/run/last/model.safetensors" >"$work/broken/model.safetensors"
expect_error "truncated weights" 1 "points past the end of the file" -- "$bin" info "$work/broken"

# Decoding speed: a JSON line, the plan a peer decodes and the output ids.
(cd "$src" && "$bin" bench translate models/multi30k-base --limit 6 --beam 2 \
  --plan "$work/plan.json" --output-ids "$work/ids.txt") >"$work/bench.json" 2>&1
check "bench translate prints tokens/s" grep -q '"tokens_per_second"' "$work/bench.json"
check "bench translate writes its plan" grep -q '"max_length"' "$work/plan.json"
check "bench translate writes an id line per sentence" test "$(wc -l <"$work/ids.txt")" -eq 6
expect_error "bench translate of an encoder" 1 "bench translate needs a translation model" -- \
  "$bin" bench translate "$src/models/encoder-base" --limit 1

# Magnitude pruning of the bundled translation model, measured beside the original on 40 sentences.
zcat "$src/data/multi30k/test_2016_flickr.en.gz" | head -40 >"$work/t40.en"
zcat "$src/data/multi30k/test_2016_flickr.de.gz" | head -40 >"$work/t40.de"
"$bin" sparsify "$src/models/multi30k-base" --sparsity 0.8 --test-src "$work/t40.en" \
  --test-ref "$work/t40.de" --repeats 1 --output "$work/sparse" >"$work/sparsify.txt" 2>&1
check "sparsify prints the overall sparsity" grep -qE '^all +8[0-9]\.[0-9]%' "$work/sparsify.txt"
check "sparsify writes the per-matrix table" grep -q 'decoder.layers.0.ffn.block.fc1.weight' \
  "$work/sparse/sparsity.tsv"
check "the sparse model is smaller on disk" test "$(stat -c %s "$work/sparse/sparse/model.safetensors")" \
  -lt "$(( $(stat -c %s "$src/models/multi30k-base/model.safetensors") * 6 / 10 ))"
"$bin" translate "$work/sparse/sparse" <"$work/t40.en" >"$work/t40.out" 2>/dev/null
check "the sparse model translates" test "$(wc -l <"$work/t40.out")" -eq 40
expect_error "sparsify refuses sparsity 1" 1 "--sparsity must be in [0, 1), got 1" -- \
  "$bin" sparsify "$src/models/multi30k-base" --sparsity 1 --output "$work/s1"
expect_error "sparsify refuses an unknown matrix" 1 "--matrices decoder.*.fnn: matches no prunable matrix" -- \
  "$bin" sparsify "$src/models/multi30k-base" --matrices 'decoder.*.fnn' --output "$work/s2"
expect_error "gradual pruning needs fine-tuning" 1 "--prune-schedule gradual prunes while fine-tuning" -- \
  "$bin" sparsify "$src/models/multi30k-base" --prune-schedule gradual --output "$work/s3"

printf 'sparsity\tpruned\tscore\n0\tmagnitude\t80\n0.5\tmagnitude\t75\n0.5\trandom\t60\n' >"$work/table.tsv"
"$bin" chart "$work/table.tsv" --x sparsity --y score --group pruned --output "$work/chart.svg" >/dev/null
check "chart draws a line per group" test "$(grep -c '<polyline' "$work/chart.svg")" -eq 2
expect_error "chart refuses an unknown column" 1 "--y: no column 'acc' in $work/table.tsv (columns: sparsity, pruned, score)" -- \
  "$bin" chart "$work/table.tsv" --x sparsity --y acc --output "$work/x.svg"
printf 'a\tb\n1\tx\n' >"$work/bad.tsv"
expect_error "chart refuses a cell that is not a number" 1 "bad.tsv line 2, column 'b': 'x' is not a number" -- \
  "$bin" chart "$work/bad.tsv" --x a --y b --output "$work/x.svg"

# Every command takes a recipe (--config) and prints its effective options (--dump-config): a
# dump read back with --config gives the same options, and a flag wins over the recipe.
m="$src/models/multi30k-base"
commands=("translate $m --beam 2" "evaluate $m --beam 3 --ref $work/t40.de" "generate $m --beam 2"
  "export $m --output $work/e" "info $m" "report $work/run" "vocab --size 300 --output $work/v"
  "chart $work/table.tsv --x sparsity --y score,pruned --output $work/c.svg" "doctor --size 64"
  "import $src/data/stories260K/stories260K.bin --tokenizer t.bin --output $work/i"
  "bench translate $m --limit 3 --one-at-a-time" "bench generate $m --beam 2"
  "bench train --steps 2" "bench sparse --sparsities 0.5" "bench encoder" "bench forward $m"
  "bench linear $m" "train --max-steps 3" "finetune $m --glue WNLI")
for c in "${commands[@]}"; do
  read -r -a args <<<"$c"
  "$bin" "${args[@]}" --dump-config >"$work/dump1.json" 2>"$work/dump.err"
  "$bin" "${args[0]}" $([[ ${args[0]} == bench ]] && echo "${args[1]}") --config "$work/dump1.json" \
    --dump-config >"$work/dump2.json" 2>>"$work/dump.err"
  check "--dump-config read back by --config: ${args[0]} ${args[1]}" cmp -s "$work/dump1.json" "$work/dump2.json"
done
printf 'model: %s\nbeam: 4\nmax_length_b: 3\n' "$m" >"$work/translate.yaml"
"$bin" translate --config "$work/translate.yaml" --beam 1 --dump-config >"$work/translate.json"
check "a recipe gives translate its options" grep -q '"max_length_b": 3' "$work/translate.json"
check "a flag wins over the recipe" grep -q '"beam": 1' "$work/translate.json"
echo "A dog runs." | "$bin" translate --config "$work/translate.yaml" >"$work/recipe-translate.txt" 2>/dev/null
check "translate runs from a recipe alone" test -s "$work/recipe-translate.txt"
printf 'beams: 4\n' >"$work/typo.yaml"
expect_error "a recipe key no option has" 1 "typo.yaml:1: unknown field beams" -- \
  "$bin" translate "$m" --config "$work/typo.yaml"
printf '{}\n' >"$work/empty.json"
expect_error "a required option missing from both" 1 "model is required" -- \
  "$bin" info --config "$work/empty.json"

echo "$failures failed"
[[ $failures -eq 0 ]]
