"""Evaluation of a test step: the per-class table and regression errors, the report pictures, `nndsl evaluate`.

The table's numbers are checked against scikit-learn's where it is installed (the ``reports``
extra), and against counts worked out by hand everywhere. Real runs cover a binary, a
multi-class and a regression model with ``report=true``.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest

from nndsl.run import evaluation
from nndsl.run.evaluation import BINARY, MULTICLASS, REGRESSION


def test_kind_from_loss_and_outputs():
    assert evaluation.kind_of("binary_crossentropy", 1) == BINARY
    assert evaluation.kind_of("sparse_categorical_crossentropy", 3) == MULTICLASS
    assert evaluation.kind_of("categorical_crossentropy", 4) == MULTICLASS
    assert evaluation.kind_of("mean_squared_error", 1) == REGRESSION
    assert evaluation.kind_of("mse", 3) == REGRESSION


def test_per_class_table_by_hand():
    labels = np.array([0, 0, 0, 1, 1, 2])
    scores = np.eye(3)[[0, 0, 1, 1, 2, 2]]  # predicted 0 0 1 1 2 2
    ev = evaluation.evaluate(MULTICLASS, labels, scores, model="m", data="d", class_names=["cat", "dog", "eel"])
    rows = {r["class"]: r for r in ev.table}
    assert rows["cat"] == {"class": "cat", "precision": 1.0, "recall": 2 / 3, "f1": 0.8, "support": 3}
    assert rows["dog"]["precision"] == 0.5 and rows["dog"]["recall"] == 0.5 and rows["dog"]["support"] == 2
    assert rows["eel"]["precision"] == 0.5 and rows["eel"]["recall"] == 1.0
    assert ev.summary["accuracy"] == pytest.approx(4 / 6)
    assert ev.summary["recall_macro"] == pytest.approx((2 / 3 + 0.5 + 1.0) / 3)


def test_a_class_never_predicted_has_zero_precision():
    ev = evaluation.evaluate(BINARY, np.array([0, 1, 1]), np.array([[0.1], [0.2], [0.3]]), model="m", data="d")
    assert ev.class_names == ["0", "1"]
    assert ev.table[1] == {"class": "1", "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 2}


def test_one_hot_labels_and_class_names_from_the_data():
    class Data:
        class_names: list = []

    y = np.eye(3)[[2, 0, 1]]
    names = evaluation.class_names_for(3, Data(), ["red", "green", "blue"])
    ev = evaluation.evaluate(MULTICLASS, y, y * 0.9 + 0.03, model="m", data="d", class_names=names)
    assert list(ev.labels) == [2, 0, 1] and ev.summary["accuracy"] == 1.0
    assert [r["class"] for r in ev.table] == ["red", "green", "blue"]
    assert evaluation.class_names_for(2, Data(), ["y"]) == ["0", "1"]


@pytest.mark.parametrize("kind, classes", [(BINARY, 2), (MULTICLASS, 4)])
def test_table_agrees_with_scikit_learn(kind, classes):
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(7)
    labels = rng.integers(0, classes, size=500)
    if kind == BINARY:
        preds = np.clip(labels * 0.6 + rng.normal(0.2, 0.3, size=500), 0, 1)[:, None]
        predicted = (preds[:, 0] >= 0.5).astype(int)
    else:
        preds = rng.dirichlet(np.ones(classes), size=500) + np.eye(classes)[labels] * rng.uniform(0, 1, size=(500, 1))
        predicted = preds.argmax(axis=1)
    ev = evaluation.evaluate(kind, labels, preds, model="m", data="d")
    p, r, f, s = metrics.precision_recall_fscore_support(labels, predicted, labels=list(range(classes)), zero_division=0)
    assert [row["precision"] for row in ev.table] == pytest.approx(list(p))
    assert [row["recall"] for row in ev.table] == pytest.approx(list(r))
    assert [row["f1"] for row in ev.table] == pytest.approx(list(f))
    assert [row["support"] for row in ev.table] == list(s)
    assert ev.summary["accuracy"] == pytest.approx(metrics.accuracy_score(labels, predicted))
    assert ev.summary["f1_weighted"] == pytest.approx(metrics.f1_score(labels, predicted, average="weighted"))


def test_regression_errors_in_raw_units():
    actual = np.array([[100.0], [200.0], [300.0], [400.0]])
    predicted = np.array([[110.0], [190.0], [330.0], [400.0]])
    ev = evaluation.evaluate(REGRESSION, actual, predicted, model="m", data="d", target_names=["dollars"])
    assert ev.summary["mae"] == pytest.approx(12.5)
    assert ev.summary["rmse"] == pytest.approx(math.sqrt((100 + 100 + 900) / 4))
    assert ev.summary["r2"] == pytest.approx(1 - 1100 / 50000)
    metrics = pytest.importorskip("sklearn.metrics")
    assert ev.summary["r2"] == pytest.approx(metrics.r2_score(actual, predicted))


def test_printed_table():
    ev = evaluation.evaluate(BINARY, np.array([0, 1, 1, 0]), np.array([[0.1], [0.8], [0.4], [0.3]]), model="m", data="test",
                             class_names=["no", "yes"])
    out = io.StringIO()
    evaluation.print_table(ev, out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "m on test: accuracy 0.7500"
    assert lines[1].split() == ["class", "precision", "recall", "f1", "support"]
    assert lines[2].split() == ["no", "0.6667", "1.0000", "0.8000", "2"]
    assert lines[3].split() == ["yes", "1.0000", "0.5000", "0.6667", "2"]
    assert lines[4].split()[:2] == ["macro", "avg"] and lines[5].split()[:2] == ["weighted", "avg"]


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


@pytest.mark.parametrize("kind", [BINARY, MULTICLASS, REGRESSION])
def test_report_pictures(tmp_path, kind):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    from nndsl.reports.figures import SIZE, draw_report

    rng = np.random.default_rng(1)
    if kind == REGRESSION:
        y = rng.normal(size=(50, 1))
        ev = evaluation.evaluate(kind, y, y + rng.normal(0, 0.1, size=(50, 1)), model="m", data="d", target_names=["y"])
        names = ["predicted-vs-actual", "residuals"]
    else:
        classes = 2 if kind == BINARY else 3
        labels = rng.integers(0, classes, size=60)
        preds = rng.uniform(size=(60, 1)) if kind == BINARY else rng.dirichlet(np.ones(3), size=60)
        ev = evaluation.evaluate(kind, labels, preds, model="m", data="d", class_names=[f"c{i}" for i in range(classes)])
        names = ["confusion-matrix", "roc", "precision-recall", "calibration"]
    written = draw_report(ev, tmp_path / "r", prefix="m-d")
    assert [p.name for p in written] == [f"m-d-{n}.png" for n in names]
    for p in written:
        assert _png_size(p) == SIZE


def test_a_class_absent_from_the_data_still_draws(tmp_path):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    from nndsl.reports.figures import draw_report

    ev = evaluation.evaluate(MULTICLASS, np.array([0, 1, 0, 1]), np.eye(3)[[0, 1, 1, 1]], model="m", data="d")
    assert len(draw_report(ev, tmp_path)) == 4


# ---------------------------------------------------------------- real runs

CLASSIFIER = """\
seed 2
data d = csv("d.csv", target="y")
model m {{
    Input(shape=(2,))
    Dense(8, activation=relu)
    Dense({units}, activation={activation})
    loss {loss}
    optimizer Adam(learning_rate=0.05)
}}
train m on d epochs=3 batch_size=8
test m on d{options}
save m to "m.keras"
"""


def _project(folder: Path, kind: str, options: str = " report=true") -> Path:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(90, 2))
    if kind == BINARY:
        y, units, activation, loss = (x[:, 0] > 0).astype(int), 1, "sigmoid", "binary_crossentropy"
    elif kind == MULTICLASS:
        y, units, activation, loss = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5), 3, "softmax", "sparse_categorical_crossentropy"
    else:
        y, units, activation, loss = 50 + 10 * x[:, 0] - 5 * x[:, 1], 1, "linear", "mse"
    (folder / "d.csv").write_text("a,b,y\n" + "".join(f"{a:.4f},{b:.4f},{t}\n" for (a, b), t in zip(x, y)), encoding="utf-8")
    nn = folder / "p.nn"
    nn.write_text(CLASSIFIER.format(units=units, activation=activation, loss=loss, options=options), encoding="utf-8")
    return nn


@pytest.mark.keras
@pytest.mark.parametrize("kind", [BINARY, MULTICLASS, REGRESSION])
def test_report_of_a_run(tmp_path, capsys, kind):
    pytest.importorskip("sklearn")
    from nndsl.cli import main

    nn = _project(tmp_path, kind)
    assert main(["run", str(nn), "--progress", "plain"]) == 0
    out = capsys.readouterr().out
    record = json.loads((tmp_path / "p.run.json").read_text())
    ev = record["evaluation"]["m:d"]
    assert ev["kind"] == kind
    if kind == REGRESSION:
        assert "m on d: MAE " in out and " R² " in out
        # raw units: the same MAE as Keras's test metric... of the saved (unscaled) model
        assert ev["mae"] > 0 and ev["r2"] <= 1
        expected = ["predicted-vs-actual", "residuals"]
    else:
        assert "class" in out and "precision" in out and "weighted avg" in out
        assert [r["class"] for r in ev["per_class"]] == [str(i) for i in range(2 if kind == BINARY else 3)]
        assert 0 <= ev["accuracy"] <= 1
        expected = ["confusion-matrix", "roc", "precision-recall", "calibration"]
    for name in expected:
        assert (tmp_path / "p.report" / f"m-d-{name}.png").is_file()
    # the run's folder in the history keeps a copy of each picture
    arts = json.loads((tmp_path / "runs" / "p-1" / "record.json").read_text())["artefacts"]
    copies = [a["copy"] for a in arts if a["kind"] == "evaluation"]
    assert copies == [f"plots/m-d-{n}.png" for n in expected]

    # the same numbers from the saved model, through `nndsl evaluate`
    assert main(["evaluate", str(tmp_path / "m.keras"), str(tmp_path / "d.csv"), "--report", str(tmp_path / "again")]) == 0
    out = capsys.readouterr().out
    assert f"wrote {len(expected)} pictures to" in out
    if kind != REGRESSION:
        assert f"accuracy {ev['accuracy']:.4f}" in out


@pytest.mark.keras
def test_every_test_prints_the_table_without_report(tmp_path, capsys):
    from nndsl.cli import main

    nn = _project(tmp_path, MULTICLASS, options="")
    assert main(["run", str(nn), "--progress", "plain"]) == 0
    assert "macro avg" in capsys.readouterr().out
    assert not (tmp_path / "p.report").exists()


@pytest.mark.keras
def test_report_without_scikit_learn_is_a_located_error(tmp_path, capsys, monkeypatch):
    from nndsl.cli import main
    from nndsl.reports import figures, steps

    def missing():
        raise figures.MissingReportLibrary("expected scikit-learn to draw an evaluation report; received an environment without it")

    monkeypatch.setattr(steps, "require", missing)
    nn = _project(tmp_path, BINARY)
    assert main(["run", str(nn), "--progress", "none"]) == 1
    err = capsys.readouterr().err
    assert "p.nn:11:13: error: expected scikit-learn to draw an evaluation report" in err
    assert 'pip install "nndsl[reports]"' in err
    assert "^^^^^^^^^^^" in err
