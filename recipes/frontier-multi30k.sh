#!/usr/bin/env bash
# The translation frontier of docs/RESULTS.md: the chain of recipes/compress-multi30k.yaml
# (importance -> prune-modules k=3 + 200 updates -> sparsify 70% + 200 updates) against each
# single method, with magnitude pruning alone (70% and 80%) given the chain's whole budget (400
# updates), all measured side by side by compare.
# Usage: recipes/frontier-multi30k.sh [OUT]   (SLIMFORMER=path/to/slimformer to override)
set -euo pipefail
bin=${SLIMFORMER:-build/slimformer}
out=${1:-runs/frontier-multi30k}
"$bin" compress models/multi30k-base --config recipes/compress-multi30k.yaml --output "$out/chain"
for s in 70 80; do
  "$bin" sparsify models/multi30k-base --sparsity 0.$s --finetune-steps 400 --validate-every 100 \
    --bleu-samples 300 --repeats 1 --output "$out/sparse$s"
done
"$bin" compare models/multi30k-base "$out/chain/steps/02-prune-modules/finetune/model" \
  "$out/sparse70/finetune/model" "$out/sparse80/finetune/model" "$out/chain/model" \
  --names original,prune-k3,sparse-70,sparse-80,prune-k3+sparse-70 --repeats 3 \
  --output "$out/compare"
