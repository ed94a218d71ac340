#!/usr/bin/env bash
# The FFN search experiment of docs/RESULTS.md (EfficientBERT at this machine's scale), in order:
# stage 1 with the LaNAS sampler and, from the same warm-up distilled super-network, with the
# random sampler (the control); stages 2 and 3 after the LaNAS stage 1; the best architecture and
# the standard FFN of the same budget distilled alike into students; both fine-tuned on MRPC and
# SST-2. Extra arguments go to every search run, e.g. --threads 2.
#   recipes/ffn-search.sh models/encoder-base runs/ffn-search
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 TEACHER OUTPUT_DIR [search options...]" >&2
  exit 2
fi
teacher=$1 out=$2
shift 2
bin=${SLIMFORMER:-build/slimformer}
mkdir -p "$out"
common=(--candidate-steps 40 --valid-pairs 300 --initial-samples 8 "$@")
"$bin" search "$teacher" --output "$out/lanas" --stage 1 --candidates 20 "${common[@]}" >"$out/lanas-s1.log" 2>&1
# The control shares the warm-up distilled super-network.
mkdir -p "$out/random/supernet"
[ -e "$out/random/supernet/model" ] || cp -r "$out/lanas/supernet/model" "$out/random/supernet/model"
"$bin" search "$teacher" --output "$out/random" --stage 1 --candidates 20 --sampler random \
  "${common[@]}" >"$out/random-s1.log" 2>&1
"$bin" search "$teacher" --output "$out/lanas" --stage 2 --candidates 8 "${common[@]}" >"$out/lanas-s2.log" 2>&1
"$bin" search "$teacher" --output "$out/lanas" --stage 3 --candidates 8 --sharing-steps 200 \
  "${common[@]}" >"$out/lanas-s3.log" 2>&1
standard="linear1_1(gelu(linear1_1(x,wb1)),wb2)"
"$bin" search "$teacher" --output "$out/lanas" --student best --student-name searched \
  --student-steps 500 --valid-pairs 300 "$@" >"$out/student-searched.log" 2>&1
"$bin" search "$teacher" --output "$out/lanas" --student "$standard; $standard; $standard; $standard" \
  --student-name standard --student-steps 500 --valid-pairs 300 "$@" >"$out/student-standard.log" 2>&1
"$bin" report "$out/lanas" --compare "$out/random" --compare-label random >"$out/report.txt"
for task_steps in MRPC:600 SST-2:1000; do
  task=${task_steps%%:*} steps=${task_steps##*:}
  for name in searched standard; do
    "$bin" finetune "$out/lanas/students/$name/best" --glue "$task" --max-steps "$steps" \
      --warmup-steps $((steps / 10)) --max-tokens 1024 --validate-every $((steps / 5)) \
      --output "$out/glue/$name-$task" >"$out/glue-$name-$task.log" 2>&1
    grep -E "^$task " "$out/glue-$name-$task.log" | sed "s/^/$name: /" | tee -a "$out/glue.txt"
  done
done
"$bin" bench forward --models "$teacher" "$out/lanas/students/standard/best" \
  "$out/lanas/students/searched/best" | tee "$out/latency.txt"
