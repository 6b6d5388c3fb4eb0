"""``nndsl check --data`` and ``nndsl summary --data``: a program's tables read and each model's
schema fitted before any training, every mistake located in the ``.nn`` file.

The tables are tiny CSV and Parquet files written in tmp_path; the commands run in-process
through ``main``. None of this needs TensorFlow, and every test checks that it was not imported
(the fresh interpreter of tests/test_import_hygiene.py checks the same of the real entry point).
"""

from __future__ import annotations

import json
import sys

import pytest

from nndsl.cli import main
from nndsl.data.classes import class_problem

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

CUSTOMERS = """\
age,plan,region,churned
31,basic,north,no
45,pro,south,yes
22,,north,no
50,plus,east,yes
38,basic,south,no
"""

# Two classes; each categorical column has its categories, the missing cell's own and [UNK].
WIDTH = 1 + 5 + 4  # plan has empty cells in training: a slot of their own; region has none
CONTRIBUTIONS = "age: 1, plan: 5 ((missing), basic, plus, pro, [UNK]), region: 4 (east, north, south, [UNK])"

DATA = 'data customers = csv("customers.csv", target="churned", categorical=["plan", "region"])\n'

CHURN = DATA + """
model churn {
    Dense(8, activation=relu)
    Dense(2, activation=softmax)
    loss sparse_categorical_crossentropy
    optimizer adam
}

train churn on customers epochs=1
"""


# a split of a streamed table is refused, as the run refuses it
WHOLE_ONLY = {"test_the_schema_is_fitted_on_the_split_the_model_trains_on"}


@pytest.fixture(autouse=True, params=["whole", "streamed"])
def reading(request, monkeypatch):
    """Every test twice: the tables read whole, and forced over the memory budget, streamed in
    record batches of a few rows; what check --data says must be the same."""
    if request.param == "streamed":
        if request.node.get_closest_marker("keras") or request.node.originalname in WHOLE_ONLY:
            pytest.skip("read whole only")
        from nndsl.data import batches, budget
        from nndsl.data import csv as csv_source

        monkeypatch.setattr(budget, "default_budget", lambda: 1)
        monkeypatch.setattr(batches, "BATCH_BYTES", 64)
        monkeypatch.setattr(batches, "BATCH_ROWS", 2)
        monkeypatch.setattr(csv_source, "SMALL_FILE", 0)
    return request.param


@pytest.fixture(autouse=True)
def _plain_output_and_no_tensorflow(monkeypatch, request):
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    before = {m for m in ("tensorflow", "keras") if m in sys.modules}
    yield
    if request.node.get_closest_marker("keras"):
        return  # it runs the program too
    # (where an earlier test of the session imported TensorFlow, the import test's own process checks it)
    assert not {m for m in ("tensorflow", "keras") if m in sys.modules} - before, "checking data imported TensorFlow"


def project(tmp_path, program: str, **files) -> str:
    """The program as model.nn beside its data files (text, or a pyarrow Table written as Parquet)."""
    for name, content in {"customers.csv": CUSTOMERS, **files}.items():
        if isinstance(content, str):
            (tmp_path / name).write_text(content, encoding="utf-8")
        else:
            pq.write_table(content, tmp_path / name)
    path = tmp_path / "model.nn"
    path.write_text(program, encoding="utf-8")
    return str(path)


def check_data(path: str, *extra: str, capsys) -> tuple[int, str, str]:
    status = main(["check", "--data", *extra, path])
    out = capsys.readouterr()
    return status, out.out, out.err


def line_of(path: str, text: str) -> int:
    lines = open(path, encoding="utf-8").read().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


# ---------------------------------------------------------------- what it finds


def test_a_model_without_input_gets_the_width_of_its_table(tmp_path, capsys):
    path = project(tmp_path, CHURN)
    status, out, err = check_data(path, capsys=capsys)
    assert (status, err) == (0, "")
    assert out == f"{path}: ok\n  model churn: input {WIDTH} from customers.csv ({CONTRIBUTIONS}); classes no, yes\n"


def test_steps_that_feed_no_data_before_training_change_nothing(tmp_path, capsys):
    path = project(tmp_path, CHURN.replace("train churn", "summary churn\ntrain churn"))
    status, out, _ = check_data(path, capsys=capsys)
    assert status == 0
    assert out.splitlines()[1].startswith(f"  model churn: input {WIDTH} from customers.csv")


def test_a_model_loaded_from_a_file_brings_its_own_columns(tmp_path, capsys):
    (tmp_path / "churn.keras").write_bytes(b"PK")  # never opened: the saved model's columns are not checked
    program = 'data new = csv("new.csv", categorical=["plan"])\nload churn from "churn.keras"\npredict churn on new\n'
    path = project(tmp_path, program, **{"new.csv": "plan,age\npro,33\n"})
    assert check_data(path, capsys=capsys) == (0, f"{path}: ok\n", "")


def test_json_carries_the_same_facts(tmp_path, capsys):
    path = project(tmp_path, CHURN)
    status, out, _ = check_data(path, "--json", capsys=capsys)
    assert status == 0
    report = json.loads(out)
    assert report["ok"] is True
    [model] = report["models"]
    assert model["model"] == "churn" and model["data"] == "customers" and model["file"] == "customers.csv"
    assert model["input"] == WIDTH and model["declared_input"] is None
    assert [(c["name"], c["kind"], c["width"]) for c in model["columns"]] == [
        ("age", "numeric", 1), ("plan", "categorical", 5), ("region", "categorical", 4)]
    assert model["columns"][1]["encoded"][:2] == ["plan=[UNK]", "plan=(missing)"]
    assert model["targets"] == [{"name": "churned", "classes": ["no", "yes"]}]


def test_without_data_the_report_has_no_models(tmp_path, capsys):
    path = project(tmp_path, CHURN)
    assert main(["check", "--json", path]) == 0
    assert "models" not in json.loads(capsys.readouterr().out)


def test_quiet_prints_nothing_for_a_file_that_passes(tmp_path, capsys):
    path = project(tmp_path, CHURN)
    assert check_data(path, "-q", capsys=capsys) == (0, "", "")


def test_parquet_table_and_a_regression_target(tmp_path, capsys):
    table = pa.table({"size": [50.0, 80.0, 120.0], "rooms": [2, 3, 5], "kind": ["flat", "house", "flat"], "price": [1.0, 2.0, 3.5]})
    program = """\
data homes = parquet("homes.parquet", target="price", categorical=["kind"])

model price {
    Input(shape=(5,))
    Dense(1)
    loss mse
}

train price on homes epochs=1
"""
    path = project(tmp_path, program, **{"homes.parquet": table})
    status, out, err = check_data(path, capsys=capsys)
    assert (status, err) == (0, "")
    assert out.splitlines()[1] == ("  model price: input 5 from homes.parquet "
                                   "(size: 1, rooms: 1, kind: 3 (flat, house, [UNK])); target price (numbers)")


def test_the_schema_is_fitted_on_the_split_the_model_trains_on(tmp_path, capsys):
    # the last two rows are the only ones with plan 'gold': which part holds them decides the width
    rows = "".join(f"{20 + i},basic,north,{'yes' if i % 2 else 'no'}\n" for i in range(8))
    customers = "age,plan,region,churned\n" + rows + "60,gold,north,yes\n61,gold,north,no\n"
    program = DATA + """
data part = split(customers, 0.5, seed=0)
""" + CHURN.split(DATA, 1)[1].replace("on customers", "on part")
    path = project(tmp_path, program, **{"customers.csv": customers})
    from nndsl.data import split
    from nndsl.data.csv import load

    whole = load({"path": str(tmp_path / "customers.csv"), "target": "churned", "categorical": ["plan", "region"]},
                 name="customers", base=tmp_path)
    part = split.load({"source": "customers", "fractions": [0.5], "seed": 0}, name="part", base=tmp_path, resolve=lambda _: whole)
    plans = {p.strip() for p in part.columns["plan"]}
    assert plans == {"basic"}  # gold is in the other part only: fitted on the whole table, the width would differ
    status, out, _ = check_data(path, "--json", capsys=capsys)
    assert status == 0
    [model] = json.loads(out)["models"]
    assert model["data"] == "part"
    assert model["columns"][1]["width"] == len(plans) + 1  # + [UNK]: no empty cells, so no (missing) slot
    assert model["input"] == 1 + len(plans) + 1 + 2  # region: north and [UNK]


# ---------------------------------------------------------------- mistakes, located


def test_an_input_of_another_width_is_located_at_its_shape(tmp_path, capsys):
    path = project(tmp_path, CHURN.replace("    Dense(8, activation=relu)", "    Input(shape=(4,))\n    Dense(8, activation=relu)"))
    status, out, err = check_data(path, capsys=capsys)
    assert (status, out) == (1, "")
    line = line_of(path, "Input(shape=(4,))")
    assert err.startswith(f"{path}:{line}:17: error: expected input shape ({WIDTH},) for model 'churn', the encoded width of "
                          f"table 'customers'; received (4,) [data-shape]\n")
    assert "    Input(shape=(4,))\n" in err and "  |                 ^^^^ the table's columns give" in err
    assert f"the table's columns give {WIDTH} inputs: {CONTRIBUTIONS}; leave out Input and the model takes the table's width" in err
    assert "= note: model 'churn' trains on 'customers' here" in err
    assert "Traceback" not in err


def test_a_keras2_input_shape_of_another_width_is_located_too(tmp_path, capsys):
    path = project(tmp_path, CHURN.replace("Dense(8, activation=relu)", "Dense(8, activation=relu, input_shape=(3,))"))
    status, _, err = check_data(path, capsys=capsys)
    assert status == 1
    assert "received (3,) [data-shape]" in err and "^^^^ the table's columns give" in err


def test_a_last_layer_of_the_wrong_width_for_the_classes(tmp_path, capsys):
    path = project(tmp_path, CHURN.replace("Dense(2, activation=softmax)", "Dense(3, activation=softmax)"))
    status, _, err = check_data(path, capsys=capsys)
    assert status == 1
    line = line_of(path, "Dense(3")
    assert err.startswith(f"{path}:{line}:5: error: expected a last layer of 2 units for the 2 classes of target 'churned' "
                          "(no, yes); received 3 [class-count]\n")
    assert "Dense(2, activation=softmax), or Dense(1, activation=sigmoid) with loss binary_crossentropy" in err


def test_a_sigmoid_unit_for_three_classes(tmp_path, capsys):
    customers = CUSTOMERS.replace("50,plus,east,yes", "50,plus,east,maybe")
    program = CHURN.replace("Dense(2, activation=softmax)", "Dense(1, activation=sigmoid)").replace(
        "sparse_categorical_crossentropy", "binary_crossentropy")
    path = project(tmp_path, program, **{"customers.csv": customers})
    status, _, err = check_data(path, capsys=capsys)
    assert status == 1
    assert ("error: expected 2 classes for loss binary_crossentropy; received 3 classes "
            "(maybe, no, yes) and a last layer of 1 unit [class-count]") in err
    assert "for 3 classes: Dense(3, activation=softmax) with loss sparse_categorical_crossentropy" in err


def test_a_regression_loss_with_class_labels_is_located_at_the_loss(tmp_path, capsys):
    path = project(tmp_path, CHURN.replace("loss sparse_categorical_crossentropy", "loss mse"))
    status, _, err = check_data(path, capsys=capsys)
    assert status == 1
    line = line_of(path, "loss mse")
    assert err.startswith(f"{path}:{line}:5: error: expected a classification loss for the 2 classes of target 'churned' "
                          "(no, yes); received loss mean_squared_error [class-count]\n")


def test_prediction_data_without_a_column_the_model_takes(tmp_path, capsys):
    program = CHURN + 'data new = csv("new.csv", categorical=["plan"])\npredict churn on new\n'
    path = project(tmp_path, program, **{"new.csv": "plan,age\npro,33\n"})
    status, _, err = check_data(path, capsys=capsys)
    assert status == 1
    line = line_of(path, "predict churn on new")
    assert err.startswith(f"{path}:{line}:18: error: expected the feature column 'region' model 'churn' was trained on; "
                          "received data without it [missing-column]\n")
    assert "the model's feature columns are: age, plan, region" in err
    assert "= note: data source 'new' is declared here" in err


def test_a_second_training_table_without_a_column(tmp_path, capsys):
    program = CHURN + 'data more = csv("more.csv", target="churned", categorical=["region"])\ntrain churn on more epochs=1\n'
    path = project(tmp_path, program, **{"more.csv": "age,region,churned\n30,north,no\n"})
    status, out, err = check_data(path, "--json", capsys=capsys)
    assert status == 1
    [error] = json.loads(out)["errors"]
    assert error["code"] == "missing-column" and error["line"] == line_of(path, "train churn on more")
    assert error["message"] == "expected the feature column 'plan' model 'churn' was trained on; received data without it"
    assert "[missing-column]" in err


def test_test_data_without_a_target(tmp_path, capsys):
    program = CHURN + 'data later = csv("later.csv", categorical=["plan", "region"])\ntest churn on later\n'
    path = project(tmp_path, program, **{"later.csv": "region,plan,age\nnorth,pro,33\n"})
    status, _, err = check_data(path, capsys=capsys)
    assert status == 1
    assert "error: expected data with a target column to test model 'churn'; received 'later' without one [missing-target]" in err


def test_validation_data_is_blamed_where_the_option_names_it(tmp_path, capsys):
    program = CHURN.replace("epochs=1", "epochs=1 validation_data=val") + 'data val = csv("val.csv", target="churned")\n'
    path = project(tmp_path, program, **{"val.csv": "age,churned\n30,no\n"})
    status, _, err = check_data(path, capsys=capsys)
    assert status == 1
    line = line_of(path, "validation_data=val")
    column = open(path, encoding="utf-8").read().splitlines()[line - 1].index("=val") + 2
    assert err.startswith(f"{path}:{line}:{column}: error: expected the feature column 'plan' model 'churn' was trained on")
    assert err.splitlines()[2].endswith("^^^ the model's feature columns are: age, plan, region")


def test_a_category_the_training_data_never_had_under_unknown_error(tmp_path, capsys):
    program = CHURN.replace('categorical=["plan", "region"])', 'categorical=["plan", "region"], unknown="error")')
    program += 'data new = csv("new.csv", categorical=["plan", "region"], unknown="error")\npredict churn on new\n'
    path = project(tmp_path, program, **{"new.csv": "age,plan,region\n33,gold,north\n"})
    status, _, err = check_data(path, capsys=capsys)
    assert status == 1
    assert "new.csv:row 2, column 'plan': expected one of the training data's categories" in err and "[bad-data]" in err


def test_an_unseen_category_is_named_in_its_part_file_after_dropped_rows_and_a_blank_line(tmp_path, capsys):
    """Read whole or streamed, the error names the part file and its own row, not the folder's joined rows."""
    program = CHURN.replace('categorical=["plan", "region"])', 'categorical=["plan", "region"], unknown="error")')
    program += 'data new = csv("new", categorical=["plan", "region"], missing="drop")\npredict churn on new\n'
    (tmp_path / "new").mkdir()
    path = project(tmp_path, program, **{"new/p1.csv": "age,plan,region\n33,pro,north\n,pro,north\n",
                                         "new/p2.csv": "age,plan,region\n,pro,north\n\n34,basic,south\n35,gold,east\n"})
    status, _, err = check_data(path, capsys=capsys)
    assert status == 1
    assert "new/p2.csv:row 5, column 'plan': expected one of the training data's categories" in err and "[bad-data]" in err


def test_every_mistake_is_reported_at_once(tmp_path, capsys):
    program = CHURN.replace("Dense(8, activation=relu)", "Input(shape=(4,))\n    Dense(8)").replace("Dense(2,", "Dense(3,")
    program += 'data new = csv("new.csv", categorical=["plan"])\npredict churn on new\n'
    path = project(tmp_path, program, **{"new.csv": "plan,age\npro,33\n"})
    status, _, err = check_data(path, capsys=capsys)
    assert status == 1
    codes = [c for c in ("[data-shape]", "[class-count]", "[missing-column]") if c in err]
    assert codes == ["[data-shape]", "[class-count]", "[missing-column]"]
    assert err.rstrip().endswith("found 3 errors")


# ---------------------------------------------------------------- data that cannot be read


def test_a_missing_target_column_is_the_loaders_located_error(tmp_path, capsys):
    path = project(tmp_path, CHURN.replace('target="churned"', 'target="left"'))
    status, _, err = check_data(path, capsys=capsys)
    assert status == 1
    assert err.startswith(f"{path}:1:1: error: customers.csv: expected a column 'left' (target); received columns "
                          "age, plan, region, churned [bad-data]\n")


def test_an_undeclared_text_column_is_the_loaders_located_error(tmp_path, capsys):
    path = project(tmp_path, CHURN.replace('categorical=["plan", "region"]', 'categorical=["plan"]'))
    status, _, err = check_data(path, capsys=capsys)
    assert status == 1
    assert f"{path}:1:1: error: customers.csv:row 2, column 'region': expected a number; received 'north' [bad-data]" in err
    assert "a column of categories is declared with categorical=[...]" in err


def test_every_declared_table_is_read_used_or_not(tmp_path, capsys):
    path = project(tmp_path, CHURN + 'data spare = parquet("spare.parquet")\n')
    status, _, err = check_data(path, capsys=capsys)
    assert status == 1
    assert "spare.parquet: expected an existing Parquet file" in err


def test_a_layer_that_cannot_take_the_tables_width(tmp_path, capsys):
    path = project(tmp_path, CHURN.replace("Dense(8, activation=relu)", "Dense(8, activation=relu)\n    Reshape((3, 3))"))
    status, _, err = check_data(path, capsys=capsys)
    assert status == 1
    assert "error: Reshape cannot turn (None, 8) into target_shape (3, 3)" in err and "[shape-mismatch]" in err


def test_the_parameter_budget_counts_the_tables_width(tmp_path, capsys):
    path = project(tmp_path, CHURN)
    assert main(["check", path, "--max-params", "50"]) == 0  # unknown until the data is read
    capsys.readouterr()
    status, _, err = check_data(path, "--max-params", "50", capsys=capsys)
    assert status == 1
    assert f"received {(WIDTH + 1) * 8 + 9 * 2:,} in model 'churn' [parameter-budget]" in err


def test_data_with_language_only_is_a_usage_error(tmp_path, capsys):
    path = project(tmp_path, CHURN)
    assert main(["check", "--data", "--language-only", path]) == 2
    assert "--data: expected the Keras checks" in capsys.readouterr().err


# ---------------------------------------------------------------- over the memory budget


def many_customers(n: int, seed: int = 0) -> str:
    import random

    rng = random.Random(seed)
    return "age,plan,region,churned\n" + "".join(
        f"{rng.randint(18, 80) if i % 17 else ''},{'' if i % 13 == 0 else rng.choice(['basic', 'plus', 'pro'])},"
        f"{rng.choice(['north', 'south', 'east'])},{rng.choice(['no', 'yes'])}\n" for i in range(n))


def test_a_table_over_the_budget_is_never_read_whole(tmp_path, capsys, monkeypatch, reading):
    from nndsl.data import parts, stream

    program = CHURN + ('data later = csv("later.csv", target="churned", categorical=["plan", "region"])\n'
                       "test churn on later\n")
    files = {"customers.csv": many_customers(400), "later.csv": many_customers(300, seed=1)}
    path = project(tmp_path, 'memory_budget "8GB"\n' + program, **files)
    whole = check_data(path, capsys=capsys), check_data(path, "--json", capsys=capsys)
    assert whole[0][0] == 0 and "classes no, yes" in whole[0][1]

    def never(*args, **kwargs):
        raise AssertionError("a table over the budget was read whole")

    monkeypatch.setattr(parts, "concat_blocks", never)
    # nothing refused: the one pass is all that is read (no batch encoded)
    monkeypatch.setattr(stream.StreamedTable, "arrays", never)
    path = project(tmp_path, 'memory_budget "1KB"\n' + program, **files)
    assert (check_data(path, capsys=capsys), check_data(path, "--json", capsys=capsys)) == whole
    path = project(tmp_path, 'memory_budget "8GB"\n' + program, **files)
    assert (check_data(path, "--memory-budget", "1KB", capsys=capsys),
            check_data(path, "--json", "--memory-budget", "1KB", capsys=capsys)) == whole


@pytest.mark.parametrize("change, located", [
    # a category the model never saw, deep in a later table, under unknown="error"
    (lambda t: t.replace("\n30,pro,north,", "\n30,gold,north,"), "later.csv:row 202, column 'plan': expected one of the "
                                                                    "training data's categories"),
    # a class the model was not trained on
    (lambda t: t.replace("\n30,pro,north,no", "\n30,pro,north,maybe"), "later.csv:row 202, column 'churned': expected one "
                                                                          "of the training data's classes (no, yes); received 'maybe'"),
    # a missing cell where the model refuses them (trained under missing="error")
    (lambda t: t.replace("\n30,pro,north,no", "\n,pro,north,no"), "later.csv:row 202, column 'age': expected a number in "
                                                                     "column 'age'; received a missing value"),
])
def test_what_the_model_refuses_of_a_streamed_table_is_located_in_its_file(tmp_path, capsys, change, located):
    rows = "age,plan,region,churned\n" + "".join(f"{20 + i % 40},{['basic', 'pro'][i % 2]},{['north', 'south'][i % 3 == 0]},"
                                                  f"{['no', 'yes'][i % 5 == 0]}\n" for i in range(300))
    later = rows.split("\n")
    later[201] = "30,pro,north,no"
    later = change("\n".join(later))
    program = CHURN.replace('categorical=["plan", "region"])',
                            'categorical=["plan", "region"], unknown="error", missing={"age": "error"})')
    program += 'data later = csv("later.csv", target="churned", categorical=["plan", "region"])\ntest churn on later\n'
    path = project(tmp_path, program, **{"customers.csv": rows, "later.csv": later})
    whole = check_data(path, capsys=capsys)
    assert whole[0] == 1 and located in whole[2]
    assert check_data(path, "--memory-budget", "1KB", capsys=capsys) == whole


@pytest.mark.parametrize("change, located", [
    (lambda r: r.update(plan="gold"), "later.jsonl:line 202, column 'plan': expected one of the training data's categories"),
    (lambda r: r.update(churned="maybe"), "later.jsonl:line 202, column 'churned': expected one of the training data's "
                                          "classes (no, yes); received 'maybe'"),
    (lambda r: r.update(age=None), "later.jsonl:line 202, column 'age': expected a number in column 'age'; received a missing value"),
    # a bad cell the loader itself finds: its own wording, which the refusals above share
    (lambda r: r.update(age="thirty"), "later.jsonl:line 202, column 'age': expected a number like line 1; received text"),
])
def test_a_refusal_in_json_lines_is_worded_as_the_loader_words_its_lines(tmp_path, capsys, change, located):
    rows = [{"age": 20 + i % 40, "plan": ["basic", "pro"][i % 2], "region": ["north", "south"][i % 3 == 0],
             "churned": ["no", "yes"][i % 5 == 0]} for i in range(300)]
    later = [dict(r) for r in rows]
    change(later[201])
    program = (CHURN.replace('csv("customers.csv"', 'json("customers.jsonl"')
               .replace('categorical=["plan", "region"])', 'categorical=["plan", "region"], unknown="error", missing={"age": "error"})'))
    program += 'data later = json("later.jsonl", target="churned", categorical=["plan", "region"])\ntest churn on later\n'
    lines = {name: "".join(json.dumps(r) + "\n" for r in table) for name, table in (("customers.jsonl", rows), ("later.jsonl", later))}
    path = project(tmp_path, program, **lines)
    whole = check_data(path, capsys=capsys)
    assert whole[0] == 1 and located in whole[2]
    assert check_data(path, "--memory-budget", "1KB", capsys=capsys) == whole


def test_a_memory_budget_without_data_is_a_usage_error(tmp_path, capsys):
    path = project(tmp_path, CHURN)
    assert main(["check", "--memory-budget", "1KB", path]) == 2
    assert "--memory-budget: expected --data" in capsys.readouterr().err


# ---------------------------------------------------------------- summary


def test_summary_with_data_shows_the_input_and_the_shapes(tmp_path, capsys):
    path = project(tmp_path, CHURN)
    assert main(["summary", "--data", path]) == 0
    out = capsys.readouterr().out
    assert "(None, 8)" in out and f"total parameters: {(WIDTH + 1) * 8 + 9 * 2:,}" in out
    assert out.rstrip().endswith(f"model churn: input {WIDTH} from customers.csv ({CONTRIBUTIONS}); classes no, yes")


def test_summary_without_data_says_where_the_input_comes_from(tmp_path, capsys):
    path = project(tmp_path, CHURN)
    assert main(["summary", path]) == 0
    out = capsys.readouterr().out
    assert "unknown until built" in out
    assert out.rstrip().endswith("model churn: input from the table it trains on, its width unknown until read "
                                 "(nndsl summary --data reads it)")


# ---------------------------------------------------------------- the run agrees


@pytest.mark.keras
@pytest.mark.parametrize("change", [
    ("Dense(2, activation=softmax)", "Dense(3, activation=softmax)"),  # blamed on the last layer
    ("loss sparse_categorical_crossentropy", "loss mse"),  # blamed on the loss
], ids=["units", "loss"])
def test_the_run_reports_the_class_count_where_check_data_does(tmp_path, capsys, change):
    path = project(tmp_path, CHURN.replace(*change))
    status, _, checked = check_data(path, capsys=capsys)
    assert status == 1
    assert main(["run", path, "--progress", "none"]) == 1
    ran = capsys.readouterr().err
    assert "[class-count]" in checked and ran.splitlines()[:3] == checked.splitlines()[:3]


# ---------------------------------------------------------------- the rules


@pytest.mark.parametrize("classes, loss, units, wrong", [
    (("no", "yes"), "binary_crossentropy", 1, False),
    (("no", "yes"), "binary_crossentropy", 2, True),
    (("a", "b", "c"), "binary_crossentropy", None, True),
    (("no", "yes"), "sparse_categorical_crossentropy", 2, False),
    (("no", "yes"), "sparse_categorical_crossentropy", None, False),  # the width unknown: only the loss is judged
    (("a", "b", "c"), "CategoricalCrossentropy", 2, True),
    (("no", "yes"), "mse", 1, True),
    ((), "mse", 1, False),
])
def test_class_rules(classes, loss, units, wrong):
    problem = class_problem("y", classes, loss, units)
    assert (problem is not None) == wrong
    if problem is not None:
        assert problem.at_loss == (loss == "mse")
