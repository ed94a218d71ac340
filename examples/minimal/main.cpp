// Loads a translation checkpoint, lists its sublayers and translates one sentence.
//   translate_one MODEL_DIR "A man is riding a bike."
#include <iostream>

#include "slimformer/eval/decoding.h"
#include "slimformer/train/checkpoint.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: translate_one MODEL_DIR SENTENCE\n";
    return 1;
  }
  try {
    auto ckpt = slimformer::train::load_seq2seq(argv[1], torch::kCPU);
    std::cout << "sublayers:";
    for (auto& s : ckpt.model->sublayers()) std::cout << ' ' << s->path();
    std::cout << '\n';
    slimformer::eval::DecodeOptions options;
    options.beam_size = 4;
    auto out =
        slimformer::eval::translate(*ckpt.model, ckpt.vocab, {argv[2]}, options, torch::kCPU);
    std::cout << out.at(0) << '\n';
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
