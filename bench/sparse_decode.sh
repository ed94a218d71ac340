#!/usr/bin/env bash
# Decoding speed of pruned translation models: each model with the sparse kernels and with them
# switched off (SLIMFORMER_SPARSE_KERNELS=0: the same weights through dense OpenBLAS), and beside
# the first model, greedy, batched and one sentence at a time, alternating rounds. Tokens/s
# normalizes for output length (a pruned model may write longer or shorter translations).
# Usage: bench/sparse_decode.sh BUILD_DIR ROUNDS MODEL...
set -euo pipefail
build=${1:?build dir}
rounds=${2:?rounds}
shift 2
python=python3
results=()
for round in $(seq "$rounds"); do
  for model in "$@"; do
    for kernels in 1 0; do
      for mode in batched one-at-a-time; do
        extra=()
        [[ $mode == one-at-a-time ]] && extra=(--one-at-a-time --limit 200)
        line=$(SLIMFORMER_SPARSE_KERNELS=$kernels "$build/slimformer" bench translate "$model" \
          --beam 1 "${extra[@]}")
        results+=("$(echo "$line" | sed "s|^{|{\"model_dir\":\"$model\",\"sparse_kernels\":$kernels,\"mode\":\"$mode\",|")")
      done
    done
  done
done
printf '%s\n' "${results[@]}"
printf '%s\n' "${results[@]}" | "$python" -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
models = list(dict.fromkeys(r["model_dir"] for r in rows))
def best(model, kernels, mode):
    return max(r["tokens_per_second"] for r in rows
               if r["model_dir"] == model and r["sparse_kernels"] == kernels and r["mode"] == mode)
for mode in ("batched", "one-at-a-time"):
    base = best(models[0], 0, mode)
    for m in models:
        s, d = best(m, 1, mode), best(m, 0, mode)
        print(json.dumps({"bench": "sparse_decode", "mode": mode, "model": m,
                          "tokens_per_second_sparse": round(s), "tokens_per_second_dense": round(d),
                          "sparse_over_dense": round(s / d, 3), "over_first_model": round(s / base, 3)}))
'
