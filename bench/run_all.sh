#!/usr/bin/env bash
# Runs every benchmark side by side with its peer, in one session, and prints JSON lines plus
# the ratios. Usage: bench/run_all.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3  # Debian's python3-torch
shape=(--d-model 256 --layers 3 --heads 4 --ffn-dim 1024 --vocab-size 6000 --batch 128 --src-len 20 --tgt-len 20 --steps 20)

# Alternate the implementations so that drift in machine load affects both alike.
results=()
for round in 1 2; do
  results+=("$("$build/slimformer" bench train "${shape[@]}")")
  results+=("$("$python" "$here/peers/train_seq2seq.py" "${shape[@]}")")
  results+=("$("$python" "$here/peers/train_seq2seq.py" "${shape[@]}" --threads 1)")
done
printf '%s\n' "${results[@]}"
printf '%s\n' "${results[@]}" | "$python" -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
def best(impl, threads=None):
    xs = [r["target_tokens_per_second"] for r in rows if r["impl"] == impl and (threads is None or r["intra_op_threads"] == threads)]
    return max(xs)
ours = best("slimformer")
default = max(r["target_tokens_per_second"] for r in rows if r["impl"] == "pytorch")
one = best("pytorch", 1)
print(json.dumps({"bench": "train_step_ratio", "slimformer_tokens_per_second": round(ours),
                  "pytorch_best_tokens_per_second": round(max(default, one)),
                  "ratio_vs_best_pytorch": round(ours / max(default, one), 3)}))
'
