// Question/passage windows for extractive QA, built the way BERT's SQuAD code builds them: the
// paragraph is split into words at whitespace and each word is tokenized on its own, so every
// sub-word token belongs to one word; a passage longer than the room left after
// "[CLS] question [SEP]" is covered by overlapping windows `doc_stride` tokens apart, and each
// token is scored only in the window where it has the most context on both sides.
#pragma once

#include <string>
#include <vector>

#include "slimformer/data/masked_lm.h"
#include "slimformer/data/squad.h"
#include "slimformer/data/tokenizer.h"

namespace slimformer::data {

struct SquadWindowOptions {
  int64_t max_length = 128;       // tokens per window, [CLS] and [SEP]s included
  int64_t doc_stride = 64;        // passage tokens between the starts of consecutive windows
  int64_t max_query_length = 32;  // longer questions are cut
  // Windows that depend on the passage alone: room for a question of max_query_length whatever
  // the question's length, so every question about a passage gets the same passage windows (what
  // a cache of passage states needs). Off: a short question leaves more room, as BERT's code.
  bool question_independent = false;
};

// One paragraph split into words and sub-word tokens.
struct SquadPassage {
  std::string context;
  std::vector<int64_t> word_begin, word_end;  // byte range of each word in `context`
  std::vector<int64_t> tokens;                // sub-word ids of all words, in order
  std::vector<int64_t> token_word;            // the word each token belongs to
  std::vector<int64_t> word_first_token;      // the first token of each word
};

SquadPassage split_passage(const std::string& context, const Tokenizer& tokenizer);

struct SquadQuestionRef {
  std::string id;
  int64_t passage = 0;
  // The first gold answer as a span of passage tokens (inclusive); -1 when it covers no word.
  int64_t answer_first = -1, answer_last = -1;
};

struct SquadWindow {
  SegmentPair input;                 // [CLS] question [SEP] passage tokens [SEP]
  int64_t question = 0;              // index into SquadFeatures::questions
  int64_t input_offset = 0;          // position in input.tokens of the window's first passage token
  int64_t passage_offset = 0;        // index in SquadPassage::tokens of that token
  int64_t length = 0;                // passage tokens in the window
  std::vector<uint8_t> max_context;  // per passage token: is this its best-context window
  int64_t start = 0, end = 0;        // answer positions in input.tokens; 0 ([CLS]) when outside
};

struct SquadFeatures {
  std::vector<SquadPassage> passages;
  std::vector<SquadQuestionRef> questions;
  std::vector<SquadWindow> windows;
};

// The passage windows of a passage of `passage_tokens` tokens, `room` tokens each at most, starting
// doc_stride tokens apart (less when a window is shorter): (first token, length) pairs.
std::vector<std::pair<int64_t, int64_t>> passage_windows(int64_t passage_tokens, int64_t room,
                                                         int64_t doc_stride);
// Passage tokens per window after a question of `question_tokens` (question_independent: of
// max_query_length).
int64_t passage_room(const SquadWindowOptions& options, int64_t question_tokens);

// A UserError names the option when max_length leaves no room for the passage.
SquadFeatures make_squad_windows(const SquadDataset& dataset, const Tokenizer& tokenizer,
                                 const SquadWindowOptions& options);

// The answer text for passage tokens [first, last]: the original text of the words they belong
// to, narrowed to the tokens' own text where that can be found inside it (so "1895" rather than
// "(1895-1943)." when the model picked only those sub-words).
std::string answer_text(const SquadPassage& passage, const Tokenizer& tokenizer, int64_t first,
                        int64_t last);

}  // namespace slimformer::data
