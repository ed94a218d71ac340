#!/usr/bin/env bash
# Generation speed and memory of softmax attention with a key/value cache beside recurrent linear
# attention (docs/LINEAR_ATTENTION.md): `slimformer bench linear` once per model, setting and
# round, each in its own process so that its peak resident memory is its own; models alternate
# within a round. Without models: a random causal LM (width 512, 6 layers) and its linearized copy.
# Prints the JSON lines, then per model and setting the best tokens/s of the rounds, the ratio to
# softmax, the state's size and the peak memory.
# Usage: bench/linear_decode.sh BUILD_DIR ROUNDS [SETTINGS] [MODEL_DIR...]
#   bench/linear_decode.sh build 2
#   bench/linear_decode.sh build 2 1x128,1x512 runs/linearize/original runs/linearize/finetune/model
set -euo pipefail
build=${1:?build dir}
rounds=${2:?rounds}
settings=${3:-1x128,1x512,1x2048,1x4096,64x256,64x512}
shift $(( $# < 3 ? $# : 3 ))
models=("$@")
lines=()
for setting in ${settings//,/ }; do
  for round in $(seq "$rounds"); do
    if [ ${#models[@]} -eq 0 ]; then
      for only in softmax linear; do
        lines+=("$("$build/slimformer" bench linear --settings "$setting" --rounds 1 --only "$only" --threads 1)")
      done
    else
      for model in "${models[@]}"; do
        lines+=("$("$build/slimformer" bench linear --settings "$setting" --rounds 1 --models "$model" --threads 1)")
      done
    fi
  done
done
printf '%s\n' "${lines[@]}"
printf '%s\n' "${lines[@]}" | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
models = list(dict.fromkeys(r["model"] for r in rows))
settings = list(dict.fromkeys((r["batch"], r["length"]) for r in rows))
for b, t in settings:
    best = {m: max((r for r in rows if r["model"] == m and (r["batch"], r["length"]) == (b, t)),
                   key=lambda r: r["tokens_per_second"]) for m in models}
    base = best[models[0]]["tokens_per_second"]
    for m in models:
        r = best[m]
        print(json.dumps({"bench": "linear_decode", "batch": b, "length": t, "model": m,
                          "tokens_per_second": round(r["tokens_per_second"], 1),
                          "over_first": round(r["tokens_per_second"] / base, 3),
                          "state_mb": round(r["state_mb"], 2), "peak_rss_mb": round(r["peak_rss_mb"], 1)}))
'
