#!/usr/bin/env bash
# Data-parallel training throughput, side by side in one session: the Multi30k base recipe's
# model (recipes/multi30k-base.yaml) trained for STEPS updates of 2 x 4096 tokens, by one process
# (--update-freq 2, the machine's threads) and by two (--nproc 2, one batch and half the threads
# each), alternating, ROUNDS rounds. The same updates either way (tests/e2e/data_parallel.sh);
# on a machine with few cores the workers share them, so the ratio mostly shows the overhead of
# the collectives. Prints JSON lines and the ratio.
# Usage: bench/data_parallel.sh [BUILD_DIR] [STEPS] [ROUNDS]
set -euo pipefail
build=${1:-build}
steps=${2:-60}
rounds=${3:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
vocab_run=$work/vocab
"$build/slimformer" train --config recipes/multi30k-base.yaml --max-steps 1 --bleu-samples 0 \
  --output "$vocab_run" >/dev/null 2>&1
run=(train --config recipes/multi30k-base.yaml --vocab "$vocab_run/vocab/tokenizer.model"
  --max-steps "$steps" --validate-every 0 --bleu-samples 0 --log-every 10 --patience 0)

measure() {  # measure NAME ARGS...: one run; a JSON line
  local name=$1 out=$work/$1-$round
  shift
  local start=$SECONDS
  "$build/slimformer" "${run[@]}" "$@" --output "$out" >"$out.log" 2>&1
  python3 - "$name" "$out" $((SECONDS - start)) <<'PY'
import json, sys
name, out, wall = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = [json.loads(l) for l in open(f"{out}/train_log.jsonl")]
steady = [r["tokens_per_second"] for r in rows if r.get("event") == "train"][1:]
print(json.dumps({"bench": "data_parallel", "run": name, "wall_seconds": wall,
                  "target_tokens_per_second": round(sum(steady) / len(steady))}))
PY
}

lines=()
for ((round = 1; round <= rounds; round++)); do
  lines+=("$(measure one_process --update-freq 2)")
  lines+=("$(measure two_processes --nproc 2)")
done
printf '%s\n' "${lines[@]}"
printf '%s\n' "${lines[@]}" | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
best = lambda run: max(r["target_tokens_per_second"] for r in rows if r["run"] == run)
print(json.dumps({"bench": "data_parallel_ratio", "one_process": best("one_process"),
                  "two_processes": best("two_processes"),
                  "ratio": round(best("two_processes") / best("one_process"), 3)}))'
