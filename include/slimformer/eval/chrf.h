// Corpus chrF as sacreBLEU computes it by default (Popović 2015): character n-grams of orders
// 1-6 over Unicode code points with whitespace removed, statistics summed over the corpus,
// precision and recall averaged over the orders, then F-beta with beta = 2.
#pragma once

#include <string>
#include <vector>

namespace slimformer::eval {

struct ChrfResult {
  double score = 0.0;  // 0..100
  std::string signature() const {
    return "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.0.0";
  }
};

ChrfResult corpus_chrf(const std::vector<std::string>& hypotheses,
                       const std::vector<std::string>& references);

}  // namespace slimformer::eval
