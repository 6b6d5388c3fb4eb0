"""The runner on real (tiny) data: the tutorial's flow end to end, artefacts plain Keras can use."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.keras

ROOT = Path(__file__).resolve().parent.parent
SALES = ROOT / "examples" / "sales"


@pytest.fixture()
def sales(tmp_path):
    for f in SALES.iterdir():
        if f.suffix in (".nn", ".csv"):
            shutil.copy(f, tmp_path / f.name)
    return tmp_path


def run(path, **kw):
    from nndsl.run.runner import run as run_file

    out = io.StringIO()
    kw.setdefault("progress", "plain")
    state = run_file(path, out=out, err=io.StringIO(), **kw)
    return state, out.getvalue()


def read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_sales_flow_beats_predicting_the_mean(sales):
    import numpy as np

    state, out = run(sales / "sales.nn", overrides={"epochs": "30"})
    metrics = state.results["sales:test"]
    train = read_csv(sales / "sales_data_training.csv")
    test = read_csv(sales / "sales_data_test.csv")
    mean = np.mean([float(r["total_earnings"]) for r in train])
    baseline_mae = np.mean([abs(float(r["total_earnings"]) - mean) for r in test])
    assert metrics["mae"] < 0.25 * baseline_mae, (metrics, baseline_mae)
    assert (sales / "trained_model.keras").is_file()
    preds = read_csv(sales / "predictions.csv")
    assert list(preds[0]) == ["total_earnings"] and len(preds) == 1
    # one plain line per epoch, no terminal control characters
    epoch_lines = [ln for ln in out.splitlines() if " epoch " in ln]
    assert len(epoch_lines) == 30
    assert "\x1b" not in out and "\r" not in out


def test_saved_model_predicts_raw_units_without_nndsl(sales):
    import numpy as np

    state, _ = run(sales / "sales.nn", overrides={"epochs": "3"})
    ours = float(read_csv(sales / "predictions.csv")[0]["total_earnings"])
    script = textwrap.dedent(
        f"""
        import json, sys
        import numpy as np
        import keras
        model = keras.models.load_model({str(sales / 'trained_model.keras')!r})
        path = {str(sales / 'proposed_new_product.csv')!r}
        names = open(path).readline().strip().split(",")
        rows = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
        # raw rows by column name, in reverse order: the order of the dict's keys does not matter
        columns = {{name: rows[:, j] for j, name in reversed(list(enumerate(names)))}}
        print(json.dumps({{"pred": float(model.predict(columns, verbose=0)[0, 0]),
                          "nndsl": any(m.startswith("nndsl") for m in sys.modules)}}))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=sales, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["nndsl"] is False
    assert result["pred"] == pytest.approx(ours, rel=1e-4)
    # raw units: a game earns millions, not a scaled number between 0 and 1
    assert abs(result["pred"]) > 1e5
    np.testing.assert_allclose(result["pred"], ours, rtol=1e-4)


def test_seed_gives_identical_weights(sales):
    import numpy as np

    s1, _ = run(sales / "sales.nn", overrides={"epochs": "2"})
    w1 = [w.copy() for w in s1.models["sales"].keras_model.get_weights()]
    s2, _ = run(sales / "sales.nn", overrides={"epochs": "2"})
    w2 = s2.models["sales"].keras_model.get_weights()
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)


def test_json_log_format_and_run_record(sales):
    state, out = run(sales / "sales.nn", overrides={"epochs": "2"}, progress="json")
    events = [json.loads(line) for line in out.splitlines() if line.strip()]
    kinds = [e["event"] for e in events]
    assert kinds.count("epoch_end") == 2
    assert "test" in kinds and "metrics" in kinds
    record = json.loads((sales / "sales.run.json").read_text())
    assert record["seed"] == 42
    assert record["overrides"] == {"epochs": "2"}
    assert "let epochs = 2" in record["program"]
    assert record["data"]["train"]["fingerprint"].startswith("xxh3_128:")
    assert len(record["history"]["sales"]["loss"]) == 2
    assert record["versions"]["keras"]
    assert record["preprocessing"]["sales"]["features"]["kind"] == "minmax"


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip())
    return path


MODEL = """
model m {
    Input(shape=(2,))
    Dense(4, activation=relu)
    Dense(1)
    loss mse
    optimizer Adam(learning_rate=0.01)
}
"""


def test_data_errors_name_file_column_and_row(tmp_path):
    from nndsl.errors import RunError

    (tmp_path / "d.csv").write_text("a,b,y\n1,2,3\n4,oops,6\n")
    prog = write(tmp_path / "p.nn", 'data d = csv("d.csv", target="y")\n' + MODEL + "train m on d epochs=1\n")
    with pytest.raises(RunError) as e:
        run(prog)
    text = e.value.render()
    assert "d.csv:row 3, column 'b': expected a number; received 'oops'" in text
    assert "p.nn:1:1" in text


def test_feature_count_mismatch_is_located(tmp_path):
    from nndsl.errors import RunError

    (tmp_path / "d.csv").write_text("a,b,c,y\n1,2,3,4\n5,6,7,8\n")
    prog = write(tmp_path / "p.nn", 'data d = csv("d.csv", target="y")\n' + MODEL + "train m on d epochs=1\n")
    with pytest.raises(RunError) as e:
        run(prog)
    text = e.value.render()
    assert "expected data with input shape (2,) for model 'm'; received 3 feature columns" in text
    assert "p.nn:10:12" in text


def test_failed_save_keeps_previous_file(tmp_path, monkeypatch):
    import keras

    (tmp_path / "d.csv").write_text("a,b,y\n1,2,3\n4,5,6\n")
    prog = write(tmp_path / "p.nn", 'data d = csv("d.csv", target="y")\n' + MODEL + 'train m on d epochs=1\nsave m to "m.keras"\n')
    run(prog)
    before = (tmp_path / "m.keras").read_bytes()

    def broken_save(self, path, *a, **k):
        Path(path).write_bytes(b"half a model")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(keras.Model, "save", broken_save)
    from nndsl.errors import RunError

    with pytest.raises(RunError) as e:
        run(prog)
    assert "No space left on device" in e.value.render()
    assert (tmp_path / "m.keras").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".m.keras")] == []


def test_h5_save_note_and_predict_outputs(tmp_path):
    import numpy as np

    (tmp_path / "d.csv").write_text("id,a,b,y\nx1,1,2,3\nx2,4,5,6\nx3,7,8,9\n")
    prog = write(
        tmp_path / "p.nn",
        'data d = csv("d.csv", target="y", id="id")\n' + MODEL
        + 'train m on d epochs=1\nsave m to "m.h5"\nload back from "m.h5"\n'
        + 'predict back on d to "p.csv" keep=["id"]\npredict back on d to "p.npy"\npredict back on d rows=2\n',
    )
    state, out = run(prog)
    assert "legacy" in out
    rows = read_csv(tmp_path / "p.csv")
    assert [r["id"] for r in rows] == ["x1", "x2", "x3"] and "y" in rows[0]
    arr = np.load(tmp_path / "p.npy")
    assert arr.shape == (3, 1)
    assert float(rows[0]["y"]) == pytest.approx(float(arr[0, 0]), rel=1e-5)


def test_cli_predict_without_nn_file(sales, capsys):
    from nndsl.cli import main

    run(sales / "sales.nn", overrides={"epochs": "1"})
    code = main(["predict", str(sales / "trained_model.keras"), str(sales / "proposed_new_product.csv"), "-o", str(sales / "out.csv")])
    assert code == 0
    ours = read_csv(sales / "predictions.csv")[0]["total_earnings"]
    theirs = read_csv(sales / "out.csv")[0]["total_earnings"]  # the target name travels with the model
    assert float(theirs) == pytest.approx(float(ours), rel=1e-5)


def test_cli_run_exit_codes(tmp_path, capsys):
    from nndsl.cli import main

    assert main(["run", str(tmp_path / "missing.nn")]) == 2
    (tmp_path / "d.csv").write_text("a,b,y\n1,2,3\n")
    prog = write(tmp_path / "p.nn", 'data d = csv("d.csv", target="nope")\n' + MODEL + "train m on d epochs=1\n")
    assert main(["run", str(prog), "--progress", "none"]) == 1
    err = capsys.readouterr().err
    assert "expected a column 'nope' (target)" in err
    assert "Traceback" not in err


def test_callbacks_with_paths_relative_to_the_file(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,y\n" + "".join(f"{i % 7},{i % 5},{(i % 7) + (i % 5)}\n" for i in range(200)))
    prog = write(
        tmp_path / "p.nn",
        'data d = csv("d.csv", target="y")\n' + MODEL
        + 'train m on d epochs=6 batch_size=16 validation_split=0.2 callbacks=[CSVLogger("log.csv"), '
        'ModelCheckpoint("best.keras", save_best_only=true), EarlyStopping(patience=50), ReduceLROnPlateau(patience=2)]\n',
    )
    state, out = run(prog)
    log = read_csv(tmp_path / "log.csv")
    assert [int(r["epoch"]) for r in log] == list(range(6))  # every epoch counted once, despite steps_per_execution
    assert (tmp_path / "best.keras").is_file()
    assert len(state.models["m"].history["val_loss"]) == 6
    import keras

    assert keras.models.load_model(tmp_path / "best.keras").count_params() == state.models["m"].keras_model.count_params()


def test_steps_per_execution_keeps_progress_counts(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,y\n" + "".join(f"{i},{i},{i}\n" for i in range(100)))
    prog = write(tmp_path / "p.nn", 'data d = csv("d.csv", target="y")\n' + MODEL + "train m on d epochs=3 batch_size=10\n")
    state, out = run(prog, progress="json")
    ends = [json.loads(x) for x in out.splitlines() if '"epoch_end"' in x]
    assert [e["epoch"] for e in ends] == [1, 2, 3]
    assert state.models["m"].keras_model.steps_per_execution == 11  # ten batches drained in one call


def test_nan_loss_stops_at_once_with_a_hint(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,y\n" + "".join(f"{i},{i},{i * 1e18}\n" for i in range(64)))
    prog = write(tmp_path / "p.nn", 'data d = csv("d.csv", target="y")\n' + MODEL.replace("0.01", "1e6") + "train m on d epochs=50\n")
    from nndsl.errors import RunError

    with pytest.raises(RunError) as e:
        run(prog)
    text = e.value.render()
    assert "expected a finite training loss; received" in text and "at epoch 1, batch" in text
    assert "smaller learning rate" in text


def test_export_for_serving(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,y\n1,2,3\n4,5,6\n")
    prog = write(tmp_path / "p.nn", 'data d = csv("d.csv", target="y")\n' + MODEL + 'train m on d epochs=1\nsave m to "served" '
                                                                                    'format=export\n')
    run(prog)
    assert (tmp_path / "served" / "saved_model.pb").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".served")]


def test_text_folder_source(tmp_path):
    for label, words in (("neg", "bad awful poor"), ("pos", "good great fine")):
        (tmp_path / "texts" / label).mkdir(parents=True)
        for i in range(6):
            (tmp_path / "texts" / label / f"{i}.txt").write_text(words)
    prog = write(
        tmp_path / "p.nn",
        """
        data texts = text_folder("texts")
        model m {
            Input(shape=(1,), dtype=string)
            TextVectorization(max_tokens=20, output_sequence_length=3, vocabulary=["bad", "awful", "poor", "good", "great", "fine"])
            Embedding(21, 4)
            GlobalAveragePooling1D()
            Dense(1, activation=sigmoid)
            loss binary_crossentropy
        }
        train m on texts epochs=1 batch_size=4
        test m on texts
        """,
    )
    state, _ = run(prog)
    assert "accuracy" not in state.results["m:texts"] and "loss" in state.results["m:texts"]


def test_categorical_columns_are_one_hot_encoded_with_training_categories(tmp_path):
    import keras

    rows = ["genre,price,y"] + [f"{g},{p},{(3 if g == 'rpg' else 1) * p}" for g, p in
                                 [("rpg", 1), ("sport", 2), ("action", 3), ("rpg", 4), ("sport", 5), ("action", 6)] * 8]
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "new.csv").write_text("genre,price\nsport,2\nrpg,2\n")
    (tmp_path / "odd.csv").write_text("genre,price\nstrategy,2\n")
    prog = write(
        tmp_path / "p.nn",
        """
        data train = csv("train.csv", target="y", categorical=["genre"], unknown="error")
        data new   = csv("new.csv", categorical=["genre"])
        model m {
            Input(shape=(4,))
            Dense(8, activation=relu)
            Dense(1)
            loss mse
        }
        train m on train epochs=2
        save m to "m.keras"
        load back from "m.keras"
        predict back on new to "p.csv" keep=["genre"]
        """,
    )
    state, _ = run(prog)
    assert state.models["m"].schema.features[1].categories == ("action", "rpg", "sport")
    out = read_csv(tmp_path / "p.csv")
    assert [r["genre"] for r in out] == ["sport", "rpg"] and "y" in out[0]
    # plain Keras loads the file, which takes the raw columns by name
    assert sorted(i.name for i in keras.models.load_model(tmp_path / "m.keras").inputs) == ["genre", "price"]
    # a category the training data never had is an error naming row and column
    from nndsl.errors import RunError

    bad = write(tmp_path / "q.nn", 'data odd = csv("odd.csv", categorical=["genre"])\nload back from "m.keras"\npredict back on odd\n')
    with pytest.raises(RunError) as e:
        run(bad)
    assert ("odd.csv:row 2, column 'genre': expected one of the training data's categories (action, rpg, sport); received 'strategy'"
            in e.value.render())
    # the CLI predicts from the saved file alone, encoding with the saved categories
    from nndsl.cli import main

    assert main(["predict", str(tmp_path / "m.keras"), str(tmp_path / "new.csv"), "-o", str(tmp_path / "cli.csv")]) == 0
    assert [round(float(r["y"]), 4) for r in read_csv(tmp_path / "cli.csv")] == [round(float(r["y"]), 4) for r in out]


def test_text_in_a_numeric_column_suggests_categorical(tmp_path):
    from nndsl.errors import RunError

    (tmp_path / "d.csv").write_text("a,b,y\n1,x,3\n")
    prog = write(tmp_path / "p.nn", 'data d = csv("d.csv", target="y")\n' + MODEL + "train m on d epochs=1\n")
    with pytest.raises(RunError) as e:
        run(prog)
    assert "categorical=[...]" in e.value.render()


@pytest.mark.parametrize(
    "content, expected",
    [
        (None, "d.csv: expected an existing CSV file; received a path that does not exist"),
        ("", "d.csv: expected a header row and data rows; received an empty file"),
        ("a,b,y\n", "d.csv: expected data rows after the header; received the header only"),
        ("a,b,y\n1,2,3\n1,nan,3\n", "d.csv:row 3, column 'b': expected a finite number; received 'nan'"),
        ("a,b,y\n1,2,3\n1,2\n", "d.csv:row 3: expected 3 fields like the header; received 2"),
        ("a,b,z\n1,2,3\n", "d.csv: expected a column 'y' (target); received columns a, b, z"),
    ],
)
def test_bad_csv_files(tmp_path, content, expected):
    from nndsl.errors import RunError

    if content is not None:
        (tmp_path / "d.csv").write_text(content)
    prog = write(tmp_path / "p.nn", 'data d = csv("d.csv", target="y")\n' + MODEL + "train m on d epochs=1\n")
    with pytest.raises(RunError) as e:
        run(prog)
    assert expected in e.value.render()


def test_folder_instead_of_file_and_labels_out_of_range(tmp_path):
    from nndsl.errors import RunError

    (tmp_path / "d.csv").mkdir()
    prog = write(tmp_path / "p.nn", 'data d = csv("d.csv", target="y")\n' + MODEL + "train m on d epochs=1\n")
    with pytest.raises(RunError) as e:
        run(prog)
    assert "expected a CSV file; received a folder" in e.value.render()
    (tmp_path / "c.csv").write_text("a,b,y\n1,2,0\n3,4,5\n")
    prog = write(tmp_path / "q.nn", """
        data d = csv("c.csv", target="y")
        model m {
            Input(shape=(2,))
            Dense(3, activation=softmax)
            loss sparse_categorical_crossentropy
        }
        train m on d epochs=1
        """)
    with pytest.raises(RunError) as e:
        run(prog)
    # whole-number labels under a classification loss are classes, in sorted order: 0 and 5 are two
    assert "expected a last layer of 2 units for the 2 classes of target 'y' (0, 5); received 3" in e.value.render()


def test_class_weight_and_initial_epoch(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,y\n" + "".join(f"{i % 3},{i % 2},{i % 2}\n" for i in range(40)))
    prog = write(tmp_path / "p.nn", """
        data d = csv("d.csv", target="y")
        model m {
            Input(shape=(2,))
            Dense(2, activation=softmax)
            loss sparse_categorical_crossentropy
            metrics [accuracy]
        }
        train m on d epochs=3 initial_epoch=1 class_weight={0: 1.0, 1: 5.0}
        test m on d
        """)
    state, out = run(prog, progress="json")
    ends = [json.loads(x)["epoch"] for x in out.splitlines() if '"epoch_end"' in x]
    assert ends == [2, 3]
    assert "accuracy" in state.results["m:d"]


def test_run_record_lands_next_to_the_file_from_anywhere(sales, monkeypatch, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("cwd")
    monkeypatch.chdir(elsewhere)
    run(Path(os.path.relpath(sales / "sales.nn", elsewhere)), overrides={"epochs": "1"})
    assert (sales / "sales.run.json").is_file()
    assert not list(elsewhere.rglob("*.run.json"))
