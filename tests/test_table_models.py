"""Models trained on real-world tables: text class labels, categories unseen in training, missing
cells, columns in any order, no Input width by hand, and a saved file that plain Keras feeds with
raw rows by column name."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nndsl.errors import RunError

pytestmark = pytest.mark.keras


def rows_of(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def messy_table(folder: Path, n: int = 240) -> None:
    """Customers: an id, two numbers (some missing), a category (some missing) and a yes/no label."""
    import numpy as np

    rng = np.random.default_rng(0)
    lines = ["id,age,usage,plan,churned"]
    for i in range(n):
        plan = ["basic", "plus", "pro"][i % 3]
        usage = float(rng.uniform(0, 10))
        churned = "yes" if (plan == "basic") ^ (usage > 7) else "no"
        age = "" if i % 11 == 0 else f"{20 + i % 40}"
        lines.append(f"c{i},{age},{usage:.3f},{'' if i % 13 == 0 else plan},{churned}")
    (folder / "customers.csv").write_text("\n".join(lines) + "\n")
    # columns in another order, a missing age, a plan never seen in training, a missing plan
    (folder / "new.csv").write_text("plan,usage,id,age\nbasic,2.5,n1,30\nenterprise,9.0,n2,\n,1.0,n3,41\n")


PROGRAM = """
seed 3
data customers = csv("customers.csv", target="churned", id="id", categorical=["plan"])
data new = csv("new.csv", id="id", categorical=["plan"])
model churn {
    Dense(8, activation=relu)
    Dense(LAST)
    loss LOSS
    optimizer Adam(learning_rate=0.05)
    metrics [accuracy]
    scale_features standard
}
train churn on customers epochs=3 batch_size=32
save churn to "churn.keras"
load again from "churn.keras"
predict again on new to "predictions.csv" probabilities=true
"""


def program(folder: Path, last: str = "1, activation=sigmoid", loss: str = "binary_crossentropy", text: str = PROGRAM) -> Path:
    path = folder / "churn.nn"
    path.write_text(text.replace("LAST", last).replace("LOSS", loss))
    return path


def run(path: Path):
    from nndsl.run.runner import run as run_program

    out = io.StringIO()
    state = run_program(path, out=out, err=io.StringIO(), progress="plain")
    return state, out.getvalue()


def test_text_labels_missing_cells_and_unseen_categories(tmp_path):
    messy_table(tmp_path)
    state, out = run(program(tmp_path))
    schema = state.models["churn"].schema
    assert schema.classes == ("no", "yes")
    assert [f.name for f in schema.features] == ["age", "usage", "plan"]
    # the width came from the table: 2 numbers + (missing), basic, plus, pro + [UNK]
    assert state.models["churn"].keras_model.input_shape == (None, 7)
    assert "customers: filled " in out and "age 22 (" in out and "plan 19 (own category)" in out
    preds = rows_of(tmp_path / "predictions.csv")
    assert list(preds[0]) == ["id", "churned", "no", "yes"]
    assert [p["id"] for p in preds] == ["n1", "n2", "n3"]
    for p in preds:
        assert p["churned"] in ("no", "yes")
        assert float(p["no"]) + float(p["yes"]) == pytest.approx(1.0, abs=1e-6)
        assert p["churned"] == ("yes" if float(p["yes"]) >= 0.5 else "no")
    from nndsl.run.modelmeta import read

    assert read(tmp_path / "churn.keras")["class_names"] == ["no", "yes"]


def test_plain_keras_predicts_from_raw_rows(tmp_path):
    """The saved file alone, in a process without nndsl: a dict of named columns, NaN and an unseen
    category included, gives nndsl's own predictions."""
    messy_table(tmp_path)
    run(program(tmp_path))
    ours = [float(p["yes"]) for p in rows_of(tmp_path / "predictions.csv")]
    script = textwrap.dedent(f"""
        import json, sys
        import numpy as np
        import keras
        model = keras.models.load_model({str(tmp_path / 'churn.keras')!r})
        rows = {{"usage": np.array([2.5, 9.0, 1.0]), "plan": np.array(["basic", "enterprise", ""], dtype=object),
                 "age": np.array([30.0, np.nan, 41.0])}}
        print(json.dumps({{"p": model.predict(rows, verbose=0)[:, 0].tolist(),
                          "inputs": sorted(i.name for i in model.inputs),
                          "nndsl": any(m.startswith("nndsl") for m in sys.modules)}}))
    """)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["nndsl"] is False and result["inputs"] == ["age", "plan", "usage"]
    assert "Skipping variable loading" not in proc.stderr  # the optimizer's state is in the file, where Keras looks
    assert result["p"] == pytest.approx(ours, abs=1e-6)


def test_the_wrapped_model_computes_what_nndsl_encodes(tmp_path):
    """Every fill and category path of the Keras layers against the NumPy encoding, in process."""
    import keras
    import numpy as np

    from nndsl.data.csv import load
    from nndsl.data.schema import encode, fit
    from nndsl.data.table import data_error
    from nndsl.run.tablemodel import wrap

    (tmp_path / "t.csv").write_text("e,a,b,c,d,y\n0,1,,x,3,1\n1,,5,,3,0\n2,7,8,x,4,1\n3,3,,z,4,0\n4,-2.5e-7,1,z,3,1\n")
    ds = load({"path": "t.csv", "target": "y", "categorical": ["c", "d"],
               "missing": {"b": "median", "c": "most_frequent", "e": "error"}}, name="t", base=tmp_path)

    def fail(m, row=None, column=None, hint=None):
        return data_error(m, where=f"{row}/{column}")

    schema = fit(ds, loss_kind=None, fail=fail)
    identity = keras.Sequential([keras.Input(shape=(schema.width,)), keras.layers.Identity()])
    model = wrap(identity, schema, "t")
    new = {"e": np.array([5.0, 6.0, 7.0]), "a": np.array([np.nan, 2.0, -2.5e-7]), "b": np.array([np.nan, np.nan, 4.0]),
           "c": np.array(["", "w", "z"], dtype=object), "d": np.array([3, 9, 4])}
    got = np.asarray(model.predict(new, verbose=0))
    (tmp_path / "n.csv").write_text("a,b,c,d,e\n,,,3,5\n2,,w,9,6\n-2.5e-7,4,z,4,7\n")
    rows = load({"path": "n.csv", "categorical": ["c", "d"]}, name="n", base=tmp_path)
    want = encode(rows, schema, fail, with_targets=False).x
    # the filled numbers first, then the one whose missing cells are refused, then the categories
    assert [f.name for f in schema.features] == ["a", "b", "e", "c", "d"]
    assert schema.features[4].integer and got.tolist() == want.tolist()
    nan = np.asarray(model.predict({**new, "e": np.array([np.nan, 1.0, 1.0])}, verbose=0))
    assert np.isnan(nan[0, 2]) and not np.isnan(nan[1:]).any()  # refused cells pass through as NaN


def test_a_sigmoid_for_three_classes_is_an_error_at_the_last_layer(tmp_path):
    (tmp_path / "f.csv").write_text("a,b,species\n" + "".join(f"{i},{i % 4},{['setosa', 'virginica', 'versicolor'][i % 3]}\n"
                                                          for i in range(30)))
    path = tmp_path / "f.nn"
    path.write_text('data f = csv("f.csv", target="species")\nmodel m {\n    Dense(4, activation=relu)\n'
                    '    Dense(1, activation=sigmoid)\n    loss binary_crossentropy\n}\ntrain m on f epochs=1\n')
    with pytest.raises(RunError) as e:
        run(path)
    (d,) = e.value.diagnostics
    assert d.code == "class-count"
    assert d.message == ("expected 2 classes for loss binary_crossentropy; received 3 classes (setosa, versicolor, virginica) "
                         "and a last layer of 1 unit")
    assert (d.span.line, d.span.column) == (4, 5)
    assert d.hint == "for 3 classes: Dense(3, activation=softmax) with loss sparse_categorical_crossentropy"


def test_text_labels_under_a_regression_loss_are_an_error(tmp_path):
    (tmp_path / "f.csv").write_text("a,y\n1,low\n2,high\n3,low\n")
    path = tmp_path / "f.nn"
    path.write_text('data f = csv("f.csv", target="y")\nmodel m {\n    Dense(1)\n    loss mse\n}\ntrain m on f epochs=1\n')
    with pytest.raises(RunError) as e:
        run(path)
    assert e.value.diagnostics[0].message == ("expected a classification loss for the 2 classes of target 'y' (high, low); "
                                              "received loss mean_squared_error")


def test_a_wrong_input_width_lists_what_each_column_contributes(tmp_path):
    messy_table(tmp_path)
    text = PROGRAM.replace("    Dense(8, activation=relu)", "    Input(shape=(5,))\n    Dense(8, activation=relu)")
    with pytest.raises(RunError) as e:
        run(program(tmp_path, text=text))
    (d,) = e.value.diagnostics
    assert d.message.startswith("expected data with input shape (5,) for model 'churn'; received 7 feature columns")
    assert d.hint == ("the table's columns give 7 inputs: age: 1, usage: 1, plan: 5 ((missing), basic, plus, pro, [UNK]); "
                      "leave out Input and the model takes the table's width")


def test_unknown_error_refuses_an_unseen_category_in_nndsl_and_in_keras(tmp_path):
    messy_table(tmp_path)
    text = PROGRAM.replace('categorical=["plan"])\ndata new', 'categorical=["plan"], unknown="error")\ndata new')
    with pytest.raises(RunError) as e:
        run(program(tmp_path, text=text))
    assert e.value.diagnostics[0].message == ("new.csv:row 3, column 'plan': expected one of the training data's categories "
                                              "((missing), basic, plus, pro); received 'enterprise'")


def test_integer_labels_become_classes_under_a_classification_loss(tmp_path):
    (tmp_path / "f.csv").write_text("a,b,kind\n" + "".join(f"{i},{i % 4},{[1, 2, 3][i % 3]}\n" for i in range(30)))
    (tmp_path / "n.csv").write_text("a,b\n1,2\n")
    path = tmp_path / "f.nn"
    path.write_text('data f = csv("f.csv", target="kind")\ndata n = csv("n.csv")\nmodel m {\n    Dense(3, activation=softmax)\n'
                    '    loss sparse_categorical_crossentropy\n}\ntrain m on f epochs=1\npredict m on n to "p.csv"\n')
    state, _ = run(path)
    assert state.models["m"].schema.classes == ("1", "2", "3")
    (row,) = rows_of(tmp_path / "p.csv")
    assert list(row) == ["kind"] and row["kind"] in ("1", "2", "3")


def test_the_command_line_predicts_class_names_from_the_file(tmp_path, capsys):
    from nndsl.cli import main

    messy_table(tmp_path)
    run(program(tmp_path))
    assert main(["predict", str(tmp_path / "churn.keras"), str(tmp_path / "new.csv"), "--keep", "id", "--probabilities",
                 "-o", str(tmp_path / "cli.csv")]) == 0
    assert rows_of(tmp_path / "cli.csv") == rows_of(tmp_path / "predictions.csv")
