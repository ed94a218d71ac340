#!/usr/bin/env bash
# The experiment of Gordon et al. 2020 ("Compressing BERT") at this project's scale. For each
# sparsity: continued masked-LM pre-training of MODEL with gradual magnitude pruning to that
# sparsity (cubic schedule, target reached after a third of the run), then fine-tuning on the
# bundled GLUE tasks with at least 5,000 training examples (SST-2, CoLA; the paper leaves out the
# smaller, noisier ones) with the pruned weights held at zero. Two more kinds of rows: random
# pruning at the same sparsity (the control), and pruning per task during fine-tuning from the
# densely pre-trained model instead of once during pre-training. Writes OUT/table.tsv and three
# SVG charts (average score, pre-training loss, downstream training loss); a finished step is
# skipped when the script is run again. SEEDS repeats the control's comparison (magnitude and
# random pruning at SEED_LEVELS, by default RANDOM_LEVELS) under more seeds: the seed of batching
# and dropout in both stages, and of the random choice; they add OUT/seeds.tsv and a mean ± sd
# table.
#   recipes/pruning-transfer.sh models/encoder-base runs/pruning-transfer
# Environment: LEVELS (default "0 0.3 0.5 0.7 0.9"), RANDOM_LEVELS ("0.7"), PER_TASK_LEVELS
# ("0.7"), SEEDS (none: seed 1 only), SEED_LEVELS, PRETRAIN_STEPS (300), SLIMFORMER
# (build/slimformer). Extra arguments go to every run.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 MODEL OUTPUT_DIR [options for every run...]" >&2
  exit 2
fi
model=$1 out=$2
shift 2
bin=${SLIMFORMER:-build/slimformer}
steps=${PRETRAIN_STEPS:-300}
prune_end=$((steps / 3))
mkdir -p "$out"

# Runs a command unless its output directory already holds a finished run; an interrupted run
# resumes from its last checkpoint (or starts over if it had none).
run_once() {
  local dir=$1 log=$2
  shift 2
  if [ -f "$dir/results.json" ]; then return; fi
  local resume=()
  if [ -d "$dir/last" ]; then resume=(--resume); elif [ -d "$dir" ]; then rm -r "$dir"; fi
  echo "$(date +%T) $* ${resume[*]}" >&2
  "$@" "${resume[@]}" >>"$log" 2>&1 || { echo "failed: $* (see $log)" >&2; exit 1; }
}

pretrain() {  # NAME SPARSITY [pruning flags]
  local name=$1 sparsity=$2
  shift 2
  run_once "$out/$name/pretrain" "$out/$name/pretrain.log" \
    "$bin" pretrain --config recipes/encoder-pretrain.yaml --from "$model" \
    --output "$out/$name/pretrain" --max-steps "$steps" --warmup-steps $((steps / 10)) \
    --lr 2e-4 --validate-every $((steps / 3)) --prune "$sparsity" --prune-end "$prune_end" \
    "$@" "${EXTRA[@]}"
}

# Fine-tunes on each task: holding the loaded model's zeros (PER_TASK_SPARSITY 0), or pruning
# gradually to PER_TASK_SPARSITY over the first 30% of the task's updates.
finetune() {  # NAME FROM PER_TASK_SPARSITY [flags]
  local name=$1 from=$2 sparsity=$3
  shift 3
  for task_steps in SST-2:1000 CoLA:400; do
    local task=${task_steps%%:*} n=${task_steps##*:}
    local pruning=(--keep-zeros)
    if [ "$sparsity" != 0 ]; then pruning=(--prune "$sparsity" --prune-end $((n * 3 / 10))); fi
    run_once "$out/$name/$task" "$out/$name/$task.log" \
      "$bin" finetune "$from" --glue "$task" --max-steps "$n" --warmup-steps $((n / 10)) \
      --max-tokens 1024 --validate-every $((n / 5)) --output "$out/$name/$task" \
      "${pruning[@]}" "$@" "${EXTRA[@]}"
  done
}

EXTRA=("$@")
for s in ${LEVELS:-0 0.3 0.5 0.7 0.9}; do
  mkdir -p "$out/magnitude-$s"
  pretrain "magnitude-$s" "$s"
  finetune "magnitude-$s" "$out/magnitude-$s/pretrain/last" 0
done
for s in ${RANDOM_LEVELS:-0.7}; do
  mkdir -p "$out/random-$s"
  pretrain "random-$s" "$s" --prune-by random
  finetune "random-$s" "$out/random-$s/pretrain/last" 0
done
for s in ${PER_TASK_LEVELS:-0.7}; do
  mkdir -p "$out/magnitude-0" "$out/per-task-$s"
  pretrain "magnitude-0" 0
  finetune "per-task-$s" "$out/magnitude-0/pretrain/last" "$s"
done
for seed in ${SEEDS:-}; do
  if [ "$seed" = 1 ]; then continue; fi  # seed 1 is the rows above
  for s in ${SEED_LEVELS:-${RANDOM_LEVELS:-0.7}}; do
    for kind in magnitude random; do
      name="$kind-$s-seed$seed"
      by=(); if [ "$kind" = random ]; then by=(--prune-by random --prune-seed "$seed"); fi
      mkdir -p "$out/$name"
      pretrain "$name" "$s" --seed "$seed" "${by[@]}"
      finetune "$name" "$out/$name/pretrain/last" 0 --seed "$seed"
    done
  done
done
python3 "$(dirname "$0")/pruning_transfer_table.py" "$out"
"$bin" chart "$out/table.tsv" --x sparsity --y average --group pruned \
  --title "GLUE dev average (SST-2, CoLA) after pruning" --output "$out/average.svg"
"$bin" chart "$out/table.tsv" --x sparsity --y pretrain_loss --group pruned \
  --title "Masked-LM validation loss after continued pre-training" --output "$out/pretrain_loss.svg"
"$bin" chart "$out/table.tsv" --x sparsity --y "SST-2 train loss,CoLA train loss" --group pruned \
  --title "Downstream training loss (can the model still fit the task?)" \
  --y-label "training loss" --output "$out/train_loss.svg"
