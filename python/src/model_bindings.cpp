// slimformer.Model: a checkpoint of any family, loaded once, with what each family does
// (translate, generate, classify), its evaluation, and its parameters as tensors.
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include "bindings.h"
#include "python_json.h"
#include "slimformer/core/error.h"
#include "slimformer/core/runtime.h"
#include "slimformer/data/vocab.h"
#include "slimformer/eval/decoding.h"
#include "slimformer/eval/generation.h"
#include "slimformer/eval/glue_predict.h"
#include "slimformer/models/causal_lm.h"
#include "slimformer/models/encoder.h"
#include "slimformer/models/seq2seq.h"
#include "slimformer/pipeline/evaluation.h"
#include "slimformer/train/checkpoint.h"
#include "tensors.h"

namespace py = pybind11;

namespace slimformer::python {

namespace {

class Model {
 public:
  Model(const std::filesystem::path& dir, const std::string& device)
      : dir_(dir), device_(core::parse_device(device, "device")) {
    loaded_ = train::load_model(dir, device_);
  }

  std::string family() const { return loaded_.family(); }
  py::object config() const { return to_python(loaded_.model->config().to_json()); }
  py::object record() const { return to_python(loaded_.record); }
  int64_t parameters() const { return loaded_.model->num_parameters(); }

  py::list sublayers() const {
    py::list list;
    for (const auto& sublayer : loaded_.model->sublayers()) {
      py::dict row;
      row["path"] = sublayer->path();
      row["type"] = nn::sublayer_type_name(sublayer->type());
      row["removed"] = sublayer->removed();
      row["kind"] = sublayer->removed() ? std::string() : sublayer->block()->kind();
      row["parameters"] = sublayer->removed() ? 0 : sublayer->num_parameters();
      list.append(row);
    }
    return list;
  }

  // Copies of the parameters and buffers, by path, as capsules (slimformer.Model.state_dict
  // turns them into tensors).
  py::dict state_capsules() const {
    py::dict state;
    for (const auto& [name, tensor] : loaded_.model->state())
      state[py::str(name)] = to_capsule(tensor);
    return state;
  }

  void load_capsules(const py::dict& capsules) {
    core::TensorMap tensors;
    for (const auto& [key, capsule] : capsules) {
      const std::string name = py::str(key);
      tensors[name] = from_capsule(capsule, "state_dict[" + name + "]");
    }
    py::gil_scoped_release release;
    loaded_.model->load_state(tensors, "state_dict");
  }

  std::vector<std::string> translate(const std::vector<std::string>& lines,
                                     const eval::DecodeOptions& options) {
    auto model = pipeline::require_family<models::Seq2SeqTransformerImpl>(
        loaded_, "translate needs a translation model", dir_.string());
    const auto& vocab = dynamic_cast<const data::Vocab&>(*loaded_.tokenizer);
    py::gil_scoped_release release;
    torch::NoGradGuard no_grad;
    return eval::translate(*model, vocab, lines, options, device_);
  }

  std::string generate(const std::string& prompt, const eval::GenerateOptions& options) {
    auto model = pipeline::require_family<models::CausalLMImpl>(
        loaded_, "generate needs a causal language model", dir_.string());
    py::gil_scoped_release release;
    torch::NoGradGuard no_grad;
    return eval::continue_prompt(*model, *loaded_.tokenizer, prompt, options);
  }

  // Class indices (or scores, for a regression head) of sentences or sentence pairs.
  std::vector<double> classify(const std::vector<std::string>& texts,
                               const std::vector<std::string>& pairs, int64_t max_length,
                               int64_t max_tokens) {
    auto model = pipeline::require_family<models::EncoderModelImpl>(
        loaded_, "classify needs a classification encoder", dir_.string());
    if (model->config().encoder_head != "classification")
      throw core::UserError(dir_.string() + " has a " + model->config().encoder_head +
                            " head; classify needs a classification encoder");
    if (!pairs.empty() && pairs.size() != texts.size())
      throw core::UserError("classify: " + std::to_string(pairs.size()) + " second texts for " +
                            std::to_string(texts.size()) + " first texts");
    std::vector<data::TextExample> examples(texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
      examples[i].text_a = texts[i];
      if (!pairs.empty()) examples[i].text_b = pairs[i];
    }
    py::gil_scoped_release release;
    torch::NoGradGuard no_grad;
    auto encoded = eval::encode_glue(examples, *loaded_.tokenizer, max_length);
    return eval::predict_glue(*model, encoded, max_tokens, device_);
  }

  py::dict evaluate(pipeline::EvaluationOptions options) {
    options.device = device_;
    pipeline::check_options_apply(loaded_, options, dir_.string());
    nlohmann::json result;
    {
      py::gil_scoped_release release;
      pipeline::use_bundled_data(options, loaded_.model->config(), pipeline::DataSplit::kTest);
      auto evaluator = pipeline::make_evaluator(loaded_, options, dir_.string());
      const double value = evaluator->evaluate({});
      result = {{"metric", evaluator->metric()},
                {"value", value},
                {"higher_is_better", evaluator->higher_is_better()},
                {"examples", evaluator->examples()},
                {"summary", evaluator->summary()},
                {"details", evaluator->details()}};
    }
    return to_python(result);
  }

  void save(const std::filesystem::path& dir) const {
    py::gil_scoped_release release;
    train::save_model(dir, loaded_, nlohmann::json::object(), loaded_.stored_dtype);
  }

  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  torch::Device device_;
  train::LoadedModel loaded_;
};

}  // namespace

void bind_model(py::module_& m) {
  py::class_<eval::DecodeOptions>(m, "DecodeOptions")
      .def(py::init<>())
      .def_readwrite("beam_size", &eval::DecodeOptions::beam_size)
      .def_readwrite("length_penalty", &eval::DecodeOptions::length_penalty)
      .def_readwrite("max_length_a", &eval::DecodeOptions::max_length_a)
      .def_readwrite("max_length_b", &eval::DecodeOptions::max_length_b)
      .def_readwrite("max_tokens", &eval::DecodeOptions::max_tokens);

  py::class_<eval::GenerateOptions>(m, "GenerateOptions")
      .def(py::init<>())
      .def_readwrite("max_new_tokens", &eval::GenerateOptions::max_new_tokens)
      .def_readwrite("temperature", &eval::GenerateOptions::temperature)
      .def_readwrite("top_k", &eval::GenerateOptions::top_k)
      .def_readwrite("top_p", &eval::GenerateOptions::top_p)
      .def_readwrite("seed", &eval::GenerateOptions::seed)
      .def_readwrite("beam_size", &eval::GenerateOptions::beam_size)
      .def_readwrite("length_penalty", &eval::GenerateOptions::length_penalty)
      .def_readwrite("stop_ids", &eval::GenerateOptions::stop_ids);

  py::class_<Model>(m, "_Model")
      .def(py::init<const std::filesystem::path&, const std::string&>(), py::arg("dir"),
           py::arg("device") = "cpu")
      .def_property_readonly("dir", &Model::dir)
      .def_property_readonly("family", &Model::family)
      .def_property_readonly("config", &Model::config)
      .def_property_readonly("record", &Model::record)
      .def_property_readonly("parameters", &Model::parameters)
      .def("sublayers", &Model::sublayers)
      .def("state_capsules", &Model::state_capsules)
      .def("load_capsules", &Model::load_capsules)
      .def("translate", &Model::translate)
      .def("generate", &Model::generate)
      .def("classify", &Model::classify)
      .def("evaluate", &Model::evaluate)
      .def("save", &Model::save);
}

}  // namespace slimformer::python
