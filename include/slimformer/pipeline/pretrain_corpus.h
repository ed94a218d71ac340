// The text masked-LM pre-training reads: plain text, and the unlabelled text of the GLUE and SQuAD
// files the fine-tuning commands read, so one corpus can hold all of the bundled English; and the
// sentence pairs made of it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "slimformer/data/masked_lm.h"
#include "slimformer/data/tokenizer.h"

namespace slimformer::pipeline {

// The lines of each file, in order, by kind:
// - a GLUE .tsv file in its task's folder (data/glue/SST-2/train.tsv): each row's sentence, and a
//   pair's second sentence on the next line, so that the two become one segment pair;
// - a SQuAD .json or .json.gz file: the passages of its training articles only, under the split
//   finetune --squad uses by default, so no validation or held-out passage is pre-trained on;
// - anything else: plain text (or gzip), one line each.
std::vector<std::string> read_pretrain_corpus(const std::vector<std::string>& paths);

// The sentence pairs masked-LM training and evaluation read from the lines of `corpus`
// (data::make_segment_pairs; `seed` draws where each pair splits into its two segments).
std::vector<data::SegmentPair> masked_lm_pairs(const data::Tokenizer& tokenizer,
                                               const std::vector<std::string>& corpus,
                                               int64_t max_length, uint64_t seed);

}  // namespace slimformer::pipeline
