# Shared by the end-to-end scripts (sourced with their arguments SLIMFORMER SOURCE_DIR): the
# program, the source tree, a scratch directory removed on exit, named checks and pinned errors.
bin=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
check() {  # check NAME CONDITION...
  local name=$1
  shift
  if "$@"; then echo "ok: $name"; else echo "FAILED: $name"; failures=$((failures + 1)); fi
}
expect_error() {  # expect_error NAME EXIT_CODE MESSAGE -- COMMAND...
  local name=$1 code=$2 message=$3
  shift 4
  local out rc
  out=$("$@" 2>&1 >/dev/null)
  rc=$?
  if [[ $rc -eq $code && "$out" == *"$message"* ]]; then
    echo "ok: $name"
  else
    echo "FAILED: $name (exit $rc, stderr: $out)"
    failures=$((failures + 1))
  fi
}

require_browser() {  # sets $browser to a headless Chromium, or skips the script, saying so
  browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
  if [ -z "$browser" ]; then
    echo "skipped: no Chromium (apt-get install chromium)"
    exit 0
  fi
}
multi30k_sample() {  # multi30k_sample LINES VALID_LINES: $work/{train,val}.{en,de}
  zcat "$src/data/multi30k/train.en.gz" | head -n "$1" >"$work/train.en"
  zcat "$src/data/multi30k/train.de.gz" | head -n "$1" >"$work/train.de"
  zcat "$src/data/multi30k/val.en.gz" | head -n "$2" >"$work/val.en"
  zcat "$src/data/multi30k/val.de.gz" | head -n "$2" >"$work/val.de"
}
sample_vocab() {  # sample_vocab OUT: a 300-piece vocabulary of the sample in OUT/vocab
  "$bin" train --train-src "$work/train.en" --train-tgt "$work/train.de" --valid-src "$work/val.en" \
    --valid-tgt "$work/val.de" --vocab-size 300 --max-steps 1 --d-model 16 --encoder-layers 1 \
    --decoder-layers 1 --encoder-attention-heads 2 --decoder-attention-heads 2 --bleu-samples 0 \
    --output "$1" >/dev/null 2>&1
}
tiny_translation_model() {  # tiny_translation_model OUT LINES STEPS: trains into OUT, data in $work
  multi30k_sample "$2" 30
  "$bin" train --train-src "$work/train.en" --train-tgt "$work/train.de" --valid-src "$work/val.en" \
    --valid-tgt "$work/val.de" --vocab-size 400 --d-model 32 --encoder-layers 2 --decoder-layers 2 \
    --encoder-attention-heads 4 --decoder-attention-heads 4 --encoder-ffn-dim 64 \
    --decoder-ffn-dim 64 --warmup-steps 2 --max-tokens 600 --bleu-samples 4 --max-steps "$3" \
    --validate-every "$3" --output "$1" >"$1.log" 2>&1
}
