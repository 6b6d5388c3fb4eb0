"""Predictions from a saved model: what the model remembers of its data (target, features,
classes), id and file columns copied into the output, and the inputs ``nndsl predict`` reads."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from nndsl.run.predictions import column_names, count

ROOT = Path(__file__).resolve().parent.parent

PROGRAM = """\
data d   = csv("d.csv", target="y", id="id")
data new = csv("new.csv", id="id", exclude=["note"])
model m {
    Input(shape=(2,))
    Dense(1)
    loss mse
}
train m on d epochs=1
save m to "m.keras"
predict m on new to "p.csv"
predict m on d to "kept.csv" keep=["y", "id"]
"""


def test_prediction_columns_never_repeat_a_kept_column():
    assert column_names(1, target_names=["y"], keep=["id", "y"]) == ["y_predicted"]
    assert column_names(1, target_names=["y"], keep=["id"]) == ["y"]
    assert column_names(2, class_names=["cat", "dog"]) == ["cat", "dog"]
    assert column_names(3, class_names=["cat", "dog"]) == ["prediction_0", "prediction_1", "prediction_2"]
    assert column_names(2, column="p", class_names=["cat", "dog"]) == ["p_0", "p_1"]


def test_counts_are_worded_in_the_singular_for_one():
    assert (count(1), count(0), count(3)) == ("1 prediction", "0 predictions", "3 predictions")


def read(path: Path) -> list[list[str]]:
    return list(csv.reader(path.open(newline="", encoding="utf-8")))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from nndsl.run.runner import run

    folder = tmp_path_factory.mktemp("predict")
    (folder / "d.csv").write_text("id,a,b,y\nr1,1,2,3\nr2,4,5,6\nr3,7,8,9\n")
    (folder / "new.csv").write_text("id,a,b,note\nn1,1,2,x\nn2,3,4,y\n")
    (folder / "model.nn").write_text(PROGRAM)
    out = io.StringIO()
    run(folder / "model.nn", out=out, err=out, progress="json")
    return folder, out.getvalue()


@pytest.mark.keras
def test_the_predict_step_copies_id_columns_and_never_repeats_a_header(trained):
    folder, log = trained
    assert [r[0] for r in read(folder / "p.csv")] == ["id", "n1", "n2"]
    assert read(folder / "p.csv")[0] == ["id", "y"]
    assert read(folder / "kept.csv")[0] == ["y", "id", "y_predicted"]
    events = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    written = [e for e in events if e["event"] == "predictions_written"]
    assert [(e["model"], Path(e["path"]).name, e["rows"]) for e in written] == [("m", "p.csv", 2), ("m", "kept.csv", 3)]


@pytest.mark.keras
def test_the_command_leaves_out_the_target_and_columns_the_model_never_saw(trained, capsys):
    from nndsl.cli import main

    folder, _ = trained
    assert main(["predict", str(folder / "m.keras"), str(folder / "d.csv"), "--keep", "id", "--keep", "y",
                 "-o", str(folder / "cli.csv")]) == 0
    assert capsys.readouterr().out == f"wrote 3 predictions to {folder / 'cli.csv'}\n"
    step = read(folder / "kept.csv")
    cli = read(folder / "cli.csv")
    assert cli[0] == ["id", "y", "y_predicted"]
    assert [r[2] for r in cli[1:]] == [r[2] for r in step[1:]]
    assert main(["predict", str(folder / "m.keras"), str(folder / "new.csv"), "--keep", "note"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "note,y"


@pytest.mark.keras
def test_the_command_reads_npy_and_npz_as_arrays(trained, capsys):
    import numpy as np

    from nndsl.cli import main

    folder, _ = trained
    x = np.array([[1, 2], [3, 4]], dtype="float32")
    np.save(folder / "x.npy", x)
    np.savez(folder / "x.npz", x=x)
    for name in ("x.npy", "x.npz"):
        assert main(["predict", str(folder / "m.keras"), str(folder / name), "-o", str(folder / f"{name}.csv")]) == 0
        assert capsys.readouterr().out.startswith("wrote 2 predictions")
    assert read(folder / "x.npy.csv") == read(folder / "x.npz.csv")
    assert [r[0] for r in read(folder / "x.npz.csv")[1:]] == [r[1] for r in read(folder / "p.csv")[1:]]


@pytest.mark.keras
def test_image_predictions_carry_the_file_and_class_names(tmp_path, capsys):
    from nndsl.cli import main
    from nndsl.run.runner import run

    example = ROOT / "examples" / "image_cnn"
    shutil.copytree(example / "images", tmp_path / "images")
    text = (example / "image_cnn.nn").read_text(encoding="utf-8").replace(' column="p"', "")
    (tmp_path / "image_cnn.nn").write_text(text + 'predict shapes on new to "one.csv"\n')
    out = io.StringIO()
    run(tmp_path / "image_cnn.nn", overrides={"epochs": "1"}, out=out, err=out, progress="none")
    rows = read(tmp_path / "predictions.csv")
    files = sorted(p.relative_to(tmp_path / "images" / "new").as_posix() for p in (tmp_path / "images" / "new").rglob("*.png"))
    assert rows[0] == ["file", "disc", "frame"]
    assert [r[0] for r in rows[1:]] == files
    assert main(["predict", str(tmp_path / "shapes.keras"), str(tmp_path / "images" / "new"), "-o", str(tmp_path / "cli.csv")]) == 0
    assert read(tmp_path / "cli.csv")[0] == ["file", "disc", "frame"]
    assert [r[0] for r in read(tmp_path / "cli.csv")[1:]] == files
    for ours, theirs in zip(rows[1:], read(tmp_path / "cli.csv")[1:]):
        assert float(theirs[1]) == pytest.approx(float(ours[1]), rel=1e-5)
