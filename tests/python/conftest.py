"""Shared by the Python module's tests: the program to compare with (SLIMFORMER_BIN), the
source tree as working directory (bundled data paths are relative to it), and small inputs."""
import gzip
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session", autouse=True)
def in_source_tree():
    os.chdir(ROOT)


@pytest.fixture(scope="session")
def program():
    """Runs the slimformer program; returns its stdout (a failure shows its stderr)."""
    binary = os.environ.get("SLIMFORMER_BIN", str(ROOT / "build" / "slimformer"))

    def run(*args):
        done = subprocess.run([binary, *map(str, args)], capture_output=True, text=True)
        assert done.returncode == 0, f"slimformer {' '.join(map(str, args))}: {done.stderr}"
        return done.stdout

    return run


def first_lines(source, count, target):
    with gzip.open(source, "rt", encoding="utf-8") as f:
        lines = [next(f) for _ in range(count)]
    target.write_text("".join(lines), encoding="utf-8")
    return [line.rstrip("\n") for line in lines]


@pytest.fixture(scope="session")
def test_pairs(tmp_path_factory):
    """The first 12 sentence pairs of Multi30k test2016: (en file, de file, en lines)."""
    d = tmp_path_factory.mktemp("test2016")
    en = first_lines("data/multi30k/test_2016_flickr.en.gz", 12, d / "test.en")
    first_lines("data/multi30k/test_2016_flickr.de.gz", 12, d / "test.de")
    return d / "test.en", d / "test.de", en


@pytest.fixture(scope="session")
def stories(tmp_path_factory, program):
    """The bundled stories260K language model, imported as a checkpoint."""
    out = tmp_path_factory.mktemp("stories") / "model"
    program("import", "data/stories260K/stories260K.bin", "--tokenizer",
            "data/stories260K/tok512.bin", "--output", out)
    return out
