#!/usr/bin/env bash
# Runs every benchmark side by side with its peer, in one session, and prints JSON lines plus
# the ratios. Usage: bench/run_all.sh [BUILD_DIR] [all|seq2seq|encoder|decode|sparse]
set -euo pipefail
build=${1:-build}
section=${2:-all}
here=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3  # Debian's python3-torch
shape=(--d-model 256 --layers 3 --heads 4 --ffn-dim 1024 --vocab-size 6000 --batch 128 --src-len 20 --tgt-len 20 --steps 20)

# Alternate the implementations so that drift in machine load affects both alike.
if [[ $section == all || $section == seq2seq ]]; then
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
fi

# BERT-style encoder training steps: masked-LM pre-training and classification fine-tuning at the
# sizes of recipes/encoder-pretrain.yaml in BERT's layout (d 256, 4 post-norm layers, learned
# positions, FFN 1024, vocabulary 8000, 32 x 128), the layout the PyTorch peer builds.
if [[ $section == all || $section == encoder ]]; then
encoder_results=()
for objective in mlm classify; do
  for round in 1 2; do
    encoder_results+=("$("$build/slimformer" bench encoder --objective "$objective")")
    encoder_results+=("$("$python" "$here/peers/train_encoder.py" --objective "$objective")")
    encoder_results+=("$("$python" "$here/peers/train_encoder.py" --objective "$objective" --threads 1)")
  done
done
printf '%s\n' "${encoder_results[@]}"
printf '%s\n' "${encoder_results[@]}" | "$python" -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
for objective in ("mlm", "classify"):
    def best(impl):
        return max(r["input_tokens_per_second"] for r in rows
                   if r["impl"] == impl and r["objective"] == objective)
    ours, peer = best("slimformer"), best("pytorch")
    print(json.dumps({"bench": "encoder_train_step_ratio", "objective": objective,
                      "slimformer_tokens_per_second": round(ours),
                      "pytorch_best_tokens_per_second": round(peer),
                      "ratio_vs_best_pytorch": round(ours / peer, 3)}))
'
fi

# Decoding speed: slimformer against the PyTorch peer on the same checkpoint and the very same
# batches (bench/decode_speed.sh), outputs compared token for token.
if [[ $section == all || $section == decode ]]; then
  bash "$here/decode_speed.sh" "$build"
fi

# The sparse kernel beside OpenBLAS's dense product (docs/SPARSITY.md): FFN-shaped matrices at
# 50-95% sparsity, batches 1-128, weights in and out of cache, alternating rounds.
if [[ $section == all || $section == sparse ]]; then
  "$build/slimformer" bench sparse --threads 2
fi
