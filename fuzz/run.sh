#!/usr/bin/env bash
# Runs every fuzz target for SECONDS seconds from seeds made of the bundled files, then replays
# the inputs of crashes found before (fuzz/regressions/TARGET/*), which must all pass. Prints one
# JSON line per target: executions, coverage (edges), corpus size and crashes.
# Usage: [FUZZ_TARGETS="fuzz_squad ..."] fuzz/run.sh BUILD_DIR [SECONDS]
set -uo pipefail
build=$1
seconds=${2:-30}
here=$(cd "$(dirname "$0")" && pwd)
root=$here/..
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TMPDIR=$work  # the targets' input files

# Seeds: small pieces of the bundled files of each kind.
seed() { mkdir -p "$work/seeds/$1"; cat >"$work/seeds/$1/$2"; }
for r in "$root"/recipes/*.yaml; do printf '\0' | cat - "$r" | seed fuzz_recipe "$(basename "$r")"; done
printf '\1{"train": {"lr": 0.001, "max_steps": 10}, "output": "runs/x"}' | seed fuzz_recipe json
zcat "$root/data/glue/SST-2/dev.tsv.gz" | head -n 20 | { printf '\0'; cat; } | seed fuzz_text_task sst2
zcat "$root/data/glue/MRPC/dev.tsv.gz" | head -n 10 | { printf '\1'; cat; } | seed fuzz_text_task mrpc
zcat "$root/data/glue/STS-B/dev.tsv.gz" | head -n 10 | { printf '\2'; cat; } | seed fuzz_text_task stsb
printf '\3review,1,label\n"a ""good"" film",ok,pos\nbad,"two\nlines",neg\n' | seed fuzz_text_task csv
python3 - "$root/data/squad/dev-v1.1.json.gz" <<'PY' | seed fuzz_squad dev
import gzip, json, sys
d = json.load(gzip.open(sys.argv[1]))
d["data"] = [dict(a, paragraphs=a["paragraphs"][:1]) for a in d["data"][:2]]
print(json.dumps(d))
PY
printf 'p1\tThe first passage.\np2\tAnother one, with more words.\n' | seed fuzz_passages tsv
zcat "$root/data/multi30k/val.en.gz" | head -n 20 | { printf '\0'; cat; } | seed fuzz_text_file plain
{ printf '\1'; zcat "$root/data/multi30k/val.en.gz" | head -n 20 | gzip -c; } | seed fuzz_text_file gz
{ printf '\0'; cat "$root/data/stories260K/tok512.bin"; } | seed fuzz_tokenizers llama2c
printf '\1[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nonce\nupon\na\ntime\n,\nlil\n##y\n##s\ncat\n' |
  seed fuzz_tokenizers wordpiece
python3 - <<'PY' | seed fuzz_safetensors tiny
import json, struct, sys
data = struct.pack("<6f", *range(6)) + struct.pack("<4i", 1, 2, 3, 4)
header = {"__metadata__": {"format": "pt"},
          "w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
          "i": {"dtype": "I32", "shape": [4], "data_offsets": [24, 40]}}
h = json.dumps(header).encode()
sys.stdout.buffer.write(struct.pack("<Q", len(h)) + h + data)
PY
python3 - <<'PY' | seed fuzz_safetensors sparse
import json, struct, sys
# w = [[1, 0, 2], [0, 0, 3]] in compressed sparse rows
values, columns, offsets = struct.pack("<3f", 1, 2, 3), struct.pack("<3h", 0, 2, 2), struct.pack("<3i", 0, 2, 3)
sparse = {"format": "csr", "version": 1, "tensors": {"w": {"shape": [2, 3], "columns": "uint16"}}}
header = {"__metadata__": {"format": "pt", "slimformer.sparse": json.dumps(sparse)},
          "w.csr_values": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]},
          "w.csr_columns": {"dtype": "I16", "shape": [3], "data_offsets": [12, 18]},
          "w.csr_row_offsets": {"dtype": "I32", "shape": [3], "data_offsets": [18, 30]}}
h = json.dumps(header).encode()
sys.stdout.buffer.write(struct.pack("<Q", len(h)) + h + values + columns + offsets)
PY
for m in "$root"/models/*/; do
  seed fuzz_config "$(basename "$m")" <"$m/config.json"
  seed fuzz_record "$(basename "$m")" <"$m/slimformer.json"
done
python3 - "$root/models/encoder-base/config.json" <<'PY' | seed fuzz_config blocks
import json, sys
c = json.load(open(sys.argv[1]))
c["blocks"] = {"encoder.layers.0.ffn": {"kind": "ffn_expression", "options": {
                   "expression": "linear2_2(gelu(linear2_2(max(x,tanh(x)),wb1)),wb2)"}},
               "encoder.layers.1.self_attn": {"kind": "linear_attention", "options": {"heads": 4}}}
c["removed_sublayers"] = ["encoder.layers.2.ffn"]
print(json.dumps(c))
PY
printf '{"task": {"squad": {"file": "squad.json", "held_out_articles": 2, "max_length": 128}, "glue": "SST-2", "dev_file": "dev.tsv"}, "compression_chain": [{"command": "sparsify", "options": {"sparsity": 0.7, "prune": {"schedule": "gradual"}}}]}' |
  seed fuzz_record chain
python3 - <<'PY' | seed fuzz_llama2c tiny
import struct, sys
dim, hidden, layers, heads, kv_heads, vocab, seq = 8, 16, 1, 2, 2, 16, 4
kv = dim * kv_heads // heads
sizes = [vocab * dim, layers * dim, layers * dim * dim, layers * kv * dim, layers * kv * dim,
         layers * dim * dim, layers * dim, layers * hidden * dim, layers * dim * hidden,
         layers * hidden * dim, dim, seq * dim // heads // 2, seq * dim // heads // 2]
floats = [((i * 7919) % 200 - 100) / 400 for i in range(sum(sizes))]
sys.stdout.buffer.write(struct.pack("<7i", dim, hidden, layers, heads, kv_heads, vocab, seq) +
                        struct.pack(f"<{len(floats)}f", *floats))
PY
python3 - <<'PY' | seed fuzz_passage_cache entry
import json, struct, sys
def fnv1a(b):
    h = 0xcbf29ce484222325
    for c in b:
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h
header = json.dumps({"id": "p1", "text": "A passage.", "dtype": "float32", "d_model": 2,
                     "windows": [{"passage_offset": 0, "length": 2, "tokens": [7, 9, 3]}]}).encode()
body = b"SFPC" + struct.pack("<II", 1, len(header)) + header + struct.pack("<6f", *range(6))
sys.stdout.buffer.write(b"\x02" + body + struct.pack("<Q", fnv1a(body)))
PY
printf '\1{"model_fingerprint": "0123abcd", "separate_layers": 2, "d_model": 64, "max_length": 128, "doc_stride": 64, "max_query_length": 32, "passage_start": 20}' |
  seed fuzz_passage_cache identity
cat <<'LOG' | seed fuzz_search_log log
{"event": "claim", "stage": 1, "index": 0, "architecture": "linear1_1(gelu(linear1_1(x,wb1)),wb2)", "pid": 1, "host": "elsewhere", "region": "random"}
{"event": "result", "stage": 1, "index": 0, "architecture": "linear1_1(gelu(linear1_1(x,wb1)),wb2)", "score": 0.41, "parameters": 8320}
{"event": "claim", "stage": 1, "index": 1, "architecture": "linear2_2(gelu(linear2_2(max(x,tanh(x)),wb1)),wb2); linear1_4(relu(linear1_4(x,wb1)),wb2)", "pid": 999999, "host": "here"}
LOG
for e in 'linear1_1(gelu(linear1_1(x,wb1)),wb2)' 'linear2_2(gelu(linear2_2(max(x,tanh(x)),wb1)),wb2)' \
  'linear4_3(mul(sigmoid(linear4_3(x,wb1)),linear4_3(x,wb1)),wb2)'; do
  printf '%s' "$e" | seed fuzz_expression "$(printf '%s' "$e" | md5sum | cut -c1-8)"
done

status=0
targets=${FUZZ_TARGETS:-fuzz_recipe fuzz_text_task fuzz_squad fuzz_passages fuzz_text_file
  fuzz_tokenizers fuzz_safetensors fuzz_config fuzz_record fuzz_llama2c fuzz_passage_cache
  fuzz_search_log fuzz_expression}
for target in $targets; do
  [ -x "$build/$target" ] || { echo "{\"target\": \"$target\", \"skipped\": \"not built\"}"; continue; }
  corpus=$work/corpus/$target
  mkdir -p "$corpus" "$work/crashes/$target"
  "$build/$target" "$corpus" "$work/seeds/$target" -max_total_time="$seconds" -max_len=16384 \
    -print_final_stats=1 -artifact_prefix="$work/crashes/$target/" >"$work/$target.log" 2>&1
  rc=$?
  crashes=$(find "$work/crashes/$target" -type f | wc -l)
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$work/$target.log" | grep -oE '[0-9]+$')
  edges=$(grep -oE 'cov: [0-9]+' "$work/$target.log" | tail -1 | grep -oE '[0-9]+')
  echo "{\"target\": \"$target\", \"seconds\": $seconds, \"executions\": ${runs:-0}, \"edges\": ${edges:-0}, \"corpus\": $(ls "$corpus" | wc -l), \"crashes\": $crashes}"
  if ((rc != 0 || crashes > 0)); then
    status=1
    grep -E "ERROR|not a UserError|SUMMARY" "$work/$target.log" | head -5
    mkdir -p "$root/fuzz/found/$target" && cp "$work/crashes/$target"/* "$root/fuzz/found/$target/" 2>/dev/null
  fi
  # Inputs that crashed a loader once, kept as regression tests.
  if [ -d "$here/regressions/$target" ]; then
    "$build/$target" "$here/regressions/$target"/* >"$work/$target.replay.log" 2>&1 ||
      { echo "FAILED: a kept input of $target crashes again"; status=1; }
  fi
done
exit $status
