#!/usr/bin/env bash
# Data-parallel training on the loopback (LibTorch's c10d over Gloo): two processes with one
# batch each per update end where one process with two batches per update does (translation,
# dropout off; masked LM); a group started by hand (--world-size/--rank, as across machines) equals
# --nproc; a killed group resumes to the same weights bit for bit, dropout on (each worker's
# random state is in the checkpoint); a lost worker stops the run with a resumable checkpoint, not
# a hang; the errors of a wrong group.
# Usage: data_parallel.sh SLIMFORMER SOURCE_DIR
set -uo pipefail
source "$(dirname "$0")/checks.sh"
same=$(dirname "$0")/same_weights.py

if "$bin" doctor --size 8 | grep -q "several workers no"; then
  echo "skipped: this build has no Gloo (apt-get install libgloo-dev, then configure again)"
  exit 0
fi

multi30k_sample 800 20
sample_vocab "$work/vocab"
vocab=$work/vocab/vocab/tokenizer.model
check "a vocabulary for the runs" test -f "$vocab"

translation=(train --train-src "$work/train.en" --train-tgt "$work/train.de" --valid-src
  "$work/val.en" --valid-tgt "$work/val.de" --vocab "$vocab" --d-model 32 --encoder-layers 2
  --decoder-layers 2 --encoder-attention-heads 4 --decoder-attention-heads 4 --encoder-ffn-dim 64
  --decoder-ffn-dim 64 --warmup-steps 5 --max-tokens 400 --bleu-samples 0 --max-steps 40
  --validate-every 10 --log-every 5 --threads 1)
weights() { echo "$work/$1/last/model.safetensors"; }
loads() { "$bin" info "$1" >/dev/null 2>&1; }

"$bin" "${translation[@]}" --dropout 0 --update-freq 2 --output "$work/one" >"$work/one.log" 2>&1
check "one process, two batches per update" test -f "$(weights one)"
"$bin" "${translation[@]}" --dropout 0 --nproc 2 --output "$work/two" >"$work/two.log" 2>&1
check "--nproc 2: the run finishes" test -f "$(weights two)"
check "--nproc 2: the other worker's output is kept" test -s "$work/two/workers/rank-1.log"
check "--nproc 2: equals one process with the same global batch (to 1e-5)" \
  python3 "$same" "$(weights one)" "$(weights two)" --within 1e-5
check "--nproc 2: one log, written by the primary" \
  test "$(grep -c '"event":"train"' "$work/two/train_log.jsonl")" -eq \
  "$(grep -c '"event":"train"' "$work/one/train_log.jsonl")"
check "--nproc 2: the run records its two workers" \
  grep -q '"world_size": 2' "$work/two/last/training_state/state.json"

# The same group started by hand, one command per worker, as on two machines.
port=$((20000 + RANDOM % 20000))
"$bin" "${translation[@]}" --dropout 0 --world-size 2 --rank 1 --master-port "$port" \
  --output "$work/hand" >"$work/hand1.log" 2>&1 &
"$bin" "${translation[@]}" --dropout 0 --world-size 2 --rank 0 --master-port "$port" \
  --output "$work/hand" >"$work/hand0.log" 2>&1
wait
check "--world-size 2 --rank 0/1: the same weights as --nproc 2, bit for bit" \
  python3 "$same" "$(weights two)" "$(weights hand)"

# Killed and resumed with dropout on: each worker's random state travels in the checkpoint.
dropout=("${translation[@]}" --dropout 0.1 --nproc 2)
"$bin" "${dropout[@]}" --output "$work/straight" >"$work/straight.log" 2>&1
"$bin" "${dropout[@]}" --max-steps 25 --output "$work/killed" >"$work/killed.log" 2>&1
"$bin" "${dropout[@]}" --output "$work/killed" --resume >>"$work/killed.log" 2>&1
check "--nproc 2, stopped at update 25 and resumed: the same weights bit for bit" \
  python3 "$same" "$(weights straight)" "$(weights killed)"
step_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["step"])' \
  "$1/last/training_state/state.json"; }
no_process() { ! pgrep -f -- "$1" >/dev/null; }
"$bin" "${dropout[@]}" --max-steps 5000 --validate-every 5 --output "$work/sigkill" \
  >"$work/sigkill.log" 2>&1 &
primary=$!
sleep 6
kill -KILL "$primary"
wait "$primary" 2>/dev/null
sleep 2
check "the primary killed: its worker does not outlive it" no_process "--output $work/sigkill "
check "the primary killed: the last checkpoint loads" loads "$work/sigkill/last"

# A worker lost mid-run: the primary stops with a resumable checkpoint within seconds.
"$bin" "${dropout[@]}" --max-steps 5000 --validate-every 5 --output "$work/lost" \
  >"$work/lost.log" 2>&1 &
primary=$!
sleep 6
pkill -KILL -f -- "--output $work/lost .*--rank 1 "
start=$SECONDS
wait "$primary"
rc=$?
check "a lost worker: the primary stops with exit code 1 (got $rc)" test "$rc" -eq 1
check "a lost worker: within 30 s" test $((SECONDS - start)) -le 30
check "a lost worker: one line that says so" grep -q "training stopped: worker 0: the collective" \
  "$work/lost.log"
check "a lost worker: the checkpoint loads" loads "$work/lost/last"
target=$(($(step_of "$work/lost") + 10))
"$bin" "${dropout[@]}" --max-steps "$target" --output "$work/lost" --resume >>"$work/lost.log" 2>&1
check "a lost worker: the run resumes on two workers and finishes" \
  test "$(step_of "$work/lost")" -eq "$target"

expect_error "resumed with another number of workers" 1 \
  "resume it with as many (--nproc 2 or --world-size 2)" -- \
  "$bin" "${translation[@]}" --output "$work/two" --resume --max-steps 50
expect_error "--nproc with --world-size" 1 "--nproc" -- \
  "$bin" "${translation[@]}" --nproc 2 --world-size 2 --output "$work/e1"
expect_error "--rank outside the group" 1 "--rank must be in [0, 2)" -- \
  "$bin" "${translation[@]}" --world-size 2 --rank 2 --output "$work/e2"
expect_error "no primary to join" 1 "no rendezvous" -- \
  "$bin" "${translation[@]}" --world-size 2 --rank 1 --master-port 9 --collective-timeout 2 \
  --output "$work/e3"

# Masked-LM pre-training: two workers equal one process with the same global batch.
mlm=(pretrain --train-text "$work/train.en" --valid-pairs 20 --vocab-size 300 --d-model 32
  --encoder-layers 2 --encoder-attention-heads 4 --encoder-ffn-dim 64 --max-length 64
  --max-tokens 512 --dropout 0 --attention-dropout 0 --warmup-steps 2 --max-steps 20
  --validate-every 10 --threads 1)
"$bin" "${mlm[@]}" --update-freq 2 --output "$work/mlm-one" >"$work/mlm-one.log" 2>&1
"$bin" "${mlm[@]}" --vocab "$work/mlm-one/vocab/tokenizer.model" --update-freq 2 \
  --output "$work/mlm-one-again" >/dev/null 2>&1
"$bin" "${mlm[@]}" --vocab "$work/mlm-one/vocab/tokenizer.model" --nproc 2 \
  --output "$work/mlm-two" >"$work/mlm-two.log" 2>&1
check "masked LM --nproc 2: equals one process with the same global batch (to 1e-5)" \
  python3 "$same" "$(weights mlm-one-again)" "$(weights mlm-two)" --within 1e-5

# Importance scoring dealt out over two workers: the same scores, curves and evaluations.
imp=(importance "$work/one/best" --src "$work/val.en" --ref "$work/val.de" --metric loss
  --tolerance 0.25 --curve-max-k 3 --threads 1)
"$bin" "${imp[@]}" --output "$work/imp-one" >"$work/imp-one.log" 2>&1
"$bin" "${imp[@]}" --nproc 2 --output "$work/imp-two" >"$work/imp-two.log" 2>&1
check "importance --nproc 2: finishes and writes the report" test -f "$work/imp-two/report.html"
same_scores() {
  python3 - "$1/results.json" "$2/results.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
fields = ("path", "metric_off", "drop", "contribution", "criticality")
rows = lambda r: [[s[f] for f in fields] for s in r["sublayers"]]
curves = lambda r: {k: [p["value"] for p in v] for k, v in r["removal_curves"].items()}
sys.exit(rows(a) != rows(b) or curves(a) != curves(b) or
         len(a["evaluations"]) != len(b["evaluations"]))
PY
}
check "importance --nproc 2: the same scores, curves and evaluation count as one process" \
  same_scores "$work/imp-one" "$work/imp-two"
check "importance --nproc 2: the evaluation log holds every worker's evaluations" \
  test "$(wc -l <"$work/imp-two/evaluations.jsonl")" -eq "$(wc -l <"$work/imp-one/evaluations.jsonl")"

if ((failures)); then
  for f in "$work"/*.log "$work"/*/workers/*.log; do [ -f "$f" ] && echo "== $f" && tail -5 "$f"; done
fi
exit $((failures > 0))
