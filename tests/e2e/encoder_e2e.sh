#!/usr/bin/env bash
# End-to-end checks of the encoder commands on bundled text: masked-LM pre-training of a tiny
# encoder, GLUE fine-tuning from it and from scratch, evaluation, and their one-line errors.
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

ft=(--glue WNLI --max-steps 4 --validate-every 2 --warmup-steps 1 --max-tokens 1024)
"$bin" finetune "$work/pt/best" "${ft[@]}" --output "$work/ft" >"$work/ft.txt" 2>&1
check "finetune prints the GLUE line" grep -q "^WNLI [0-9.]* (dev" "$work/ft.txt"
"$bin" finetune "$work/pt/best" "${ft[@]}" --from-scratch --output "$work/scratch" >"$work/sc.txt" 2>&1
check "finetune from scratch" grep -q "^WNLI [0-9.]* (dev" "$work/sc.txt"
"$bin" evaluate "$work/ft/best" --glue WNLI >"$work/eval.txt" 2>&1
check "evaluate prints the GLUE line" grep -q "^WNLI [0-9.]*  (data/glue/WNLI/dev.tsv.gz, 71 examples)" "$work/eval.txt"

printf 'index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\t1\n1\tA.\t0\n' >"$work/bad.tsv"
expect_error "malformed GLUE row" 1 "bad.tsv:3: expected 4 tab-separated columns for WNLI, got 3" -- \
  "$bin" evaluate "$work/ft/best" --glue WNLI --glue-file "$work/bad.tsv"
expect_error "unknown GLUE task" 1 "unknown GLUE task mnli" -- \
  "$bin" finetune "$work/pt/best" --glue mnli --output "$work/x"
expect_error "encoder without a task" 1 "evaluate: an encoder needs --glue TASK" -- \
  "$bin" evaluate "$work/ft/best"
expect_error "pretrain with a vocabulary without a mask" 1 "has no mask or padding token" -- \
  "$bin" pretrain --train-text "$work/text.txt" --vocab data/stories260K/tok512.bin "${tiny[@]}" \
  --output "$work/x"

exit $((failures > 0))
