// A metric of a model's current state on a fixed evaluation set: what importance scoring,
// removal curves and pruning sweeps measure over and over while they change sublayers.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace slimformer::eval {

class ModelEvaluator {
 public:
  virtual ~ModelEvaluator() = default;
  // "bleu", "loss", "ppl", "accuracy", "f1", ...
  virtual std::string metric() const = 0;
  virtual bool higher_is_better() const = 0;
  // The metric of the model as it is now. `changed` lists the sublayer paths whose state
  // differs from the reference state (the model as it was at construction); every other
  // sublayer must be at its reference state, which lets an evaluator reuse work that depends
  // only on unchanged parts (the encoder's output while only decoder sublayers change).
  virtual double evaluate(const std::vector<std::string>& changed) = 0;
  // How many examples one evaluation covers.
  virtual size_t examples() const = 0;
  // Every metric the last evaluation computed, the chosen one included (BLEU comes with chrF,
  // a GLUE accuracy with its F1).
  virtual std::map<std::string, double> details() const { return details_; }
  // The last evaluation in one line, as the family reports it ("SST-2 81.3", "MRPC 84.1/77.2").
  virtual std::string summary() const;

 protected:
  std::map<std::string, double> details_;
};

// The default "within tolerance of the full model" margin of a metric, in its own units:
// 0.5 BLEU (the paper's), 0.5 points of accuracy or F1, 0.01 nats of loss, 1% of perplexity.
double default_threshold(const std::string& metric, double baseline);

// The default clip of contribution scores as a fraction of the full model's metric: 0.1 for BLEU
// and chrF (the paper's 10% of BLEU); 0 (no clipping) for the others, whose drops (perplexity
// that grows manyfold, accuracy that falls to chance) would all saturate such a clip.
double default_clip_fraction(const std::string& metric);

}  // namespace slimformer::eval
