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

status=0
targets=${FUZZ_TARGETS:-fuzz_recipe fuzz_text_task fuzz_squad fuzz_passages fuzz_text_file
  fuzz_tokenizers fuzz_safetensors}
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
