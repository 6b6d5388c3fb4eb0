"""Every example in `examples/` checks, is formatted, and runs end to end with one epoch.

Each example runs in a temporary copy of its folder (so nothing is written next to the
committed files), in this process: TensorFlow is imported once for all of them. One example
also runs through the command line in a subprocess, as CI and users run it.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nncases import copy_program, program_outputs
from nndsl.cli import main as cli

pytestmark = pytest.mark.keras

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SKIP = {"plugin"}  # needs its plugin package installed; tested with the plugin system


def example_files() -> list[Path]:
    return sorted(p for p in EXAMPLES.glob("*/*.nn") if p.parent.name not in SKIP)


FILES = example_files()
IDS = [p.parent.name if p.stem == p.parent.name else f"{p.parent.name}/{p.name}" for p in FILES]


outputs = program_outputs


def copy_example(path: Path, tmp_path: Path) -> Path:
    """A copy of the example's folder without the files its steps write."""
    return copy_program(path, tmp_path / path.parent.name)


def test_there_are_examples():
    names = {p.parent.name for p in FILES}
    assert {"mnist_convnet", "imdb_bidirectional_lstm", "cifar10_cnn", "regression_dnn", "text_classifier",
            "timeseries_conv_lstm", "tabular_classifier", "image_cnn", "sequence_model"} <= names


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_example_checks_and_is_formatted(path, capsys):
    assert cli(["check", str(path)]) == 0, capsys.readouterr().err
    assert cli(["fmt", "--check", str(path)]) == 0, capsys.readouterr().out


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_example_documents_itself(path):
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# "), "an example starts with a comment saying what it is"
    assert "let epochs" in text, "an example's epochs are a variable, so CI can run it with --set epochs=1"
    if path.stem == path.parent.name:
        assert (path.parent / "generate_data.py").is_file()
    steps = outputs(path)
    assert steps["save"] and steps["predict"], "an example trains, tests, saves and predicts"


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_example_runs_with_one_epoch(path, tmp_path):
    pytest.importorskip("keras")
    from nndsl.run.runner import run

    copy = copy_example(path, tmp_path)
    out = io.StringIO()
    # a tuning example searches 3 trials of 1 epoch
    overrides = {"epochs": "1", **({"trials": "3"} if "let trials" in path.read_text(encoding="utf-8") else {})}
    state = run(copy, overrides=overrides, progress="none", out=out, err=out)
    assert state.results, "the test step reports metrics"
    for metrics in state.results.values():
        assert metrics and all(v == v for v in metrics.values()), metrics  # no NaN
    written = outputs(path)
    for name in written["save"]:
        saved = copy.parent / name
        assert saved.exists() and (saved.is_dir() or saved.stat().st_size > 0), name
    for name in written["predict"]:
        predictions = copy.parent / name
        assert predictions.is_file(), name
        if predictions.suffix == ".csv":
            with open(predictions, newline="", encoding="utf-8") as fh:
                rows = list(csv.reader(fh))
            assert len(rows) >= 2 and all(len(r) == len(rows[0]) for r in rows), name
            assert all(float(v) == float(v) for r in rows[1:] for v in r[-1:]), name
    assert copy.with_suffix(".run.json").is_file()


def test_example_runs_from_the_command_line(tmp_path):
    pytest.importorskip("keras")
    copy = copy_example(EXAMPLES / "regression_dnn" / "regression_dnn.nn", tmp_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    env.pop("FORCE_COLOR", None)
    done = subprocess.run(
        [sys.executable, "-m", "nndsl", "run", copy.name, "--set", "epochs=1"],
        cwd=copy.parent, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "epoch 1/1" in done.stdout  # plain progress: the output is not a terminal
    assert "\x1b[" not in done.stdout
    assert (copy.parent / "dnn_model.keras").is_file()
    assert (copy.parent / "predictions.csv").read_text(encoding="utf-8").startswith("Cylinders,Horsepower,Weight,Model Year,MPG")
