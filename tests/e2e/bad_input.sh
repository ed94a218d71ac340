#!/usr/bin/env bash
# Malformed input, one table for every command: each row is a file, field or option a user can
# get wrong, the one-line error it must give (the start of stderr's first line), and exit code 1.
# A command that grows an input grows a row here.
# Usage: bad_input.sh SLIMFORMER SOURCE_DIR
set -uo pipefail
source "$(dirname "$0")/checks.sh"
cd "$src" || exit 1

M=models/multi30k-base
E=models/encoder-base
W=$work
stories=data/stories260K

# Broken copies of real files.
cp -r "$M" "$W/bad-json" && echo "{ not json" >"$W/bad-json/config.json"
cp -r "$M" "$W/bad-field" && sed -i 's/"d_model": 256/"d_model": "big"/' "$W/bad-field/config.json"
cp -r "$M" "$W/short-weights" && head -c 100 "$M/model.safetensors" >"$W/short-weights/model.safetensors"
cp -r "$M" "$W/huge-header" && printf '\xff\xff\xff\xff\xff\xff\xff\x7f{}' >"$W/huge-header/model.safetensors"
printf 'train:\n  lr: [1, 2\n' >"$W/bad.yaml"
printf 'sentence\tlabel\nhello\t1\nno tab here\n' >"$W/bad.tsv"
echo '{"data": [ {"title": 1}' >"$W/bad-squad.json"
printf '? [a, b]\n: 1\n' >"$W/map-key.yaml"                    # found by fuzz_recipe
echo '{"data": [], "version": 8e613}' >"$W/huge-number.json"  # found by fuzz_squad
cp -r "$E" "$W/bad-record" && echo '{"compression_chain": 5}' >"$W/bad-record/slimformer.json"
mkdir -p "$W/bad-search" &&  # found by fuzz_search_log
  echo '{"event": "result", "stage": 1, "index": 0, "score": 0.5}' >"$W/bad-search/search_log.jsonl"
head -c 50 "$stories/stories260K.bin" >"$W/short.bin"
head -c 30 "$stories/tok512.bin" >"$W/short-tok.bin"

# row NAME MESSAGE -- COMMAND ARGS...
row() {
  local name=$1 message=$2
  shift 3
  local out rc
  out=$("$bin" "$@" 2>&1 >/dev/null)
  rc=$?
  out=${out%%$'\n'*}
  if [[ $rc -eq 1 && "$out" == "$message"* ]]; then
    echo "ok: $name"
  else
    echo "FAILED: $name (exit $rc, first line: $out; expected: $message)"
    failures=$((failures + 1))
  fi
}

row "config.json not JSON" "error: $W/bad-json/config.json: malformed JSON" -- info "$W/bad-json"
row "config.json field of the wrong type" "error: $W/bad-field/config.json: field d_model has the wrong type" -- info "$W/bad-field"
row "safetensors shorter than its header" "error: $W/short-weights/model.safetensors: safetensors header length" -- translate "$W/short-weights" --input /dev/null
row "safetensors header beyond the limit" "error: $W/huge-header/model.safetensors: safetensors header length 9223372036854775807 exceeds" -- info "$W/huge-header"
row "slimformer.json field of the wrong type" "error: $W/bad-record/slimformer.json: compression_chain must be a list" -- info "$W/bad-record"
row "search log line without its candidate" "error: $W/bad-search/search_log.jsonl:1: a log line needs event, stage, index and architecture" -- report "$W/bad-search"
row "recipe not YAML" "error: $W/bad.yaml:3: malformed recipe" -- train --config "$W/bad.yaml"
row "recipe key that is not a name" "error: $W/map-key.yaml:1: malformed recipe: bad conversion" -- train --config "$W/map-key.yaml"
row "SQuAD number beyond a double" "error: $W/huge-number.json: malformed JSON: [json.exception.out_of_range.406]" -- finetune "$E" --squad --squad-file "$W/huge-number.json" --output "$W/o2b"
row "labelled file with a short row" "error: $W/bad.tsv:3: expected 2 tab-separated columns" -- finetune "$E" --text-columns sentence --label-column label --labels 0,1 --train-file "$W/bad.tsv" --dev-file "$W/bad.tsv" --output "$W/o1"
row "SQuAD file not JSON" "error: $W/bad-squad.json: malformed JSON" -- finetune "$E" --squad --squad-file "$W/bad-squad.json" --output "$W/o2"
row "llama2.c checkpoint truncated" "error: $W/short.bin: truncated" -- import "$W/short.bin" --tokenizer "$stories/tok512.bin" --output "$W/o3"
row "llama2.c tokenizer truncated" "error: $W/short-tok.bin: 2 tokens" -- import "$stories/stories260K.bin" --tokenizer "$W/short-tok.bin" --output "$W/o4"
row "a text file that is not there" "error: $W/none.txt: file not found" -- pretrain --train-text "$W/none.txt" --output "$W/o5"
row "generate on a translation model" "error: $M: model_type seq2seq is not a causal language model" -- generate "$M" --prompt hi
row "export to an unknown format" "error: --format must be slimformer or hf, got onnx" -- export "$M" --format onnx --output "$W/o6"
row "importance with an unknown score" "error: --scores must name contribution and/or criticality" -- importance "$M" --scores speed
row "prune-modules of a sublayer not there" "error: no sublayer decoder.layers.9.ffn in this model" -- prune-modules "$M" --paths decoder.layers.9.ffn --output "$W/o7"
row "rewind of a malformed path" "error: no sublayer x.y in this model" -- rewind "$M" --paths x.y --output "$W/o8"
row "sparsity out of range" "error: --sparsity must be in [0, 1), got 1.5" -- sparsify "$M" --sparsity 1.5 --output "$W/o9"
SLIMFORMER_SPARSE_KERNELS=sometimes row "an unknown sparse-kernel setting in the environment" \
  "error: SLIMFORMER_SPARSE_KERNELS must be 0, auto (or 1) or always, not 'sometimes'" -- \
  bench forward --models "$E" --settings 1x8 --rounds 1 --steps 1
row "an unknown --sparse-kernels" "error: --sparse-kernels must be 0, auto (or 1) or always, not 'never'" -- \
  bench forward --models "$E" --settings 1x8 --rounds 1 --steps 1 --sparse-kernels auto,never
row "linearize an encoder" "error: an encoder-only model has no decoder to run as an RNN" -- linearize "$E" --output "$W/o10"
row "decompose a translation model" "error: decompose needs an encoder with a pair input" -- decompose "$M" --k 1 --output "$W/o11"
row "cache with a masked-LM encoder" "error: answering questions needs a span-QA encoder" -- cache "$E" --passages "$W/none.tsv" --output "$W/o12"
row "serve a masked-LM encoder" "error: answering questions needs a span-QA encoder" -- serve "$E" --cache "$W/none" --port 0
row "search without a teacher" "error: $W/none/config.json: cannot open file" -- search "$W/none" --train-text "$W/bad.tsv" --output "$W/o13"
row "compress without a recipe" "--config is required" -- compress "$M" --output "$W/o14"
row "compare a directory that is no checkpoint" "error: $W/none: not a checkpoint directory (no config.json)" -- compare "$M" "$W/none" --output "$W/o15"
row "report without importance results" "error: $W/none: no importance results" -- report "$W/none"
row "chart without its axis" "--x is required" -- chart "$W/none.json"
row "doctor with no matrix" "--size: Value 0 not in range 1 to 16384" -- doctor --size 0
row "a negative learning rate" "error: --lr must be in [1e-12, 10], got -1.0" -- train --lr -1 --output "$W/o16"
row "an unknown GLUE task" "error: unknown GLUE task MNLI-X" -- finetune "$E" --glue MNLI-X --output "$W/o17"
row "--text on a translation model" "error: --text applies to language models and masked-LM encoders" -- evaluate "$M" --text "$W/x.txt"
row "--on-non-finite of neither kind" "error: --on-non-finite must be one of" -- train --on-non-finite sometimes --output "$W/o18"
row "a recipe key no command has" "error: " -- sparsify "$M" --config "$W/bad.yaml"
row "a device that is not there" "error: --device" -- info "$M" --device tpu

exit $((failures > 0))
