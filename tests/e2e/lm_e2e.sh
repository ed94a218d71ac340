#!/usr/bin/env bash
# End-to-end checks of the causal LM commands on the bundled stories260K model: import from
# llama2.c, greedy generation against the model's documented output, perplexity, and the
# one-line errors for bad files.
# Usage: lm_e2e.sh SLIMFORMER SOURCE_DIR
set -uo pipefail
source "$(dirname "$0")/checks.sh"

stories="$src/data/stories260K"
"$bin" import "$stories/stories260K.bin" --tokenizer "$stories/tok512.bin" \
  --output "$work/st" >"$work/import.txt" 2>&1
check "import exits 0" test $? -eq 0
check "import reports the parameter count" grep -q "260032 parameters" "$work/import.txt"
for f in config.json model.safetensors tokenizer.bin slimformer.json; do
  check "import writes $f" test -f "$work/st/$f"
done

# Greedy from BOS: the text stories260K.md documents for `./run stories260K.bin -t 0.0`.
sed -n '/-t 0.0$/,/^```$/p' "$stories/stories260K.md" | sed '1d;$d' >"$work/expected.txt"
"$bin" generate "$work/st" >"$work/greedy.txt" 2>"$work/greedy.err"
check "greedy generation equals the documented text" cmp -s "$work/greedy.txt" "$work/expected.txt"
"$bin" generate "$work/st" --prompt "Once upon a time, there was a dog" --max-new-tokens 20 \
  --temperature 0.8 --top-p 0.9 --seed 7 >"$work/sampled.txt"
check "sampling continues the prompt" grep -q "^Once upon a time, there was a dog" "$work/sampled.txt"
"$bin" generate "$work/st" --prompt "Once upon a time, there was a dog" --max-new-tokens 20 \
  --temperature 0.8 --top-p 0.9 --seed 7 >"$work/sampled2.txt"
check "sampling is reproducible with a seed" cmp -s "$work/sampled.txt" "$work/sampled2.txt"
"$bin" generate "$work/st" --prompt "Once upon a time, there was a dog" --max-new-tokens 30 \
  --beam 4 >"$work/beam.txt"
check "beam search continues the prompt" grep -q "^Once upon a time, there was a dog ." "$work/beam.txt"

"$bin" evaluate "$work/st" --text "$work/expected.txt" --output "$work/eval" >"$work/eval.txt" 2>&1
check "evaluate reports perplexity" grep -q "perplexity [0-9.]* per token" "$work/eval.txt"
check "evaluate writes results.json" grep -q '"ppl"' "$work/eval/results.json"

# A tiny causal LM trained from scratch on bundled English text, then resumed.
zcat "$src/data/multi30k/train.en.gz" | head -n 1500 >"$work/train.txt"
zcat "$src/data/multi30k/val.en.gz" | head -n 50 >"$work/valid.txt"
lm=(--task lm --train-text "$work/train.txt" --valid-text "$work/valid.txt" --vocab-size 300
  --d-model 32 --decoder-layers 2 --decoder-attention-heads 4 --num-key-value-heads 2
  --decoder-ffn-dim 64 --normalize-before --norm-type rms_norm --position-embedding rotary
  --ffn-gated --activation-function silu --context 32 --max-tokens 512 --warmup-steps 5
  --validate-every 4 --log-every 2 --output "$work/lm")
"$bin" train "${lm[@]}" --max-steps 4 >"$work/lm.txt" 2>&1
check "LM training exits 0" test $? -eq 0
check "LM validation reports perplexity" grep -q "validation: loss [0-9.]* ppl [0-9.]* word_ppl" "$work/lm.txt"
"$bin" train "${lm[@]}" --max-steps 8 --resume >"$work/lm2.txt" 2>&1
check "LM training resumes" grep -q "trained 8 steps" "$work/lm2.txt"
"$bin" generate "$work/lm/best" --prompt "A man" --max-new-tokens 5 >"$work/lm_gen.txt"
check "the trained LM generates" grep -q "^A man" "$work/lm_gen.txt"
"$bin" evaluate "$work/lm/best" --text "$work/valid.txt" --context 32 >"$work/lm_eval.txt" 2>&1
check "the trained LM evaluates" grep -q "perplexity" "$work/lm_eval.txt"

# The importance methods on a language model: contribution only for the imported model (it has
# no initial parameters), both scores and pruning with fine-tuning for the trained one.
"$bin" importance "$work/st" --text "$work/expected.txt" --curve-max-k 2 --output "$work/st-imp" \
  >"$work/st-imp.txt" 2>&1
check "importance scores an imported LM by perplexity" grep -q "^ppl of the full model" "$work/st-imp.txt"
check "an LM's scores cover its ten sublayers" test "$(wc -l <"$work/st-imp/scores.csv")" -eq 11
"$bin" importance "$work/lm/best" --text "$work/valid.txt" --context 32 --tolerance 0.25 \
  --curve-max-k 2 --output "$work/lm-imp" >"$work/lm-imp.txt" 2>&1
check "importance of a trained LM has criticality" grep -q "removal curve by criticality" "$work/lm-imp.txt"
"$bin" prune-modules "$work/lm/best" --importance "$work/lm-imp" --k 1 --finetune-steps 2 \
  --train-text "$work/train.txt" --valid-text "$work/valid.txt" --context 32 --max-tokens 512 \
  --test-text "$work/valid.txt" --test-context 32 --repeats 1 --output "$work/lm-prune" \
  >"$work/lm-prune.txt" 2>&1
check "prune-modules prunes and fine-tunes an LM" grep -q "^pruned + 2 updates" "$work/lm-prune.txt"
check "the LM measurement reports perplexity" grep -q "ppl" "$work/lm-prune.txt"
"$bin" rewind "$work/lm/best" --paths decoder.layers.1.ffn --steps 2 --control=false \
  --train-text "$work/train.txt" --valid-text "$work/valid.txt" --context 32 --max-tokens 512 \
  --test-text "$work/valid.txt" --test-context 32 --repeats 1 --output "$work/lm-rewind" \
  >"$work/lm-rewind.txt" 2>&1
check "rewind rewinds and fine-tunes an LM" grep -q "^rewound + 2 updates" "$work/lm-rewind.txt"
expect_error "an LM is not scored on parallel text" 1 \
  "--src applies to translation models; $work/st is a causal language model (causal_lm)" -- \
  "$bin" importance "$work/st" --src "$work/valid.txt" --ref "$work/valid.txt" --output "$work/x"

# Transformer to RNN: text sampled from the model itself, the conversion, a short fine-tune, the
# side-by-side table, and generation from the converted model.
"$bin" generate "$work/st" --samples 6 --temperature 1 --max-new-tokens 60 --seed 3 >"$work/own.txt"
check "generate --samples writes a line each" test "$(wc -l <"$work/own.txt")" -eq 6
"$bin" linearize "$work/st" --feature-dim 8 --finetune-steps 2 --train-text "$work/own.txt" \
  --valid-text "$work/own.txt" --test-text "$work/own.txt" --context 32 --max-tokens 256 \
  --validate-every 2 --repeats 1 --output "$work/t2r" >"$work/t2r.txt" 2>&1
check "linearize exits 0" test $? -eq 0
check "linearize measures the fine-tuned model beside the control" grep -q "^softmax + 2 updates" "$work/t2r.txt"
check "the converted model records its blocks" grep -q '"linear_attention"' "$work/t2r/finetune/model/config.json"
"$bin" generate "$work/t2r/finetune/model" --max-new-tokens 20 >"$work/t2r_gen.txt" 2>&1
check "the converted model generates" test -s "$work/t2r_gen.txt"
"$bin" linearize "$work/st" --feature-map elu --attention-only --control=false --finetune-steps 1 \
  --train-text "$work/own.txt" --valid-text "$work/own.txt" --test-text "$work/own.txt" \
  --context 32 --max-tokens 256 --repeats 1 --output "$work/t2r-attn" >"$work/t2r-attn.txt" 2>&1
check "linearize --attention-only fine-tunes the converted attention alone" \
  grep -q "(attention only)" "$work/t2r-attn/report.html"
expect_error "linearize: unknown feature map" 1 "--feature-map must be one of t2r, elu, rfa, got 'relu'" -- \
  "$bin" linearize "$work/st" --feature-map relu --output "$work/x"
expect_error "linearize: feature size below 1" 1 "--feature-dim must be >= 1, got 0" -- \
  "$bin" linearize "$work/st" --feature-dim 0 --output "$work/x"
expect_error "linearize: a pattern that matches no attention" 1 "--sublayers: 'decoder.layers.*.cross_attn' matches no attention sublayer of this model" -- \
  "$bin" linearize "$work/st" --sublayers 'decoder.layers.*.cross_attn' --finetune-steps 0 --test-text "$work/own.txt" --output "$work/x"

# Errors: one line, exit 1, naming the file or option.
head -c 100000 "$stories/stories260K.bin" >"$work/cut.bin"
expect_error "truncated llama2.c file" 1 "cut.bin: truncated: the header (dim 64, hidden_dim 172, 5 layers, vocab 512) needs 1056540 bytes, file has 100000" -- \
  "$bin" import "$work/cut.bin" --tokenizer "$stories/tok512.bin" --output "$work/x"
head -c 3000 "$stories/tok512.bin" >"$work/cut_tok.bin"
expect_error "truncated tokenizer.bin" 1 "cut_tok.bin: truncated: " -- \
  "$bin" import "$stories/stories260K.bin" --tokenizer "$work/cut_tok.bin" --output "$work/x"
expect_error "import without a tokenizer" 1 "import --format llama2c: give the vocabulary with --tokenizer FILE" -- \
  "$bin" import "$stories/stories260K.bin" --output "$work/x"
expect_error "evaluate an LM without text" 1 "evaluate: a causal language model needs --text FILE" -- \
  "$bin" evaluate "$work/st"
expect_error "generate with a translation model" 1 "model_type seq2seq is not a causal language model (expected model_type causal_lm)" -- \
  "$bin" generate "$src/models/multi30k-base"
expect_error "beam search with sampling" 1 "generate: beam search (beam 4) does not sample; temperature must be 0, got 0.5" -- \
  "$bin" generate "$work/st" --beam 4 --temperature 0.5
expect_error "LM training without text" 1 "data.train_text must name a text file for --task lm, got \"\"" -- \
  "$bin" train --task lm --output "$work/x"
expect_error "context beyond the model" 1 "--context must be at most model.max_position_embeddings 64, got 65" -- \
  "$bin" train "${lm[@]}" --max-position-embeddings 64 --context 65 --output "$work/x"
check "no partial output directory" test ! -e "$work/x"

exit $((failures > 0))
