#!/usr/bin/env bash
# Decoding speed side by side: slimformer (bench translate / bench generate) against PyTorch from
# Python on the same checkpoint (bench/peers/decode.py) with a key/value cache and naively,
# decoding the batches slimformer wrote, alternating rounds; checks that every output is identical
# and prints the ratios. Usage: bench/decode_speed.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
build=${1:-build}
rounds=${2:-2}
here=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3  # Debian's python3-torch
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
translation=models/multi30k-base
lm=models/stories260K
if [[ ! -d $lm ]]; then  # imported from the bundled llama2.c files when not there yet
  lm=$work/stories260K
  "$build/slimformer" import data/stories260K/stories260K.bin --tokenizer data/stories260K/tok512.bin \
    --output "$lm" > /dev/null
fi
results=()

# One case: its name, slimformer's bench subcommand and options, and how many of slimformer's
# batches the naive peer decodes (it is an order of magnitude slower).
run_case() {
  local name=$1 naive_batches=$2
  shift 2
  for round in $(seq "$rounds"); do
    results+=("$("$build/slimformer" bench "$@" --plan "$work/$name.plan" --output-ids "$work/$name.ours" | sed "s/^{/{\"case\":\"$name\",/")")
    results+=("$("$python" "$here/peers/decode.py" --model "$2" --plan "$work/$name.plan" --mode cache --output-ids "$work/$name.cache" | sed "s/^{/{\"case\":\"$name\",/")")
    cmp -s "$work/$name.ours" "$work/$name.cache" || { echo "decode_speed: $name: outputs differ from the PyTorch peer's" >&2; exit 1; }
  done
  results+=("$("$python" "$here/peers/decode.py" --model "$2" --plan "$work/$name.plan" --mode naive --limit-batches "$naive_batches" --output-ids "$work/$name.naive" | sed "s/^{/{\"case\":\"$name\",/")")
  head -n "$(wc -l < "$work/$name.naive")" "$work/$name.ours" | cmp -s - "$work/$name.naive" || { echo "decode_speed: $name: naive outputs differ" >&2; exit 1; }
}

# The argument after the subcommand is the model directory ($2 inside run_case, after the shift).
run_case greedy-batched 8 translate "$translation" --beam 1
run_case beam5-batched 4 translate "$translation" --beam 5
run_case greedy-one-at-a-time 50 translate "$translation" --beam 1 --one-at-a-time --limit 200
run_case beam5-one-at-a-time 20 translate "$translation" --beam 5 --one-at-a-time --limit 200
run_case stories260K-greedy 5 generate "$lm" --limit 20 --new-tokens 128
run_case stories260K-beam5 3 generate "$lm" --limit 20 --new-tokens 128 --beam 5

printf '%s\n' "${results[@]}"
printf '%s\n' "${results[@]}" | "$python" -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
for case in dict.fromkeys(r["case"] for r in rows):
    def best(impl, key="tokens_per_second"):
        xs = [r[key] for r in rows if r["case"] == case and r["impl"] == impl]
        return max(xs) if xs else None
    ours, cache, naive = best("slimformer"), best("pytorch-cache"), best("pytorch-naive")
    p50 = lambda impl: min(r["batch_latency_ms_p50"] for r in rows if r["case"] == case and r["impl"] == impl)
    p90 = lambda impl: min(r["batch_latency_ms_p90"] for r in rows if r["case"] == case and r["impl"] == impl)
    print(json.dumps({"bench": "decode_ratio", "case": case,
                      "slimformer_tokens_per_second": round(ours), "pytorch_cache_tokens_per_second": round(cache),
                      "pytorch_naive_tokens_per_second": round(naive),
                      "ratio_vs_cache": round(ours / cache, 2), "ratio_vs_naive": round(ours / naive, 2),
                      "latency_ms_p50": {"slimformer": round(p50("slimformer"), 1), "pytorch_cache": round(p50("pytorch-cache"), 1)},
                      "latency_ms_p90": {"slimformer": round(p90("slimformer"), 1), "pytorch_cache": round(p90("pytorch-cache"), 1)},
                      "outputs": "identical"}))
'
