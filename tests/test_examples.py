"""Every example in `examples/` checks, is formatted, and runs end to end with one epoch.

Each example runs in a temporary copy of its folder (so nothing is written next to the
committed files), in this process: TensorFlow is imported once for all of them. The examples
the export test exports run there (test_eject.py runs each with ``nndsl run``, checks what it
leaves as here, then runs its exported script); the others run here. One example also runs
through the command line in a subprocess, as CI and users run it.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nncases import check_example_run, copy_program, exported_examples, program_outputs
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
            "timeseries_conv_lstm", "tabular_classifier", "image_cnn", "sequence_model", "customer_churn",
            "bike_rentals"} <= names


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


NOT_EXPORTED = [p for p in FILES if p not in exported_examples()]


def test_every_example_runs_here_or_in_the_export_test():
    assert set(FILES) == set(NOT_EXPORTED) | set(exported_examples()) and NOT_EXPORTED


@pytest.mark.parametrize("path", NOT_EXPORTED, ids=[IDS[FILES.index(p)] for p in NOT_EXPORTED])
def test_example_runs_with_one_epoch(path, tmp_path):
    from nndsl.run.runner import run

    copy = copy_example(path, tmp_path)
    out = io.StringIO()
    # a tuning example searches 3 trials of 1 epoch
    overrides = {"epochs": "1", **({"trials": "3"} if "let trials" in path.read_text(encoding="utf-8") else {})}
    state = run(copy, overrides=overrides, progress="none", out=out, err=out)
    check_example_run(path, copy, state)


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


def run_example(name: str, tmp_path: Path) -> tuple[Path, str]:
    """The example run with one epoch in a copy of its folder: the copy's folder and what it printed."""
    from nndsl.run.runner import run

    copy = copy_example(EXAMPLES / name / f"{name}.nn", tmp_path)
    out = io.StringIO()
    run(copy, overrides={"epochs": "1"}, progress="plain", out=out, err=out)
    return copy.parent, out.getvalue()


def test_the_messy_table_is_filled_labelled_and_scored_by_class(tmp_path):
    """customer_churn: empty cells filled, yes/no labels, a plan never seen in training, and the
    saved model used from plain Keras with the same columns by name."""
    pytest.importorskip("keras")
    import keras
    import numpy as np

    folder, printed = run_example("customer_churn", tmp_path)
    filled = next(line for line in printed.splitlines() if line.startswith("train: filled "))
    assert "age " in filled and "plan " in filled and "(own category)" in filled, filled
    assert "new: filled 3 missing cells" in printed
    with open(folder / "predictions.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["customer_id", "churned", "no", "yes"]
    assert [r["customer_id"] for r in rows] == ["N001", "N002", "N003", "N004", "N005", "N006"]  # N006: plan enterprise
    for r in rows:
        no, yes = float(r["no"]), float(r["yes"])
        assert abs(no + yes - 1) < 1e-5 and r["churned"] == ("yes" if yes > no else "no"), r

    model = keras.models.load_model(folder / "churn.keras")
    with open(folder / "new_customers.csv", newline="", encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    numeric = {"age", "tenure_months", "monthly_charges", "support_calls"}
    columns = {i.name: (np.array([float(r[i.name]) if r[i.name] else np.nan for r in table]) if i.name in numeric
                        else np.array([r[i.name] for r in table], dtype=object))  # text: dtype=object, "" missing
               for i in model.inputs}
    assert set(columns) == numeric | {"plan", "region"}
    yes = model.predict(columns, verbose=0)[:, 0]
    np.testing.assert_allclose(yes, [float(r["yes"]) for r in rows], rtol=1e-5, atol=1e-6)


def test_the_parquet_example_reads_typed_columns_and_its_model_takes_them(tmp_path):
    """bike_rentals: a folder of Parquet parts, a timestamp id, whole-number categories (the
    hour), booleans, nulls; the saved model takes the forecast's columns read by pyarrow."""
    pytest.importorskip("keras")
    pq = pytest.importorskip("pyarrow.parquet")
    import keras
    import numpy as np

    folder, printed = run_example("bike_rentals", tmp_path)
    assert "history: filled 72 missing cells: humidity 72" in printed
    with open(folder / "predictions.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["time", "rentals"] and len(rows) == 24
    assert rows[0]["time"].startswith("2026-04-01 00:00:00")

    model = keras.models.load_model(folder / "rentals.keras")
    forecast = pq.read_table(folder / "forecast.parquet")
    dtypes = {i.name: i.dtype for i in model.inputs}
    assert set(dtypes) == {"hour", "working_day", "holiday", "temperature", "humidity", "wind_speed", "weather"}
    assert dtypes["weather"] == "string" and dtypes["humidity"] == dtypes["working_day"] == "float32"

    def column(name: str, dtype: str):
        values = forecast[name].to_numpy(zero_copy_only=False)
        if dtype == "string":  # categories as text, whole numbers too ("7"), a null as ""
            return np.array(["" if v is None else str(v) for v in values], dtype=object)
        return values.astype(dtype)  # a null number is NaN; booleans are 0 and 1

    columns = {name: column(name, dtype) for name, dtype in dtypes.items()}
    predicted = model.predict(columns, verbose=0)[:, 0]
    np.testing.assert_allclose(predicted, [float(r["rentals"]) for r in rows], rtol=1e-4, atol=1e-3)
