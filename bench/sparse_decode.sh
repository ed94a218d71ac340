#!/usr/bin/env bash
# Decoding speed of pruned translation models: each model under each SLIMFORMER_SPARSE_KERNELS
# setting (0: the same weights through dense OpenBLAS; auto: the measured switch; always: every
# pruned matrix through the sparse kernel), batched and one sentence at a time, alternating rounds.
# Tokens/s normalizes for output length (a pruned model may write longer or shorter translations).
# Usage: bench/sparse_decode.sh BUILD_DIR ROUNDS MODEL...
# Environment: SETTINGS (default "auto 0"; the last one is the baseline of every ratio), BEAM
# (default 1).
set -euo pipefail
build=${1:?build dir}
rounds=${2:?rounds}
shift 2
settings=${SETTINGS:-auto 0}
beam=${BEAM:-1}
python=python3
results=()
for round in $(seq "$rounds"); do
  for model in "$@"; do
    for setting in $settings; do
      for mode in batched one-at-a-time; do
        extra=()
        [[ $mode == one-at-a-time ]] && extra=(--one-at-a-time --limit 200)
        line=$(SLIMFORMER_SPARSE_KERNELS=$setting "$build/slimformer" bench translate "$model" \
          --beam "$beam" "${extra[@]}")
        results+=("$(echo "$line" | sed "s|^{|{\"model_dir\":\"$model\",\"sparse_kernels\":\"$setting\",\"mode\":\"$mode\",\"round\":$round,|")")
      done
    done
  done
done
printf '%s\n' "${results[@]}"
printf '%s\n' "${results[@]}" | SETTINGS="$settings" "$python" -c '
import json, os, sys
rows = [json.loads(l) for l in sys.stdin]
settings = os.environ["SETTINGS"].split()
baseline = settings[-1]
models = list(dict.fromkeys(r["model_dir"] for r in rows))
def speeds(model, setting, mode):
    return sorted(r["tokens_per_second"] for r in rows
                  if r["model_dir"] == model and r["sparse_kernels"] == setting and r["mode"] == mode)
def median(values):
    n = len(values)
    return (values[n // 2] + values[(n - 1) // 2]) / 2
for mode in ("batched", "one-at-a-time"):
    first = speeds(models[0], baseline, mode)
    for m in models:
        base = speeds(m, baseline, mode)
        for s in settings:
            v = speeds(m, s, mode)
            print(json.dumps({"bench": "sparse_decode", "mode": mode, "model": m, "setting": s,
                              "tokens_per_second_best": round(v[-1]),
                              "tokens_per_second_median": round(median(v)),
                              "best_over_" + baseline: round(v[-1] / base[-1], 3),
                              "median_over_" + baseline: round(median(v) / median(base), 3),
                              "best_over_first_model": round(v[-1] / first[-1], 3)}))
'
