#!/usr/bin/env bash
# End-to-end checks of the FFN search (EfficientBERT) on a tiny teacher: the three stages, a
# stage resumed from its log, the student, the report, and the one-line errors.
# Usage: search_e2e.sh SLIMFORMER SOURCE_DIR
set -uo pipefail
source "$(dirname "$0")/checks.sh"
cd "$src" || exit 1

zcat data/multi30k/train.en.gz | head -n 1500 >"$work/text.txt"
"$bin" pretrain --train-text "$work/text.txt" --valid-pairs 20 --vocab-size 300 --d-model 32 \
  --encoder-layers 2 --encoder-attention-heads 4 --encoder-ffn-dim 64 --max-length 64 \
  --max-tokens 1024 --warmup-steps 1 --max-steps 2 --normalize-before \
  --position-embedding rotary --output "$work/pt" >"$work/pt.txt" 2>&1
check "the teacher for the checks" test -f "$work/pt/best/model.safetensors"

small=(--train-text "$work/text.txt" --valid-pairs 20 --max-length 64 --max-tokens 512
  --candidate-steps 2 --supernet-warmup 2 --validate-every 2)
"$bin" search "$work/pt/best" --stage 1 --candidates 2 "${small[@]}" --output "$work/s" \
  >"$work/s1a.txt" 2>&1
check "stage 1 logs its candidates" test "$(grep -c '"event":"result"' "$work/s/search_log.jsonl")" = 2
first=$(grep '"event":"result"' "$work/s/search_log.jsonl" | head -n 2)
# Asking for more candidates continues the stage from its log, keeping what was evaluated.
"$bin" search "$work/pt/best" --stage 1 --candidates 3 "${small[@]}" --output "$work/s" \
  >"$work/s1b.txt" 2>&1
check "a resumed stage keeps its evaluated candidates" \
  test "$(grep '"event":"result"' "$work/s/search_log.jsonl" | head -n 2)" = "$first"
check "a resumed stage evaluates only the new candidate" \
  test "$(grep -c '"event":"result"' "$work/s/search_log.jsonl")" = 3
check "the super-network is built once" \
  test "$(grep -c 'warm-up distillation' "$work/s1b.txt")" = 0
# --nproc 2: a helper process shares the stage's candidates through the log (candidates long
# enough that the helper, a second or so to start, gets some).
"$bin" search "$work/pt/best" --stage 1 --candidates 4 --nproc 2 "${small[@]}" \
  --candidate-steps 30 --output "$work/s-nproc" >"$work/s-nproc.txt" 2>&1
check "--nproc 2: the stage ends with every candidate evaluated" \
  test "$(grep -c '"event":"result"' "$work/s-nproc/search_log.jsonl")" = 4
check "--nproc 2: the helper evaluated candidates of its own" \
  grep -q "stage 1 candidate" "$work/s-nproc/workers/rank-1.log"
check "--nproc 2: the best is chosen among all of them" grep -q "best of stage 1 (4 candidates)" \
  "$work/s-nproc.txt"
"$bin" search "$work/pt/best" --stage 2 --candidates 2 "${small[@]}" --output "$work/s" \
  >"$work/s2.txt" 2>&1
check "stage 2 keeps stage 1's sizes" grep -q "stage 2 keeps the sizes of stage 1's best" "$work/s2.txt"
"$bin" search "$work/pt/best" --stage 3 --candidates 2 --sharing-steps 2 "${small[@]}" \
  --output "$work/s" >"$work/s3.txt" 2>&1
check "stage 3 trains a weight-sharing super-network" test -f "$work/s/supernet-stage3/model/config.json"
check "stage 3 logs its candidates" \
  test "$(jq -c 'select(.event == "result" and .stage == 3)' "$work/s/search_log.jsonl" | wc -l)" = 2
# Stage 3 as the method's code runs it: the weight-sharing super-network also fine-tuned on
# several GLUE tasks at once, candidates scored by the tasks' mean on held-out training examples.
fixed=$(jq -r 'select(.event == "result" and .stage == 2) | .architecture' "$work/s/search_log.jsonl" | head -n 1)
"$bin" search "$work/pt/best" --stage 3 --fixed "$fixed" --candidates 2 --sharing-steps 2 \
  --glue-tasks WNLI,MRPC --glue-steps 2 "${small[@]}" --output "$work/s3g" >"$work/s3g.txt" 2>&1
check "stage 3 fine-tunes its super-network on the GLUE tasks" \
  jq -e '.tasks | length == 2' "$work/s3g/supernet-stage3-glue/model/slimformer.json"
check "stage 3 scores candidates by the tasks' mean" \
  test "$(jq -c 'select(.event == "result" and .stage == 3 and (.metrics | has("average")) and (.metrics | has("MRPC.f1")))' "$work/s3g/search_log.jsonl" | wc -l)" = 2
"$bin" search "$work/pt/best" --student best --student-steps 2 "${small[@]}" --output "$work/s" \
  >"$work/student.txt" 2>&1
check "the student is delivered" test -f "$work/s/students/searched/best/model.safetensors"
check "the student records its searched FFNs" \
  grep -q '"kind": "ffn_expression"' "$work/s/students/searched/best/config.json"
"$bin" finetune "$work/s/students/searched/best" --glue WNLI --max-steps 2 --validate-every 2 \
  --max-tokens 512 --output "$work/wnli" >"$work/wnli.txt" 2>&1
check "a searched model fine-tunes like any encoder" test -f "$work/wnli/best/config.json"
"$bin" report "$work/s" >"$work/report.txt" 2>&1
check "report draws the search" grep -q "<svg" "$work/s/report.html"

expect_error "an unknown stage" 1 "--stage must be 1, 2 or 3, got 4" -- \
  "$bin" search "$work/pt/best" --stage 4 --output "$work/x"
expect_error "--max-steps names the search's own budgets" 1 \
  "--max-steps: train.max_steps does not apply to search; its budgets are --supernet-warmup" -- \
  "$bin" search "$work/pt/best" --max-steps 5 --output "$work/x"
expect_error "GLUE tasks outside stage 3" 1 "--glue-tasks applies to stage 3 only" -- \
  "$bin" search "$work/pt/best" --stage 1 --glue-tasks SST-2 --output "$work/x"
expect_error "an unknown GLUE task" 1 "--glue-tasks: unknown GLUE task SST-5 (expected one of" -- \
  "$bin" search "$work/pt/best" --stage 3 --glue-tasks SST-2,SST-5 --output "$work/x"
expect_error "GLUE scores beside masked-LM scores in one stage" 1 \
  "search_log.jsonl: stage 3 was scored by masked-token accuracy; give another --output to score it on GLUE tasks" -- \
  "$bin" search "$work/pt/best" --stage 3 --candidates 3 --sharing-steps 2 --glue-tasks WNLI \
  --glue-steps 2 "${small[@]}" --output "$work/s"
expect_error "a GLUE super-network of other tasks" 1 \
  "supernet-stage3-glue/model was fine-tuned on the tasks [\"WNLI\",\"MRPC\"], not [\"MRPC\",\"WNLI\"]; give another --output" -- \
  "$bin" search "$work/pt/best" --stage 3 --fixed "$fixed" --candidates 3 --sharing-steps 2 \
  --glue-tasks MRPC,WNLI --glue-steps 2 "${small[@]}" --output "$work/s3g"
mkdir -p "$work/mnli/MNLI" && printf 'sentence1\tsentence2\tgold_label\n' >"$work/mnli/MNLI/train.tsv"
expect_error "two GLUE tasks of one training file" 1 \
  "MNLI-MM trains on $work/mnli/MNLI/train.tsv, as another of the tasks does; name the task once" -- \
  "$bin" search "$work/pt/best" --stage 3 --fixed "$fixed" --candidates 3 --sharing-steps 2 \
  --glue-tasks MNLI,MNLI-MM --glue-dir "$work/mnli" --glue-steps 2 "${small[@]}" --output "$work/s3g"
expect_error "a GLUE task named twice" 1 "--glue-tasks must name each task once" -- \
  "$bin" search "$work/pt/best" --stage 3 --glue-tasks sst-2,SST-2 --output "$work/x"
expect_error "an unknown sampler" 1 "lanas" -- \
  "$bin" search "$work/pt/best" --sampler grid --output "$work/x"
expect_error "a bad fixed architecture" 1 "--fixed: expression 'linear1_1(gelu(x)', character 18: expected ','" -- \
  "$bin" search "$work/pt/best" --stage 2 --fixed "linear1_1(gelu(x)" "${small[@]}" --output "$work/x"
expect_error "a teacher without a masked-LM head" 1 "the FFN search distils from an encoder with a masked-LM head" -- \
  "$bin" search models/multi30k-base "${small[@]}" --output "$work/x"
exit $failures
