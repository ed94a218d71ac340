// The search log (JSON lines): read back for a resumed search, its results turned into the
// sampler's history, and a claim and a result appended to it, as a searching process does.
#include "fuzz_input.h"
#include "slimformer/methods/search/search_log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slimformer;
  const std::string path = fuzz::write_input(data, size, ".jsonl");
  return fuzz::expect_user_errors_only([&] {
    methods::SearchLog log(path);
    methods::evaluated_samples(log.results(1));
    const auto propose = [](const std::vector<methods::EvaluatedSample>&,
                            const std::set<std::string>&, int64_t) {
      return std::pair{methods::Architecture::parse("linear1_1(gelu(linear1_1(x,wb1)),wb2)"),
                       std::string("random")};
    };
    if (auto claim = log.claim(1, 64, propose)) log.record(*claim, {{"score", 0.5}});
    methods::evaluated_samples(log.results(0));
  });
}
