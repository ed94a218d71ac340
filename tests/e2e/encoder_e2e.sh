#!/usr/bin/env bash
# End-to-end checks of the encoder commands on bundled text: masked-LM pre-training of a tiny
# encoder, GLUE and SQuAD fine-tuning from it and from scratch, evaluation, and their one-line
# errors.
# Usage: encoder_e2e.sh SLIMFORMER SOURCE_DIR
set -uo pipefail
source "$(dirname "$0")/checks.sh"
cd "$src" || exit 1

zcat data/multi30k/train.en.gz | head -n 1500 >"$work/text.txt"
tiny=(--vocab-size 300 --d-model 32 --encoder-layers 2 --encoder-attention-heads 4
  --encoder-ffn-dim 64 --max-length 64 --max-tokens 1024 --warmup-steps 2 --log-every 2)
"$bin" pretrain --train-text "$work/text.txt" --valid-pairs 20 "${tiny[@]}" --max-steps 6 \
  --validate-every 3 --output "$work/pt" >"$work/pt.txt" 2>&1
check "pretrain exits 0" test $? -eq 0
check "pretrain validates masked-LM accuracy" grep -q "validation: accuracy [0-9.]* loss" "$work/pt.txt"
check "pretrain writes a checkpoint" test -f "$work/pt/best/model.safetensors"
"$bin" pretrain --train-text "$work/text.txt" --valid-pairs 20 "${tiny[@]}" --max-steps 8 \
  --validate-every 3 --output "$work/pt" --resume >"$work/pt2.txt" 2>&1
check "pretrain resumes" grep -q "pre-trained 8 steps" "$work/pt2.txt"
"$bin" pretrain --train-text "$work/text.txt,data/glue/WNLI/train.tsv.gz,data/squad/dev-v1.1.json.gz" \
  --valid-pairs 20 "${tiny[@]}" --max-steps 1 --output "$work/ptc" >"$work/ptc.txt" 2>&1
check "pretrain reads a GLUE pair task's sentences" \
  grep -q "corpus: 1270 lines from data/glue/WNLI/train.tsv.gz" "$work/ptc.txt"
check "pretrain reads the passages of SQuAD's training articles only" \
  grep -q "corpus: 1646 lines from data/squad/dev-v1.1.json.gz" "$work/ptc.txt"

# Continued pre-training with gradual pruning, then fine-tuning that keeps the zeros.
"$bin" pretrain --from "$work/pt/best" --train-text "$work/text.txt" --valid-pairs 20 "${tiny[@]}" \
  --max-steps 2 --validate-every 2 --prune 0.5 --prune-end 1 --prune-every 1 \
  --output "$work/ptfrom" >"$work/ptfrom.txt" 2>&1
check "pretrain --from continues an encoder" grep -q "continuing the pre-training of" "$work/ptfrom.txt"
for keep in keep-zeros no; do
  flag=(); [ "$keep" = keep-zeros ] && flag=(--keep-zeros)
  "$bin" finetune "$work/ptfrom/last" --glue WNLI --max-steps 2 --validate-every 2 --warmup-steps 1 \
    --max-tokens 1024 "${flag[@]}" --output "$work/ft-$keep" >"$work/ft-$keep.txt" 2>&1
done
check "finetune --keep-zeros keeps the pruned weights at zero (stored sparse, smaller)" \
  test "$(stat -c %s "$work/ft-keep-zeros/last/model.safetensors")" -lt \
  "$(( $(stat -c %s "$work/ft-no/last/model.safetensors") * 9 / 10 ))"
expect_error "linearize refuses an encoder" 1 "an encoder-only model has no decoder to run as an RNN: linearize converts the attention of translation models and language models" -- \
  "$bin" linearize "$work/pt/best" --output "$work/x"

ft=(--glue WNLI --max-steps 4 --validate-every 2 --warmup-steps 1 --max-tokens 1024)
"$bin" finetune models/encoder-base --glue WNLI --max-steps 2 --validate-every 2 --warmup-steps 1 \
  --max-tokens 1024 --output "$work/bundled" >"$work/bundled.txt" 2>&1
check "the bundled encoder fine-tunes" grep -q "^WNLI [0-9.]* (dev" "$work/bundled.txt"
"$bin" finetune "$work/pt/best" "${ft[@]}" --output "$work/ft" >"$work/ft.txt" 2>&1
check "finetune prints the GLUE line" grep -q "^WNLI [0-9.]* (dev" "$work/ft.txt"
"$bin" finetune "$work/pt/best" "${ft[@]}" --from-scratch --output "$work/scratch" >"$work/sc.txt" 2>&1
check "finetune from scratch" grep -q "^WNLI [0-9.]* (dev" "$work/sc.txt"
"$bin" evaluate "$work/ft/best" --glue WNLI >"$work/eval.txt" 2>&1
check "evaluate prints the GLUE line" grep -q "^WNLI [0-9.]*  (data/glue/WNLI/dev.tsv.gz, 71 examples)" "$work/eval.txt"

# Distillation from a teacher with a layer-wise tap loss, training only the upper layer and head.
"$bin" finetune "$work/pt/best" "${ft[@]}" --teacher "$work/ft/best" --temperature 2 \
  --tap-weight 1 --taps encoder.layers.1 --train-only "encoder.layers.1.**,pooler.*,classifier.*" \
  --output "$work/distil" >"$work/distil.txt" 2>&1
check "finetune distils from a teacher" grep -q "distilling from $work/ft/best" "$work/distil.txt"
check "distilled fine-tuning prints the GLUE line" grep -q "^WNLI [0-9.]* (dev" "$work/distil.txt"
expect_error "a teacher's tap that does not exist" 1 "distillation: no tap named encoder.layers.9 in the student" -- \
  "$bin" finetune "$work/pt/best" "${ft[@]}" --teacher "$work/ft/best" --tap-weight 1 \
  --taps encoder.layers.9 --output "$work/distil-bad"

# The importance methods on a GLUE-fine-tuned encoder, scored by the task it records.
"$bin" importance "$work/ft/best" --samples 40 --tolerance 0.25 --curve-max-k 2 \
  --output "$work/ft-imp" >"$work/ft-imp.txt" 2>&1
check "importance scores an encoder by its task's accuracy" grep -q "^accuracy of the full model on 40" "$work/ft-imp.txt"
"$bin" prune-modules "$work/ft/best" --importance "$work/ft-imp" --k 1 --finetune-steps 2 \
  --max-tokens 1024 --repeats 1 --output "$work/ft-prune" >"$work/ft-prune.txt" 2>&1
check "prune-modules prunes and fine-tunes an encoder" grep -q "^pruned + 2 updates" "$work/ft-prune.txt"

squad=(--squad --max-length 64 --max-query-length 16 --doc-stride 32 --max-steps 4
  --validate-every 2 --warmup-steps 1 --max-tokens 2048)
"$bin" finetune "$work/pt/best" "${squad[@]}" --output "$work/squad" >"$work/squad.txt" 2>&1
check "finetune --squad prints EM/F1 on the held-out articles" \
  grep -q "^SQuAD v1.1 held-out (8 articles, 1589 questions): EM [0-9.]* F1 [0-9.]*" "$work/squad.txt"
"$bin" evaluate "$work/squad/best" >"$work/squad-eval.txt" 2>&1
check "evaluate scores a span-QA encoder on SQuAD" \
  grep -q "^SQuAD v1.1 held-out (8 articles, 1589 questions): EM" "$work/squad-eval.txt"
"$bin" export "$work/squad/best" --format hf --output "$work/hf" >"$work/hf.txt" 2>&1
check "export --format hf writes the Hugging Face layout" test -f "$work/hf/config.json" -a -f "$work/hf/model.safetensors"
"$bin" evaluate "$work/hf" >"$work/hf-eval.txt" 2>&1
check "the Hugging Face copy scores as the original" \
  test "$(tail -n 1 "$work/hf-eval.txt")" = "$(tail -n 1 "$work/squad-eval.txt")"
"$bin" pretrain --train-text "$work/text.txt" --valid-pairs 20 "${tiny[@]}" --max-steps 2 \
  --normalize-before --position-embedding rotary --output "$work/rope" >"$work/rope.txt" 2>&1
"$bin" finetune "$work/rope/best" "${ft[@]}" --output "$work/rope-ft" >"$work/rope-ft.txt" 2>&1
check "a pre-norm rotary encoder pre-trains and fine-tunes" grep -q "^WNLI [0-9.]* (dev" "$work/rope-ft.txt"
expect_error "export --format hf of a model BERT cannot hold" 1 \
  "the Hugging Face BERT layout cannot hold a pre-norm model (normalize_before: true); BERT is post-norm" -- \
  "$bin" export "$work/rope/best" --format hf --output "$work/rope-hf"
check "the refused export writes nothing" test ! -e "$work/rope-hf"
expect_error "SQuAD question length without room" 1 \
  "--max-query-length must leave room for the passage in data.max_length 64, got 61" -- \
  "$bin" finetune "$work/pt/best" --squad --max-length 64 --max-query-length 61 --output "$work/y"
expect_error "GLUE and SQuAD at once" 1 "--squad cannot be combined with a text task, got true" -- \
  "$bin" finetune "$work/pt/best" --glue WNLI --squad --output "$work/y"

printf 'index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\t1\n1\tA.\t0\n' >"$work/bad.tsv"
expect_error "malformed GLUE row" 1 "bad.tsv:3: expected 4 tab-separated columns for WNLI, got 3" -- \
  "$bin" evaluate "$work/ft/best" --glue WNLI --glue-file "$work/bad.tsv"
expect_error "unknown GLUE task" 1 "unknown GLUE task mnli2" -- \
  "$bin" finetune "$work/pt/best" --glue mnli2 --output "$work/x"
expect_error "a GLUE task whose files are missing" 1 "data/glue/MNLI has no train.tsv or train.tsv.gz" -- \
  "$bin" finetune "$work/pt/best" --glue mnli --output "$work/x"
check "no output directory for a refused run" test ! -e "$work/x"

# A user's own CSV (quoted fields, its own column names and labels): fine-tuned, then evaluated
# by the task it records; malformed rows stop the run or, when asked, are left out and counted.
zcat data/glue/WNLI/train.tsv.gz | awk -F'\t' 'NR > 1 && NR <= 61 {
  gsub(/"/, "\"\"", $2); gsub(/"/, "\"\"", $3)
  printf "%d,\"%s\",\"%s\",%s\n", NR, $2, $3, ($4 == 1 ? "yes" : "no") }' \
  | sed '1i id,premise,hypothesis,verdict' >"$work/own.csv"
own=(--text-columns premise,hypothesis --label-column verdict --labels no,yes
  --train-file "$work/own.csv" --dev-file "$work/own.csv" --max-steps 2 --validate-every 2
  --warmup-steps 1 --max-tokens 1024)
"$bin" finetune "$work/pt/best" "${own[@]}" --output "$work/own" >"$work/own.txt" 2>&1
check "finetune on a user's CSV prints its task's line" grep -q "^own [0-9.]* (dev" "$work/own.txt"
"$bin" evaluate "$work/own/best" >"$work/own-eval.txt" 2>&1
check "evaluate scores it on the file it records" \
  grep -q "^own [0-9.]*  ($work/own.csv, 60 examples)" "$work/own-eval.txt"
{ cat "$work/own.csv"; echo '99,"A.","B.",maybe'; } >"$work/own-bad.csv"
expect_error "a label outside the user's labels" 1 "own-bad.csv:62: label \"maybe\" is not one of no, yes" -- \
  "$bin" finetune "$work/pt/best" "${own[@]}" --train-file "$work/own-bad.csv" --output "$work/x"
"$bin" finetune "$work/pt/best" "${own[@]}" --train-file "$work/own-bad.csv" --skip-malformed \
  --max-steps 1 --output "$work/own-skip" >"$work/own-skip.txt" 2>&1
check "--skip-malformed leaves the row out and counts it" \
  grep -q "own-bad.csv: left out 1 malformed rows (the first: .*own-bad.csv:62: label" "$work/own-skip.txt"
expect_error "a column the header does not name" 1 "own.csv: no column \"rating\" (the header names id, premise, hypothesis, verdict)" -- \
  "$bin" finetune "$work/pt/best" "${own[@]}" --label-column rating --output "$work/x"
expect_error "a user's task without labels" 1 "task.labels must list at least two class labels (or give --regression), got \"\"" -- \
  "$bin" finetune "$work/pt/best" --text-columns premise --label-column verdict --train-file "$work/own.csv" --dev-file "$work/own.csv" --output "$work/x"
"$bin" evaluate "$work/ft/best" >"$work/eval-recorded.txt" 2>&1
check "evaluate scores a fine-tuned encoder on the task it records" \
  grep -q "^WNLI [0-9.]*  (data/glue/WNLI/dev.tsv.gz, 71 examples)" "$work/eval-recorded.txt"
expect_error "an option of another family is refused" 1 \
  "--text applies to language models and masked-LM encoders; $work/ft/best is a classification encoder" -- \
  "$bin" evaluate "$work/ft/best" --text "$work/text.txt"
"$bin" evaluate "$work/pt/best" >"$work/eval-mlm.txt" 2>&1
check "evaluate scores a masked-LM encoder on its held-out pre-training pairs as its validation did" \
  python3 -c 'import json, re, sys
r = json.load(open(sys.argv[1]))["metrics"]
m = re.search(r"^masked LM: accuracy ([0-9.]+) loss ([0-9.]+)  \(the held-out pairs of its "
              r"pre-training text, 20 sentence pairs\)$", open(sys.argv[2]).read(), re.M)
sys.exit(not (m and abs(float(m[1]) - r["accuracy"]) < 1e-4 and abs(float(m[2]) - r["loss"]) < 1e-3))' \
  "$work/pt/best/slimformer.json" "$work/eval-mlm.txt"
"$bin" sparsify "$work/pt/best" --sparsity 0.5 --repeats 1 --output "$work/sp-mlm" >"$work/sp-mlm.txt" 2>&1
check "sparsify scores a masked-LM encoder by masked-token accuracy and loss" \
  grep -q "^magnitude 50% .* 0\.[0-9]* *[0-9.]* *[0-9.]* .*x$" "$work/sp-mlm.txt"
"$bin" evaluate "$work/pt/best" --text "$work/text.txt" >"$work/eval-mlm-text.txt" 2>&1
check "evaluate scores a masked-LM encoder on the sentence pairs of --text" \
  grep -q "^masked LM: accuracy [0-9.]* loss [0-9.]*  ($work/text.txt, [0-9]* sentence pairs)" \
  "$work/eval-mlm-text.txt"
cp "$work/bad.tsv" "$work/corpus.tsv"
expect_error "pretrain .tsv outside a GLUE task folder" 1 \
  "corpus.tsv: a .tsv pre-training file must sit in its GLUE task's folder" -- \
  "$bin" pretrain --train-text "$work/corpus.tsv" "${tiny[@]}" --output "$work/x"
expect_error "pretrain with a vocabulary without a mask" 1 "has no mask or padding token" -- \
  "$bin" pretrain --train-text "$work/text.txt" --vocab data/stories260K/tok512.bin "${tiny[@]}" \
  --output "$work/x"

exit $((failures > 0))
