#!/usr/bin/env bash
# The few-row kernel (kernels/dense_rows.h) against OpenBLAS's matrix product on the same weights:
# beam search over one sentence or prompt at a time (a row per beam every step), with
# SLIMFORMER_FEW_ROWS=1 and =0 in alternating rounds. Prints each run's JSON line, then the ratio
# per case and whether the outputs are identical (the two sum in different orders, so a near-tie
# may pick another token). Usage: bench/few_rows.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
build=${1:-build}
rounds=${2:-3}
python=python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
lm=models/stories260K
if [[ ! -d $lm ]]; then
  lm=$work/stories260K
  "$build/slimformer" import data/stories260K/stories260K.bin --tokenizer data/stories260K/tok512.bin \
    --output "$lm" > /dev/null
fi
cases=("beam5-one-at-a-time|translate models/multi30k-base --beam 5 --one-at-a-time --limit 200"
  "beam2-one-at-a-time|translate models/multi30k-base --beam 2 --one-at-a-time --limit 200"
  "stories260K-beam5|generate $lm --limit 20 --new-tokens 128 --beam 5")
results=()
for round in $(seq "$rounds"); do
  for entry in "${cases[@]}"; do
    name=${entry%%|*}
    read -r -a args <<<"${entry#*|}"
    for few in 1 0; do
      line=$(SLIMFORMER_FEW_ROWS=$few "$build/slimformer" bench "${args[@]}" --output-ids "$work/$name.$few")
      results+=("$(echo "$line" | sed "s/^{/{\"case\":\"$name\",\"few_rows\":$few,/")")
    done
  done
done
printf '%s\n' "${results[@]}"
for entry in "${cases[@]}"; do
  name=${entry%%|*}
  differ=$(diff "$work/$name.1" "$work/$name.0" | grep -c '^<' || true)
  results+=("{\"case\":\"$name\",\"differing_outputs\":$differ}")
done
printf '%s\n' "${results[@]}" | "$python" -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
for case in dict.fromkeys(r["case"] for r in rows):
    runs = [r for r in rows if r["case"] == case and "few_rows" in r]
    best = lambda few: max(r["tokens_per_second"] for r in runs if r["few_rows"] == few)
    differ = next(r["differing_outputs"] for r in rows if r["case"] == case and "differing_outputs" in r)
    print(json.dumps({"bench": "few_rows", "case": case, "tokens_per_second_few_rows": round(best(1)),
                      "tokens_per_second_blas": round(best(0)), "ratio": round(best(1) / best(0), 3),
                      "sequences_with_other_output": differ}))
'
