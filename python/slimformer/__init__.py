"""slimformer from Python: load any checkpoint, translate, generate, classify and evaluate with
it, and run each compression method and the side-by-side measurement through the same library
calls as the ``slimformer`` program. Results come back as dicts and lists; parameters as
torch.Tensor where PyTorch is installed, otherwise as numpy arrays.

    import slimformer
    model = slimformer.load("models/multi30k-base")
    model.translate(["A man is riding a bicycle."])
    slimformer.sparsify("models/multi30k-base", "runs/sparse", sparsity=0.5)

Options are keyword arguments named as the program's recipe keys: ``training`` takes the
``train.*`` keys (``lr``, ``max_steps``, ``schedule``, ``warmup_steps``, ...), ``evaluation`` the
fields of EvaluationOptions, ``data`` the fields of FinetuneData. A mistake in a file, field or
option raises slimformer.Error (a ValueError) with the program's one-line message.
"""

from __future__ import annotations

import os
from typing import Any, Iterable, Mapping, Sequence

from . import _slimformer as _native
from ._slimformer import Error, Interrupted, set_threads

__all__ = [
    "Error", "Interrupted", "Model", "load", "set_threads", "measure", "compare", "finetune",
    "finetune_encoder", "prune_modules", "rewind", "sparsify", "linearize", "decompose",
    "importance", "search_stage", "train_student", "options",
]

PathLike = "str | os.PathLike[str]"


def options(kind: str | type, given: Mapping[str, Any] | None = None, **fields: Any) -> Any:
    """An option struct of the library (``"SparsifyOptions"`` or the class) with `fields` set;
    a dict sets the fields of a nested struct. Unknown fields raise TypeError."""
    cls = getattr(_native, kind) if isinstance(kind, str) else kind
    return _fill(cls(), {**(given or {}), **fields}, cls.__name__)


def _fill(target: Any, fields: Mapping[str, Any], where: str) -> Any:
    for name, value in fields.items():
        if name.startswith("_") or not hasattr(target, name):
            known = sorted(n for n in dir(target) if not n.startswith("_"))
            raise TypeError(f"{where} has no option {name!r}; it has: {', '.join(known)}")
        if isinstance(value, Mapping) and not isinstance(getattr(target, name), (dict, type(None))):
            _fill(getattr(target, name), value, f"{where}.{name}")
        else:
            if isinstance(value, os.PathLike):
                value = os.fspath(value)
            setattr(target, name, value)
    return target


# ---------------------------------------------------------------------------------------------
# Tensors cross as DLPack capsules: torch.Tensor where PyTorch is installed, else numpy arrays.

class _Capsule:
    """Gives a capsule the __dlpack__ protocol numpy.from_dlpack expects."""

    def __init__(self, capsule: Any) -> None:
        self._capsule = capsule

    def __dlpack__(self, stream: Any = None) -> Any:
        return self._capsule

    def __dlpack_device__(self) -> tuple[int, int]:
        return (1, 0)  # kDLCPU


def _tensor(capsule: Any, kind: str | None) -> Any:
    if kind not in (None, "torch", "numpy"):
        raise ValueError(f"tensors: torch or numpy, got {kind!r}")
    if kind != "numpy":
        try:
            import torch.utils.dlpack
            return torch.utils.dlpack.from_dlpack(capsule)
        except ImportError:
            if kind == "torch":
                raise
    import numpy
    # Arrays made from DLPack are read-only; a copy the caller may change.
    return numpy.from_dlpack(_Capsule(capsule)).copy()


def _capsule(tensor: Any, name: str) -> Any:
    if not hasattr(tensor, "__dlpack__"):
        raise TypeError(f"state_dict[{name!r}]: expected a torch.Tensor or numpy.ndarray, "
                        f"got {type(tensor).__name__}")
    if hasattr(tensor, "detach"):  # a torch.Tensor that may require grad
        tensor = tensor.detach().contiguous()
    elif not getattr(tensor, "flags", None) or not tensor.flags.writeable:
        tensor = tensor.copy()  # DLPack cannot export a read-only numpy array
    return tensor.__dlpack__()


# ---------------------------------------------------------------------------------------------
# Models


class Model:
    """A checkpoint of any family (translation, causal LM, encoder), loaded once."""

    def __init__(self, path: PathLike, device: str = "cpu") -> None:
        self._model = _native._Model(os.fspath(path), device)

    def __repr__(self) -> str:
        return f"slimformer.Model({str(self.path)!r}: {self.family}, {self.parameters:,} parameters)"

    @property
    def path(self) -> str:
        return str(self._model.dir)

    @property
    def family(self) -> str:
        """"seq2seq", "causal_lm" or "encoder"."""
        return self._model.family

    @property
    def config(self) -> dict:
        return self._model.config

    @property
    def record(self) -> dict | None:
        """slimformer.json: how the model was made (command, options, task, compression chain)."""
        return self._model.record

    @property
    def parameters(self) -> int:
        return self._model.parameters

    @property
    def labels(self) -> list[str] | None:
        """A classification encoder's class labels, as its task's files write them."""
        record = self.record or {}
        for task in (record.get("task") or {}, (record.get("options") or {}).get("task") or {}):
            if isinstance(task.get("text"), dict):
                return list(task["text"].get("labels") or []) or None
        return None

    def sublayers(self) -> list[dict]:
        """Every sublayer in forward order: path, type, block kind, parameters, removed."""
        return self._model.sublayers()

    def state_dict(self, tensors: str | None = None) -> dict[str, Any]:
        """Copies of the parameters and buffers, by path: torch.Tensor where PyTorch is
        installed, numpy arrays otherwise (`tensors` "torch" or "numpy" chooses)."""
        return {name: _tensor(c, tensors) for name, c in self._model.state_capsules().items()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Replaces every parameter (strict: each present with its shape, nothing else)."""
        self._model.load_capsules({name: _capsule(t, name) for name, t in state.items()})

    def translate(self, sentences: Iterable[str], beam_size: int = 1, **decode: Any) -> list[str]:
        """Translations of `sentences` (DecodeOptions: length_penalty, max_tokens, ...)."""
        o = options("DecodeOptions", decode, beam_size=beam_size)
        return self._model.translate(list(sentences), o)

    def generate(self, prompt: str = "", max_new_tokens: int = 256, **generate: Any) -> str:
        """The prompt and its continuation, as ``slimformer generate`` prints it
        (GenerateOptions: temperature, top_k, top_p, seed, beam_size, length_penalty)."""
        o = options("GenerateOptions", generate, max_new_tokens=max_new_tokens)
        return self._model.generate(prompt, o)

    def classify(self, texts: Sequence[str], pairs: Sequence[str] | None = None,
                 max_length: int = 128, max_tokens: int = 4096) -> list:
        """A classification encoder's class label per text (or text pair); a regression head's
        score."""
        scores = self._model.classify(list(texts), list(pairs or []), max_length, max_tokens)
        if self.config.get("num_labels") == 1:
            return scores
        labels = self.labels
        return [labels[int(s)] if labels else int(s) for s in scores]

    def evaluate(self, **evaluation: Any) -> dict:
        """The family's metric (EvaluationOptions: metric, samples, source, reference, beam,
        text, glue_task, glue_file, squad_file, ...) on the bundled test data unless given:
        {metric, value, higher_is_better, examples, summary, details}."""
        return self._model.evaluate(options("EvaluationOptions", evaluation))

    def save(self, path: PathLike) -> None:
        """Saves the model as it is now (atomically), in the checkpoint's storage type."""
        self._model.save(os.fspath(path))


def load(path: PathLike, device: str = "cpu") -> Model:
    """Loads a checkpoint directory of any family (or a Hugging Face BERT directory)."""
    return Model(path, device)


# ---------------------------------------------------------------------------------------------
# Training options: the program's train.* keys.

_SCHEDULE_KEYS = {"lr": "peak_lr", "schedule": "kind", "warmup_steps": "warmup_steps"}
_RUN_KEYS = {"max_tokens", "label_smoothing", "device"}

# The program's defaults of each kind of run (one table in the library): what the commands that
# change a model fine-tune with (prune-modules, rewind, sparsify, linearize, decompose), what
# `slimformer finetune` trains an encoder with, and what `slimformer search` distils with.
_FINETUNE_DEFAULTS = _native.training_defaults("model_change")
_ENCODER_DEFAULTS = _native.training_defaults("encoder_finetune")
_SEARCH_DEFAULTS = _native.training_defaults("search")
# Data, not training: the translation sentences validation decodes for BLEU.
_DATA_KEYS = {"bleu_samples"}


def _training_run(given: Mapping[str, Any] | None, defaults: Mapping[str, Any],
                  output: PathLike | None = None) -> Any:
    keys = {**{k: v for k, v in defaults.items() if k not in _DATA_KEYS}, **(given or {})}
    run = _native.TrainingRun()
    for key, value in keys.items():
        if key in _SCHEDULE_KEYS:
            setattr(run.train.schedule, _SCHEDULE_KEYS[key], value)
        elif key in _RUN_KEYS:
            setattr(run, key, value)
        else:
            _fill(run.train, {key: value}, "training")
    if output is not None:
        run.train.output_dir = os.fspath(output)
    if run.train.schedule.total_steps == 0:
        run.train.schedule.total_steps = run.train.max_steps
    return run


def _surgery_run(model: PathLike, out: PathLike, paths: Sequence[str] = (), *,
                 training: Mapping[str, Any] | None = None,
                 data: Mapping[str, Any] | None = None,
                 evaluation: Mapping[str, Any] | None = None,
                 repeats: int = 2, resume: bool = False) -> Any:
    run = _native.SurgeryRun()
    run.model_dir = os.fspath(model)
    run.out = os.fspath(out)
    run.paths = list(paths)
    run.resume = resume
    run.finetune = _training_run(training, _FINETUNE_DEFAULTS)
    run.data = options("FinetuneData", data)
    if "bleu_samples" not in (data or {}).get("translation", {}):
        run.data.translation.bleu_samples = _FINETUNE_DEFAULTS["bleu_samples"]
    run.measure = options("MeasureOptions", repeats=repeats, evaluation=evaluation or {})
    device = (training or {}).get("device")
    if device:
        run.measure.evaluation.device = device
    return run


def _named(models: Mapping[str, PathLike] | Sequence[Any]) -> list[tuple[str, str]]:
    if isinstance(models, Mapping):
        return [(name, os.fspath(path)) for name, path in models.items()]
    return [(os.path.basename(os.fspath(m).rstrip("/")), os.fspath(m))
            if isinstance(m, (str, os.PathLike)) else (m[0], os.fspath(m[1])) for m in models]


# ---------------------------------------------------------------------------------------------
# Measurement


def measure(models: Mapping[str, PathLike] | Sequence[Any], *, repeats: int = 2,
            latency_examples: int = 0, **evaluation: Any) -> list[dict]:
    """Models of one family measured side by side in one run (alternating rounds): parameters,
    MB on disk, the metric, seconds, speed-up against the first; `models` maps names to
    checkpoint directories (or is a list of directories or (name, directory) pairs)."""
    o = options("MeasureOptions", repeats=repeats, latency_examples=latency_examples,
                evaluation=evaluation)
    return _native.measure(_named(models), o)


def compare(models: Mapping[str, PathLike] | Sequence[Any], out: PathLike | None = None, *,
            repeats: int = 2, latency_examples: int = 20, title: str = "slimformer compare",
            **evaluation: Any) -> dict:
    """Variants of a model side by side: metric, size, latency at batch 1, throughput, and the
    accuracy-against-latency and -size frontiers; with `out`, results.json and report.html
    there. (Peak memory needs a process per model: ``slimformer compare`` measures it.)"""
    o = options("CompareOptions", title=title,
                measure={"repeats": repeats, "latency_examples": latency_examples,
                         "evaluation": evaluation})
    return _native.compare(_named(models), o, os.fspath(out) if out is not None else "")


# ---------------------------------------------------------------------------------------------
# Fine-tuning


def finetune(model: PathLike, out: PathLike, *, steps: int, data: Mapping[str, Any] | None = None,
             training: Mapping[str, Any] | None = None) -> dict:
    """Continues training a checkpoint of any family on its own task (a classifier on the task
    it records) for `steps` updates into `out` (best, last, log)."""
    run = _training_run({**(training or {}), "max_steps": steps}, _FINETUNE_DEFAULTS, out)
    return _native.finetune(os.fspath(model), options("FinetuneData", data), run)


def finetune_encoder(encoder: PathLike, out: PathLike, *, glue: str | None = None,
                     task: Any = None, train_file: PathLike | None = None,
                     dev_file: PathLike | None = None, squad: bool | Mapping[str, Any] = False,
                     from_scratch: bool = False, glue_dir: PathLike = "data/glue",
                     max_length: int = 128, skip_malformed: bool = False,
                     training: Mapping[str, Any] | None = None) -> dict:
    """Fine-tunes a pre-trained encoder with a new head, as ``slimformer finetune`` does: on a
    GLUE task (`glue="SST-2"`), on your own labelled file (`task` a TextTask or a dict of its
    fields: text_columns, label_column, labels or none for a score, metric, delimiter, header;
    with train_file and dev_file), or on SQuAD (`squad=True`, or a dict of SquadRunOptions).
    Returns the run, its best checkpoint and that checkpoint's dev score."""
    run = _training_run(training, _ENCODER_DEFAULTS, out)
    if squad:
        data = options("SquadRunOptions", squad if isinstance(squad, Mapping) else {})
        return _native.finetune_squad(os.fspath(encoder), data, run, from_scratch)
    data = options("GlueData", glue_dir=glue_dir, max_length=max_length,
                   skip_malformed=skip_malformed, train_file=train_file or "",
                   dev_file=dev_file or "", task=glue or "")
    if task is not None:
        if isinstance(task, Mapping):
            task = options("TextTask", task)
        if not task.name and train_file:
            task.name = os.path.basename(os.fspath(train_file)).split(".")[0]
        data.custom = task
    return _native.finetune_text_task(os.fspath(encoder), data, run, from_scratch)


# ---------------------------------------------------------------------------------------------
# Methods. Each runs load -> change -> save -> fine-tune -> measure side by side, as the
# program's command of the same name, into `out`; `training`, `data` and `evaluation` (the test
# set of the measurement) are as above, `repeats` the timing rounds.


def prune_modules(model: PathLike, out: PathLike, paths: Sequence[str], *,
                  finetune_steps: int = 0, **run: Any) -> list[dict]:
    """Removes the sublayers `paths` physically (Wang & Tu 2020), fine-tunes, measures."""
    return _native.prune_modules(_surgery_run(model, out, paths, **run), finetune_steps)


def rewind(model: PathLike, out: PathLike, paths: Sequence[str], *, steps: int,
           control: bool = True, **run: Any) -> list[dict]:
    """Rewinds `paths` to their initial parameters and fine-tunes (Wang & Tu 2020), with the
    original trained for the same updates as the control."""
    return _native.rewind(_surgery_run(model, out, paths, **run), steps, control)


def sparsify(model: PathLike, out: PathLike, *, sparsity: float, training=None, data=None,
             evaluation=None, repeats: int = 2, resume: bool = False, **method: Any) -> dict:
    """Magnitude weight pruning (Gordon et al. 2020): SparsifyOptions (sparsity, scope,
    gradual, random, seed, matrices, embeddings, remove_dead_neurons, finetune_steps,
    prune_begin, prune_end, prune_every). Returns the delivered model, overall_sparsity, the
    per-matrix table (matrices), removed_neurons and the measurements (measured)."""
    o = options("SparsifyOptions", method, sparsity=sparsity)
    run = _surgery_run(model, out, training=training, data=data, evaluation=evaluation,
                       repeats=repeats, resume=resume)
    return _native.sparsify(run, o)


def linearize(model: PathLike, out: PathLike, *, finetune_steps: int = 0,
              attention_only: bool = False, control: bool = True, training=None, data=None,
              evaluation=None, repeats: int = 2, resume: bool = False, **conversion: Any) -> dict:
    """Transformer to RNN (Kasai et al. 2021): LinearizeOptions (sublayers, feature_map,
    feature_dim, seed), fine-tuning, and the softmax model trained alike as the control."""
    o = options("LinearizeRunOptions", finetune_steps=finetune_steps,
                attention_only=attention_only, control=control,
                conversion=options("LinearizeOptions", conversion))
    run = _surgery_run(model, out, training=training, data=data, evaluation=evaluation,
                       repeats=repeats, resume=resume)
    return _native.linearize(run, o)


def decompose(model: PathLike, out: PathLike, *, k: int, finetune_steps: int = 0,
              training=None, data=None, evaluation=None, repeats: int = 2, resume: bool = False,
              **method: Any) -> dict:
    """DeFormer (Cao et al. 2020): lower `k` layers on each segment alone; DecomposeRunOptions
    (task_weight, distill_weight, similarity_weight, temperature, control)."""
    o = options("DecomposeRunOptions", method, k=k, finetune_steps=finetune_steps)
    run = _surgery_run(model, out, training=training, data=data, evaluation=evaluation,
                       repeats=repeats, resume=resume)
    return _native.decompose(run, o)


def importance(model: PathLike, out: PathLike, *, contribution: bool | None = None,
               criticality: bool | None = None, curve_max_k: int = 8,
               clip_fraction: float = -1, threshold: float = -1, tolerance: float = 0.05,
               paths: Sequence[str] = (), **evaluation: Any) -> dict:
    """Every sublayer's contribution and criticality (Wang & Tu 2020) on the family's validation
    data, removal curves, and the run's files in `out`; returns its results.json."""
    given = contribution is not None or criticality is not None
    scoring = options("ImportanceOptions", clip_fraction=clip_fraction, threshold=threshold,
                      tolerance=tolerance, paths=list(paths),
                      contribution=contribution if contribution is not None else True,
                      criticality=criticality if criticality is not None else True)
    o = options("ImportanceRunOptions", curve_max_k=curve_max_k)
    o.scoring = scoring
    return _native.importance(os.fspath(model), os.fspath(out),
                              options("EvaluationOptions", evaluation), o, given)


def _search_run(teacher: PathLike, out: PathLike, text: Sequence[PathLike],
                run: Mapping[str, Any] | None, training: Mapping[str, Any] | None) -> Any:
    r = options("SearchRun", run, teacher=os.fspath(teacher), out=os.fspath(out),
                text=[os.fspath(t) for t in text])
    r.training = _training_run(training, _SEARCH_DEFAULTS)
    return r


def search_stage(teacher: PathLike, out: PathLike, text: Sequence[PathLike], *, stage: int = 1,
                 run: Mapping[str, Any] | None = None, training: Mapping[str, Any] | None = None,
                 **stage_options: Any) -> dict:
    """One stage of the EfficientBERT FFN search (SearchStageOptions: candidates,
    candidate_steps, sharing_steps, sampler, fixed; stage 3 also glue_tasks, glue_steps, glue_dir);
    `run` sets SearchRun fields (warmup_steps, budget_ratio, data, ...). Resumes from the search
    log in `out`."""
    o = options("SearchStageOptions", stage_options, stage=stage)
    return _native.search_stage(_search_run(teacher, out, text, run, training), o)


def train_student(teacher: PathLike, out: PathLike, text: Sequence[PathLike], *,
                  architecture: str = "best", name: str = "best", steps: int = 600,
                  run: Mapping[str, Any] | None = None,
                  training: Mapping[str, Any] | None = None) -> str:
    """Distils a searched architecture from the super-network; returns its checkpoint."""
    return _native.train_student(_search_run(teacher, out, text, run, training), architecture,
                                 name, steps)
