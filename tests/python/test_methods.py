"""The methods and measurements from Python against the program on the same inputs: the same
models delivered, the same metrics measured (times differ from run to run; metrics do not)."""
import csv
import gzip
import json

import pytest

import slimformer

TRANSLATOR = "models/multi30k-base"
ENCODER = "models/encoder-base"
TINY_TRAINING = {"max_steps": 2, "validate_every": 2, "warmup_steps": 1, "max_tokens": 1024}


@pytest.fixture(scope="module")
def test_set(test_pairs):
    en_file, de_file, _ = test_pairs
    return {"source": str(en_file), "reference": str(de_file)}


@pytest.fixture(scope="module")
def sparse_runs(tmp_path_factory, program, test_set):
    """sparsify at 70% from Python and from the program, into two run directories."""
    d = tmp_path_factory.mktemp("sparsify")
    ours = slimformer.sparsify(TRANSLATOR, d / "python", sparsity=0.7, evaluation=test_set,
                               repeats=1)
    program("sparsify", TRANSLATOR, "--sparsity", 0.7, "--test-src", test_set["source"],
            "--test-ref", test_set["reference"], "--repeats", 1, "--output", d / "program")
    theirs = json.loads((d / "program" / "results.json").read_text())
    return ours, theirs, d


def test_sparsify_equals_the_program(sparse_runs):
    ours, theirs, d = sparse_runs
    assert ours["overall_sparsity"] == pytest.approx(0.7, abs=0.01)
    assert ours["matrices"] == theirs["matrices"]
    assert ours["removed_neurons"] == theirs["removed_neurons"]
    assert [m["name"] for m in ours["measured"]] == [m["name"] for m in theirs["models"]]
    for a, b in zip(ours["measured"], theirs["models"]):
        assert a["parameters"] == b["parameters"]
        assert a["value"] == pytest.approx(b["value"], abs=1e-9)
    with open(d / "program" / "sparsity.tsv", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if r["matrix"] != "all"]
    assert [(r["matrix"], int(r["zeros"])) for r in rows] == \
        [(m["matrix"], m["zeros"]) for m in ours["matrices"]]
    assert slimformer.load(ours["delivered"]).parameters <= ours["measured"][0]["parameters"]


def test_measure_side_by_side(sparse_runs, test_set):
    ours, _, _ = sparse_runs
    rows = slimformer.measure({"dense": TRANSLATOR, "sparse": ours["delivered"]}, repeats=1,
                              **test_set)
    assert [r["name"] for r in rows] == ["dense", "sparse"]
    dense = slimformer.load(TRANSLATOR).evaluate(beam=1, **test_set)
    assert rows[0]["value"] == pytest.approx(dense["value"], abs=1e-9)
    assert rows[0]["speedup"] == 1.0 and rows[1]["speedup"] > 0
    assert rows[1]["disk_mb"] < rows[0]["disk_mb"]


def test_compare_writes_its_report(sparse_runs, test_set, tmp_path):
    ours, _, _ = sparse_runs
    result = slimformer.compare([TRANSLATOR, ("sparse", ours["delivered"])], tmp_path, repeats=1,
                                latency_examples=4, **test_set)
    assert (tmp_path / "report.html").exists() and (tmp_path / "results.json").exists()
    written = json.loads((tmp_path / "results.json").read_text())
    assert len(written["variants"]) == len(result["variants"]) == 2


def test_prune_modules_removes_and_measures(tmp_path, test_set):
    rows = slimformer.prune_modules(TRANSLATOR, tmp_path, ["decoder.layers.0.ffn"],
                                    evaluation=test_set, repeats=1)
    assert [r["name"] for r in rows][:2] == ["original", "pruned"]
    assert rows[1]["removed_sublayers"] == ["decoder.layers.0.ffn"]
    assert rows[1]["parameters"] < rows[0]["parameters"]


def test_importance_scores_the_sublayers_asked_for(tmp_path):
    paths = ["encoder.layers.0.ffn", "decoder.layers.0.ffn"]
    result = slimformer.importance(TRANSLATOR, tmp_path, criticality=False, contribution=True,
                                   curve_max_k=0, paths=paths, samples=6)
    assert sorted(s["path"] for s in result["sublayers"]) == sorted(paths)
    assert (tmp_path / "report.html").exists()


def test_options_are_checked_by_name():
    with pytest.raises(TypeError, match="SparsifyOptions has no option 'sparsty'"):
        slimformer.sparsify(TRANSLATOR, "unused", sparsity=0.5, sparsty=0.3)
    with pytest.raises(slimformer.Error, match="sparsity"):
        slimformer.sparsify(TRANSLATOR, "unused", sparsity=1.5)


@pytest.mark.parametrize("command,defaults", [("finetune", "_ENCODER_DEFAULTS"),
                                              ("search", "_SEARCH_DEFAULTS"),
                                              ("sparsify", "_FINETUNE_DEFAULTS")])
def test_training_defaults_are_the_programs(program, command, defaults):
    train = json.loads(program(command, "--dump-config"))["train"]
    given = getattr(slimformer, defaults)
    assert given, "no defaults"
    for key, value in given.items():
        assert train[key] == value, f"{command} --{key}"


def _user_task_csv(path, source, rows):
    """SST-2 sentences as a user's CSV with its own column names and labels."""
    with gzip.open(source, "rt", encoding="utf-8") as f, open(path, "w", newline="",
                                                               encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["stars", "review"])
        next(f)
        for _, line in zip(range(rows), f):
            sentence, label = line.rstrip("\n").split("\t")
            writer.writerow(["good" if label == "1" else "bad", sentence])


def test_a_users_task_fine_tunes_and_classifies_as_the_program_scores(tmp_path, program):
    _user_task_csv(tmp_path / "train.csv", "data/glue/SST-2/train.tsv.gz", 200)
    _user_task_csv(tmp_path / "dev.csv", "data/glue/SST-2/dev.tsv.gz", 60)
    task = {"text_columns": ["review"], "label_column": "stars", "labels": ["bad", "good"],
            "delimiter": ","}
    run = slimformer.finetune_encoder(ENCODER, tmp_path / "run", task=task,
                                      train_file=tmp_path / "train.csv",
                                      dev_file=tmp_path / "dev.csv", training=TINY_TRAINING)
    assert run["training"]["steps"] == 2
    assert run["summary"].startswith("train ")
    model = slimformer.load(run["best"])
    assert model.labels == ["bad", "good"]
    with open(tmp_path / "dev.csv", encoding="utf-8") as f:
        dev = list(csv.DictReader(f))
    predicted = model.classify([r["review"] for r in dev])
    accuracy = 100 * sum(p == r["stars"] for p, r in zip(predicted, dev)) / len(dev)
    scored = model.evaluate()
    assert scored["metric"] == "accuracy"
    assert scored["value"] == pytest.approx(accuracy, abs=1e-9)
    assert f"{accuracy:.1f}" in program("evaluate", run["best"])


def test_linearize_a_language_model(stories, tmp_path):
    text = tmp_path / "text.txt"
    text.write_text("Once upon a time, there was a little girl named Lily.\n" * 4,
                    encoding="utf-8")
    run = slimformer.linearize(stories, tmp_path / "run", feature_map="elu", control=False,
                               evaluation={"text": str(text)}, repeats=1)
    assert run["converted"] == [f"decoder.layers.{i}.self_attn" for i in range(5)]
    assert [m["name"] for m in run["measured"]] == ["softmax (original)", "linear, converted"]
    assert all(m["metric"] == "ppl" for m in run["measured"])
    kinds = {s["kind"] for s in slimformer.load(run["delivered"]).sublayers()
             if s["type"] == "self_attn"}
    assert kinds == {"linear_attention"}
