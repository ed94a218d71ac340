#!/usr/bin/env bash
# Fine-tunes an encoder on each bundled GLUE task with training data (SST-2, CoLA, MRPC, STS-B,
# WNLI; QNLI is bundled as a dev set only) and prints the dev scores as one table. The per-task
# update counts give each task about three epochs (one for SST-2, the largest) at 1024 tokens
# per batch. Extra arguments go to every finetune run, e.g. --from-scratch or --threads 1.
#   recipes/glue-table.sh runs/pretrain/best runs/glue-pretrained
#   recipes/glue-table.sh runs/pretrain/best runs/glue-scratch --from-scratch
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 MODEL OUTPUT_DIR [finetune options...]" >&2
  exit 2
fi
model=$1 out=$2
shift 2
bin=${SLIMFORMER:-build/slimformer}
mkdir -p "$out"
: >"$out/table.txt"
for task_steps in SST-2:1000 CoLA:400 MRPC:600 STS-B:500 WNLI:80; do
  task=${task_steps%%:*} steps=${task_steps##*:}
  "$bin" finetune "$model" --glue "$task" --max-steps "$steps" --warmup-steps $((steps / 10)) \
    --max-tokens 1024 --validate-every $((steps / 5)) --output "$out/$task" "$@" \
    >"$out/$task.log" 2>&1
  grep -E "^(fine-tuned|$task )" "$out/$task.log" | tee -a "$out/table.txt"
done
