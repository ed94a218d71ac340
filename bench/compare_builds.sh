#!/usr/bin/env bash
# Compares two builds of slimformer side by side in one session, alternating rounds: the encoder
# training step (masked LM and classification, bench encoder) and greedy decoding of test2016 with
# the bundled translation model (bench decode). For "no slower than before" checks of a change:
#   git worktree add /tmp/before HEAD~1 && (cd /tmp/before && make build)
#   bench/compare_builds.sh /tmp/before/build build
# Prints one JSON line per run and, per benchmark, the best of each build and their ratio.
set -euo pipefail
before=$1 after=$2 rounds=${3:-3}
model=${MODEL:-models/multi30k-base}
lines=()
for round in $(seq "$rounds"); do
  for build in "$before" "$after"; do
    for objective in mlm classify; do
      line=$("$build/slimformer" bench encoder --objective "$objective" --steps 6)
      lines+=("{\"build\": \"$build\", \"bench\": \"encoder_$objective\", \"value\": $(echo "$line" | sed 's/.*"step_ms":\([0-9.e+-]*\).*/\1/')}")
    done
    line=$("$build/slimformer" bench decode "$model" --repeats 1 | tail -n 1)
    seconds=$(echo "$line" | sed -E 's/.*"(decode_)?seconds":([0-9.e+-]*).*/\2/')
    lines+=("{\"build\": \"$build\", \"bench\": \"decode_greedy_s\", \"value\": $seconds}")
  done
done
printf '%s\n' "${lines[@]}"
printf '%s\n' "${lines[@]}" | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
for bench in sorted({r["bench"] for r in rows}):
    best = {b: min(r["value"] for r in rows if r["bench"] == bench and r["build"] == b)
            for b in sorted({r["build"] for r in rows})}
    before, after = sys.argv[1], sys.argv[2]
    print(json.dumps({"bench": bench, "before": best[before], "after": best[after],
                      "after_over_before": round(best[after] / best[before], 3)}))
' "$before" "$after"
