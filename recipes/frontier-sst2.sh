#!/usr/bin/env bash
# The encoder frontier of docs/RESULTS.md: the bundled encoder fine-tuned on SST-2, the chain of
# recipes/compress-encoder.yaml (importance -> prune-modules k=2 + 300 updates -> sparsify 50% +
# 300 updates) against each single method, with magnitude pruning alone given the chain's whole
# budget (600 updates), and the fine-tuned model trained 600 more updates with nothing pruned (the
# control for the extra training), all measured side by side by compare on the SST-2 dev set.
# Usage: recipes/frontier-sst2.sh [OUT]   (SLIMFORMER=path/to/slimformer to override)
set -euo pipefail
bin=${SLIMFORMER:-build/slimformer}
out=${1:-runs/frontier-sst2}
"$bin" finetune models/encoder-base --glue SST-2 --max-steps 1000 --warmup-steps 100 \
  --max-tokens 1024 --validate-every 200 --output "$out/sst2"
"$bin" compress "$out/sst2/best" --config recipes/compress-encoder.yaml --output "$out/chain"
"$bin" sparsify "$out/sst2/best" --sparsity 0.5 --finetune-steps 600 --validate-every 100 \
  --max-tokens 1024 --lr 1e-4 --repeats 1 --output "$out/sparse50"
# The same 600 updates with nothing removed or pruned: the control for the extra training.
"$bin" sparsify "$out/sst2/best" --sparsity 0 --finetune-steps 600 --validate-every 100 \
  --max-tokens 1024 --lr 1e-4 --repeats 1 --output "$out/continued"
"$bin" compare "$out/sst2/best" "$out/continued/finetune/model" \
  "$out/chain/steps/02-prune-modules/finetune/model" "$out/sparse50/finetune/model" \
  "$out/chain/model" --names fine-tuned,continued,prune-k2,sparse-50,prune-k2+sparse-50 \
  --repeats 3 --output "$out/compare"
