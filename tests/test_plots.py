"""Pictures: training curves (plot step, ``nndsl plot``) and layer diagrams (``summary --diagram``).

Every PNG is decoded and checked for its exact size in pixels and for not being blank. Only the
run of a real (tiny) training needs Keras; the rest draws hand-written histories and the
static shapes of the examples.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import nndsl
from nncases import EXAMPLES, ROOT
from nndsl.cli import main
from nndsl.errors import NndslCheckError, NndslError, RunError, UsageError

pytest.importorskip("matplotlib")

from nndsl import plots  # noqa: E402

HISTORY = {
    "loss": [0.91, 0.52, 0.33, 0.25, 0.21, 0.19],
    "mae": [0.80, 0.55, 0.41, 0.36, 0.33, 0.31],
    "val_loss": [0.95, 0.60, 0.41, 0.35, 0.34, 0.36],
    "val_mae": [0.82, 0.60, 0.47, 0.43, 0.42, 0.44],
}


def png(path: Path):
    """The decoded picture: (width, height, pixels as an H x W x channels float array)."""
    import matplotlib.image
    import numpy as np

    data = matplotlib.image.imread(str(path))
    assert data.ndim == 3 and data.shape[2] in (3, 4)
    return data.shape[1], data.shape[0], np.asarray(data, dtype=float)


def assert_picture(path: Path, size: tuple[int, int]) -> None:
    """A PNG of exactly ``size`` pixels that shows something: varied pixels, several colours."""
    import numpy as np

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, pixels = png(path)
    assert (width, height) == size
    rgb = pixels[:, :, :3]
    assert float(rgb.var()) > 0.002, "the picture is (almost) blank"
    packed = (rgb * 255).round().astype(np.uint32) @ np.array([1 << 16, 1 << 8, 1], dtype=np.uint32)
    colours = np.unique(packed)
    assert len(colours) >= 8, f"only {len(colours)} distinct colours"
    # nothing is cut off at the edges: the outermost pixel rows and columns are background
    assert float(rgb[0].min()) > 0.9 and float(rgb[-1].min()) > 0.9
    assert not list(path.parent.glob(f".{path.name}.*")), "a temporary file was left behind"


# ---------------------------------------------------------------- training curves


def test_history_curves_have_the_asked_size(tmp_path):
    out = plots.plot_history(HISTORY, tmp_path / "curves.png", title="model m", width=901, height=377)
    assert out == tmp_path / "curves.png"
    assert_picture(out, (901, 377))


def test_default_size_follows_the_number_of_panels(tmp_path):
    for metrics, panels in ((["loss"], 1), (None, 2)):
        out = plots.plot_history(HISTORY, tmp_path / f"c{panels}.png", metrics=metrics)
        assert_picture(out, plots.curves_size(panels))
    assert plots.curves_size(1) == (plots.PANEL_WIDTH, plots.PANEL_HEIGHT + plots.TITLE_HEIGHT)
    assert plots.curves_size(4) == (2 * plots.PANEL_WIDTH, 2 * plots.PANEL_HEIGHT + plots.TITLE_HEIGHT)
    assert plots.curves_size(5) == (3 * plots.PANEL_WIDTH, 2 * plots.PANEL_HEIGHT + plots.TITLE_HEIGHT)


def test_loss_comes_first_and_val_metrics_pair_up():
    history = {"accuracy": [0.5], "val_accuracy": [0.4], "loss": [1.0], "val_loss": [1.1], "val_auc": [0.7]}
    assert plots.history_metrics(history) == ["loss", "accuracy", "auc"]


def test_many_panels_long_training_and_odd_values(tmp_path):
    n = 150
    history = {
        "loss": [10.0 * 0.95 ** i for i in range(n)],  # spans orders of magnitude: log scale
        "accuracy": [1 - 0.9 * 0.97 ** i for i in range(n)],
        "auc": [0.5 + 0.4 * (1 - 0.98 ** i) for i in range(n)],
        "precision": [0.6] * n,
        "val_loss": [11.0 * 0.95 ** i + (float("nan") if i == 3 else 0.0) for i in range(n)],
        "val_accuracy": [0.8] * (n // 5),  # validation_freq=5
    }
    out = plots.plot_history(history, tmp_path / "many.png")
    assert_picture(out, plots.curves_size(4))


def test_one_epoch(tmp_path):
    out = plots.plot_history({"loss": [0.5]}, tmp_path / "one.png", width=300, height=250)
    assert_picture(out, (300, 250))


def test_svg_and_pdf(tmp_path):
    assert (plots.plot_history(HISTORY, tmp_path / "c.svg")).read_text()[:200].lstrip().startswith("<?xml")
    assert (plots.plot_history(HISTORY, tmp_path / "c.pdf")).read_bytes()[:5] == b"%PDF-"


@pytest.mark.parametrize(
    "history, kwargs, words",
    [
        ({}, {}, "empty"),
        ({"loss": []}, {}, "empty"),
        (HISTORY, {"metrics": ["mea"]}, "did you mean 'mae'"),
        (HISTORY, {"width": 10}, "between 50 and 20000"),
    ],
)
def test_history_errors(tmp_path, history, kwargs, words):
    with pytest.raises(RunError, match=words):
        plots.plot_history(history, tmp_path / "c.png", **kwargs)
    assert not list(tmp_path.iterdir())


def test_bad_extension(tmp_path):
    with pytest.raises(RunError, match=r"\.png, \.svg or \.pdf"):
        plots.plot_history(HISTORY, tmp_path / "c.gif")


def test_missing_matplotlib_is_a_clear_error(tmp_path, monkeypatch):
    checked = nndsl.check("model m {\n    Input(shape=(2,))\n    Dense(1)\n}\n")
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(UsageError, match=r"nndsl\[plots\]"):
        plots.plot_history(HISTORY, tmp_path / "c.png")
    with pytest.raises(UsageError, match=r"nndsl\[plots\]"):
        plots.draw_model(checked, "m", tmp_path / "m.png")


def test_an_existing_file_is_replaced_whole(tmp_path):
    target = tmp_path / "c.png"
    target.write_bytes(b"old")
    plots.plot_history(HISTORY, target, width=400, height=300)
    assert_picture(target, (400, 300))


# ---------------------------------------------------------------- nndsl plot RUN_RECORD


def _record(tmp_path: Path, history: dict) -> Path:
    path = tmp_path / "prog.run.json"
    path.write_text(json.dumps({"format_version": 1, "history": history}), encoding="utf-8")
    return path


def test_plot_command(tmp_path, capsys):
    record = _record(tmp_path, {"m": HISTORY})
    assert main(["plot", str(record), "-o", str(tmp_path / "c.png"), "--width", "700", "--height", "320"]) == 0
    assert "wrote training curves of model m" in capsys.readouterr().out
    assert_picture(tmp_path / "c.png", (700, 320))
    # default output: beside the record
    assert main(["plot", str(record), "--metric", "loss"]) == 0
    assert_picture(tmp_path / "prog.curves.png", plots.curves_size(1))


def test_plot_command_several_models(tmp_path):
    record = _record(tmp_path, {"a": HISTORY, "b": {"loss": [3.0, 2.0, 1.5]}})
    assert main(["plot", str(record), "-o", str(tmp_path / "c.png")]) == 0
    assert_picture(tmp_path / "c-a.png", plots.curves_size(2))
    assert_picture(tmp_path / "c-b.png", plots.curves_size(1))
    assert main(["plot", str(record), "-o", str(tmp_path / "only.png"), "--model", "b"]) == 0
    assert_picture(tmp_path / "only.png", plots.curves_size(1))


@pytest.mark.parametrize(
    "content, args, code, words",
    [
        (None, [], 2, "does not exist"),
        ("not json", [], 2, "not JSON"),
        ('{"steps": []}', [], 2, "'history'"),
        ('{"history": {}}', [], 1, "no training history"),
        ('{"history": {"m": {"loss": [1, 2]}}}', ["--model", "n"], 2, "expected a model trained in the run"),
        ('{"history": {"m": {"loss": [1, 2]}}}', ["--metric", "los"], 2, "did you mean 'loss'"),
        ('{"history": {"m": {"loss": [1, 2]}}}', ["-o", "x.gif"], 2, ".png, .svg or .pdf"),
    ],
)
def test_plot_command_errors(tmp_path, capsys, content, args, code, words):
    record = tmp_path / "r.run.json"
    if content is not None:
        record.write_text(content, encoding="utf-8")
    assert main(["plot", str(record), *args]) == code
    assert words in capsys.readouterr().err


# ---------------------------------------------------------------- the plot step: checked without Keras


MODEL = """
data train = csv("train.csv", target="y")
model m {
    Input(shape=(2,))
    Dense(1)
    loss mse
    optimizer adam
}
"""


@pytest.mark.parametrize(
    "step, code",
    [
        ('plot m to "c.png"', "step-order"),  # before training
        ("train m on train\nplot m", "missing-clause"),
        ('train m on train\nplot m to "c.png" width=0', "bad-argument-type"),
        ('train m on train\nplot m to "c.png" colour=red', "unknown-argument"),
        ('train m on train\nplot m on train to "c.png"', "unexpected-clause"),
    ],
)
def test_plot_step_is_checked(step, code):
    with pytest.raises(NndslCheckError) as info:
        nndsl.check(MODEL + step + "\n", keras=False)
    assert code in [d.code for d in info.value.diagnostics]


def test_plot_step_checks_clean():
    checked = nndsl.check(MODEL + 'train m on train\nplot m to "c.png" metrics=[loss] width=800 height=400 title="m"\n', keras=False)
    assert [s.verb for s in checked.steps] == ["train", "plot"]


# ---------------------------------------------------------------- the plot step in a run (Keras)


@pytest.mark.keras
def test_plot_step_in_a_run_and_from_its_record(tmp_path):
    from nndsl.run.runner import run

    data = ROOT / "examples" / "sales"
    shutil.copy(data / "sales_data_training.csv", tmp_path / "train.csv")
    program = tmp_path / "tiny.nn"
    program.write_text(
        'seed 1\ndata train = csv("train.csv", target="total_earnings")\n'
        "model m {\n    Input(shape=(9,))\n    Dense(4, activation=relu)\n    Dense(1)\n\n"
        "    loss mse\n    optimizer adam\n    metrics [mae]\n    scale_features minmax\n    scale_target minmax\n}\n"
        'train m on train epochs=3 batch_size=64 validation_split=0.2\nplot m to "curves.png" width=640 height=300\n'
        'save m to "m.keras"\nload again from "m.keras"\nplot again to "again.png"\n',
        encoding="utf-8",
    )
    with pytest.raises(NndslError) as info:
        run(program, out=io.StringIO(), err=io.StringIO(), progress="none")
    [diag] = info.value.diagnostics
    assert diag.code == "not-trained" and "loaded from a file" in diag.message and diag.span.line == 18
    assert_picture(tmp_path / "curves.png", (640, 300))
    assert not (tmp_path / "again.png").exists()
    record = json.loads((tmp_path / "tiny.run.json").read_text())
    assert set(record["history"]["m"]) == {"loss", "mae", "val_loss", "val_mae"}
    assert main(["plot", str(tmp_path / "tiny.run.json"), "-o", str(tmp_path / "from_record.png")]) == 0
    assert_picture(tmp_path / "from_record.png", plots.curves_size(2))


# ---------------------------------------------------------------- layer diagrams (no Keras)

DIAGRAMS = [p for p in EXAMPLES if p.parent.name in
            ("sales", "cifar10_cnn", "imdb_bidirectional_lstm", "text_classifier", "timeseries_conv_lstm", "tabular_classifier")]


@pytest.mark.parametrize("path", DIAGRAMS, ids=[p.stem for p in DIAGRAMS])
def test_diagram_of_an_example(tmp_path, path):
    checked = nndsl.check(path.read_text(encoding="utf-8-sig"), filename=str(path))
    for name in checked.models:
        rows = plots.diagram_rows(checked, name)
        assert rows[0]["kind"] == "Input"
        assert len(rows) == len(checked.models[name].resolved)
        out = plots.draw_model(checked, name, tmp_path / f"{name}.png")
        assert_picture(out, plots.diagram_size(len(rows)))


def test_diagram_rows_show_arguments_shapes_and_blocks():
    path = ROOT / "examples" / "cifar10_cnn" / "cifar10_cnn.nn"
    checked = nndsl.check(path.read_text(encoding="utf-8"), filename=str(path))
    rows = plots.diagram_rows(checked, "cifar10_cnn")
    conv = rows[1]
    assert (conv["name"], conv["args"], conv["shape"], conv["params"]) == ("Conv2D", "32, (3, 3), padding=same", "(None, 32, 32, "
                                                                                                                 "32)", "896 params")
    assert conv["group"][1] == "conv_block(32)" and rows[7]["group"][1] == "conv_block(64)"
    assert rows[1]["group"] != rows[7]["group"]
    assert rows[-1]["group"] is None and rows[-1]["shape"] == "(None, 10)"


def test_long_models_are_shortened(tmp_path):
    checked = nndsl.check("model deep {\n    Input(shape=(8,))\n    repeat 300 {\n        Dense(8)\n    }\n    Dense(1)\n}\n")
    rows = plots.diagram_rows(checked, "deep")
    assert len(rows) == plots.MAX_BOXES
    assert any(r["kind"] == "more" and "242 more layers" in r["name"] for r in rows)
    assert rows[-1]["shape"] == "(None, 1)"
    assert_picture(plots.draw_model(checked, "deep", tmp_path / "deep.png"), plots.diagram_size(plots.MAX_BOXES))


def test_model_without_input_layer_gets_an_input_box(tmp_path):
    checked = nndsl.check("model m {\n    Dense(4, input_shape=(3,))\n    Dense(1)\n}\n")
    rows = plots.diagram_rows(checked, "m")
    assert rows[0]["name"] == "input" and rows[0]["shape"] == "(None, 3)" and len(rows) == 3
    assert_picture(plots.draw_model(checked, "m", tmp_path / "m.png"), plots.diagram_size(3))


def test_summary_diagram_command(tmp_path, capsys):
    several = ROOT / "tests" / "cases" / "valid" / "several_models.nn"
    assert main(["summary", str(several), "--diagram", str(tmp_path / "d.png")]) == 0
    out = capsys.readouterr().out
    names = list(nndsl.check(several.read_text(encoding="utf-8")).models)
    assert len(names) > 1
    for name in names:
        assert f"wrote the layer diagram of model {name}" in out
        assert (tmp_path / f"d-{name}.png").is_file()
    assert main(["summary", str(several), "--model", names[0], "--diagram", str(tmp_path / "one.png")]) == 0
    assert (tmp_path / "one.png").is_file()
    assert main(["summary", str(several), "--diagram", str(tmp_path / "d.gif")]) == 2
    assert ".png, .svg or .pdf" in capsys.readouterr().err


def test_summary_diagram_imports_no_tensorflow(tmp_path):
    script = (
        "import sys, json\nfrom nndsl.cli import main\n"
        f"status = main(['summary', {str(ROOT / 'examples' / 'sales' / 'sales.nn')!r}, '--diagram', {str(tmp_path / 's.png')!r}])\n"
        "print(json.dumps([status, sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras'})]))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [0, []]
    assert (tmp_path / "s.png").is_file()
