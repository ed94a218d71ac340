// Decoding flags shared by translate, evaluate and quickstart.
#pragma once

#include <CLI/CLI.hpp>

#include "slimformer/eval/decoding.h"

namespace slimformer::tools {

inline void add_decode_options(CLI::App* cmd, eval::DecodeOptions& o) {
  cmd->add_option("--beam", o.beam_size, "beam size (1: greedy)")
      ->capture_default_str()
      ->group("Decoding");
  cmd->add_option("--length-penalty", o.length_penalty, "beam scores are divided by length^this")
      ->capture_default_str()
      ->group("Decoding");
  cmd->add_option("--max-length-a", o.max_length_a, "output at most a * source length + b tokens")
      ->capture_default_str()
      ->group("Decoding");
  cmd->add_option("--max-length-b", o.max_length_b, "see --max-length-a")
      ->capture_default_str()
      ->group("Decoding");
  cmd->add_option("--max-tokens", o.max_tokens, "tokens per decoding batch")
      ->capture_default_str()
      ->group("Decoding");
}

}  // namespace slimformer::tools
