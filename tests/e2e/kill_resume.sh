#!/usr/bin/env bash
# Crash-exact resume: training runs killed with SIGKILL at random moments, each time resumed
# from whatever checkpoint survived, end with the same weights, bit for bit, as runs never
# interrupted; every checkpoint left behind loads. A translation model, masked-LM pre-training,
# and continued pre-training with gradual magnitude pruning (a method's hook and its state).
# Then a disk that fills up during a checkpoint write: a one-line error, the previous
# checkpoint intact (where a tmpfs can be mounted).
# Usage: kill_resume.sh SLIMFORMER SOURCE_DIR [KILLS]
set -uo pipefail
source "$(dirname "$0")/checks.sh"
kills=${3:-10}
RANDOM=7  # the same kill moments on every run of the test

multi30k_sample 1500 20
# The vocabularies once, so that every start of a run reads the same files.
sample_vocab "$work/vocab"
vocab=$work/vocab/vocab/tokenizer.model
"$bin" pretrain --train-text "$work/train.en" --valid-pairs 20 --vocab-size 300 --d-model 16 \
  --encoder-layers 1 --encoder-attention-heads 2 --encoder-ffn-dim 32 --max-length 64 \
  --max-steps 1 --output "$work/mlm-vocab" >/dev/null 2>&1
mlm_vocab=$work/mlm-vocab/vocab/tokenizer.model  # with the mask token
check "vocabularies for the runs" test -f "$vocab" -a -f "$mlm_vocab"

translation=(train --train-src "$work/train.en" --train-tgt "$work/train.de" --valid-src
  "$work/val.en" --valid-tgt "$work/val.de" --vocab "$vocab" --d-model 32 --encoder-layers 2
  --decoder-layers 2 --encoder-attention-heads 4 --decoder-attention-heads 4 --encoder-ffn-dim 64
  --decoder-ffn-dim 64 --dropout 0.1 --warmup-steps 5 --max-tokens 600 --bleu-samples 0
  --max-steps 120 --validate-every 4 --log-every 5)
masked_lm=(pretrain --train-text "$work/train.en" --valid-pairs 20 --vocab "$mlm_vocab"
  --d-model 32 --encoder-layers 2 --encoder-attention-heads 4 --encoder-ffn-dim 64
  --max-length 64 --max-tokens 1024 --warmup-steps 2 --max-steps 120 --validate-every 4
  --log-every 5)

loads() { "$bin" info "$1" >/dev/null 2>&1; }

# run_killed OUT COMMAND...: starts COMMAND --output OUT, kills it with SIGKILL after a random
# share of `seconds` (the uninterrupted run's time), resumes (--resume once a checkpoint exists),
# `kills` times; then lets it finish.
run_killed() {
  local out=$1
  shift
  local i pid resume
  resumed=0
  for ((i = 0; i < kills; i++)); do
    resume=()
    [ -d "$out/last" ] && resume=(--resume) && resumed=$((resumed + 1))
    "$bin" "$@" --output "$out" "${resume[@]}" >>"$out.log" 2>&1 &
    pid=$!
    sleep "$(awk -v r=$RANDOM -v s="$seconds" 'BEGIN { printf "%.2f", (0.1 + 0.9 * r / 32767) * s }')"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if [ -d "$out/last" ] && ! loads "$out/last"; then
      echo "FAILED: $out/last does not load after kill $((i + 1))"
      failures=$((failures + 1))
    fi
  done
  resume=()
  [ -d "$out/last" ] && resume=(--resume)
  "$bin" "$@" --output "$out" "${resume[@]}" >>"$out.log" 2>&1
}

# kill_test NAME COMMAND...: the uninterrupted run, then the killed one, compared.
kill_test() {
  local name=$1
  shift
  local start=$SECONDS
  "$bin" "$@" --output "$work/$name-straight" >"$work/$name-straight.log" 2>&1
  check "$name: the uninterrupted run finishes" test -f "$work/$name-straight/last/model.safetensors"
  seconds=$((SECONDS - start + 1))
  run_killed "$work/$name-killed" "$@"
  # Kills that all came before the first checkpoint would test nothing.
  check "$name: most kills came after a checkpoint ($resumed of $kills resumed)" \
    test "$resumed" -ge $((kills / 2))
  check "$name: killed $kills times and resumed, the same weights bit for bit" \
    python3 "$(dirname "$0")/same_weights.py" "$work/$name-straight/last/model.safetensors" \
    "$work/$name-killed/last/model.safetensors"
}

kill_test translation "${translation[@]}"
kill_test masked-lm "${masked_lm[@]}"
kill_test pruning "${masked_lm[@]}" --from "$work/masked-lm-straight/best" --prune 0.5 \
  --prune-begin 4 --prune-end 90 --prune-every 4
check "pruning: the hook's state is part of the checkpoint" \
  test -f "$work/pruning-killed/last/training_state/hooks.safetensors"

disk=$work/disk
mkdir -p "$disk"
if mount -t tmpfs -o size=6m tmpfs "$disk" 2>/dev/null; then
  "$bin" "${translation[@]}" --max-steps 3 --validate-every 3 --output "$disk/run" \
    >"$work/disk1.txt" 2>&1
  check "full disk: the first run fits" test -f "$disk/run/last/model.safetensors"
  dd if=/dev/zero of="$disk/filler" bs=64k >/dev/null 2>&1  # until the disk is full
  "$bin" "${translation[@]}" --max-steps 6 --validate-every 3 --resume --output "$disk/run" \
    >"$work/disk2.txt" 2>&1
  check "full disk: exit code 1" test $? -eq 1
  check "full disk: one line naming the checkpoint" \
    grep -Eq "$disk/run/(best|last): could not be written \(.*\); the previous one is unchanged" \
    "$work/disk2.txt"
  check "full disk: the previous checkpoint loads" loads "$disk/run/last"
  check "full disk: it is the one of update 3" \
    grep -q '"step": 3' "$disk/run/last/training_state/state.json"
  umount "$disk"
else
  echo "skipped: the full-disk check (mounting a tmpfs needs root)"
fi

exit $((failures > 0))
