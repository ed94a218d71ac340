"""slimformer.Model against the program on the same inputs: translations, BLEU, generated text,
perplexity, classifications; parameters as tensors; errors as slimformer.Error."""
import json
import re

import pytest

import slimformer

TRANSLATOR = "models/multi30k-base"


@pytest.fixture(scope="module")
def translator():
    return slimformer.load(TRANSLATOR)


def test_a_model_describes_itself(translator, program):
    assert translator.family == "seq2seq"
    assert translator.config["model_type"] == "seq2seq"
    info = program("info", TRANSLATOR)
    assert f"{translator.parameters:,}" in info or str(translator.parameters) in info
    sublayers = translator.sublayers()
    assert sublayers[0]["path"] == "encoder.layers.0.self_attn"
    assert all(s["path"] in info for s in sublayers)
    assert sum(s["parameters"] for s in sublayers) < translator.parameters


def test_translations_equal_the_programs(translator, program, test_pairs):
    en_file, _, en = test_pairs
    for beam in (1, 5):
        ours = translator.translate(en, beam_size=beam)
        theirs = program("translate", TRANSLATOR, "--input", en_file, "--beam", beam).splitlines()
        assert ours == theirs
    pinned = open("tests/data/multi30k-base.test2016.first60.beam5.de", encoding="utf-8")
    assert translator.translate(en, beam_size=5) == pinned.read().splitlines()[:12]


def test_bleu_equals_the_programs(translator, program, test_pairs, tmp_path):
    en_file, de_file, _ = test_pairs
    ours = translator.evaluate(source=str(en_file), reference=str(de_file), beam=1)
    program("evaluate", TRANSLATOR, "--src", en_file, "--ref", de_file, "--beam", 1,
            "--output", tmp_path)
    theirs = json.loads((tmp_path / "results.json").read_text())
    assert ours["metric"] == "bleu" and ours["higher_is_better"]
    assert ours["examples"] == 12
    assert ours["value"] == pytest.approx(theirs["bleu"], abs=1e-9)
    assert ours["details"]["chrf"] == pytest.approx(theirs["chrf"], abs=1e-9)


def test_generated_text_equals_the_programs(stories, program):
    model = slimformer.load(stories)
    assert model.family == "causal_lm"
    for beam in (1, 3):
        ours = model.generate("Once upon a time", max_new_tokens=40, beam_size=beam)
        theirs = program("generate", stories, "--prompt", "Once upon a time",
                         "--max-new-tokens", 40, "--beam", beam)
        assert ours.startswith("Once upon a time")
        assert ours == theirs.rstrip("\n")


def test_perplexity_equals_the_programs(stories, program, tmp_path):
    text = tmp_path / "text.txt"
    text.write_text("Once upon a time, there was a little girl named Lily.\n"
                    "She loved to play in the park with her friends.\n", encoding="utf-8")
    ours = slimformer.load(stories).evaluate(text=str(text))
    printed = program("evaluate", stories, "--text", text)
    assert ours["metric"] == "ppl" and not ours["higher_is_better"]
    assert f"perplexity {ours['value']:.2f} per token" in printed


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_parameters_cross_as_tensors_and_back(translator, test_pairs, kind):
    if kind == "torch":
        pytest.importorskip("torch", reason="PyTorch is not installed (python3-torch)")
    _, _, en = test_pairs
    state = translator.state_dict(kind)
    assert all(type(t).__module__.startswith(kind) for t in state.values())
    name = "decoder.layers.0.ffn.block.fc2.weight"
    assert name in state
    tensor = state[name]
    assert tuple(tensor.shape) == (translator.config["d_model"],
                                   translator.config["decoder_ffn_dim"])
    before = translator.translate(en[:4])
    # Every feed-forward weight of the decoder zeroed changes the translations...
    translator.load_state_dict({k: (v * 0 if k.startswith("decoder.layers.") and ".ffn." in k
                                    else v) for k, v in state.items()})
    assert translator.translate(en[:4]) != before
    # ... and the copies put back restore them.
    translator.load_state_dict(state)
    assert translator.translate(en[:4]) == before


def test_a_wrong_state_is_refused_naming_the_tensor(translator):
    state = translator.state_dict()
    state.pop("decoder.layers.0.ffn.block.fc2.weight")
    with pytest.raises(slimformer.Error, match="decoder.layers.0.ffn.block.fc2.weight"):
        translator.load_state_dict(state)
    with pytest.raises(TypeError, match="state_dict"):
        translator.load_state_dict({"x": [1.0, 2.0]})


def test_mistakes_raise_the_programs_one_line_errors(translator, tmp_path):
    with pytest.raises(slimformer.Error, match=re.escape(str(tmp_path / "missing"))):
        slimformer.load(tmp_path / "missing")
    with pytest.raises(slimformer.Error, match="generate needs a causal language model"):
        translator.generate("Hello")
    with pytest.raises(slimformer.Error, match="--text applies to"):
        translator.evaluate(text="x.txt")
    with pytest.raises(TypeError, match="DecodeOptions has no option 'beam'"):
        translator.translate(["A dog."], beam=2)
    with pytest.raises(slimformer.Error, match="device"):
        slimformer.load(TRANSLATOR, device="cuda")
