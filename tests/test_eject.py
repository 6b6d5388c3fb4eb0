"""``nndsl export FILE --to python``: the script does what ``nndsl run`` does, with plain Keras.

Every example (and three programs that take the runner's rarer paths: categorical columns,
split, validation data, callbacks, .h5, keep=, .npy, printed predictions; every missing=
policy, unseen categories, text class labels, one-hot targets, class probabilities; JSON lines,
a folder of them and a glob of CSV part files, typed booleans, nulls and absent keys) is exported with a
small number of epochs and run in a subprocess in which nndsl cannot be imported, from a
folder that is neither the script's nor the example's. Its saved models are compared with the
models ``nndsl run`` saves for the same program: the same configuration and parameter count
for all, the same trained weights and predictions for the small ones.

The scripts run in two worker processes started once for the whole module (TensorFlow is
imported once per worker), while the nndsl runs they are compared with happen in this process.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import nndsl
from nncases import check_example_run, copy_program, example_plugin_path, exported_examples, program_outputs
from nndsl.cli import interop as commands
from nndsl.errors import UsageError
from nndsl.interop.eject import eject
from nndsl.interop.importer import without_names

pytestmark = pytest.mark.keras

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
# a plugin's names (examples/plugin) and a search (the tune step, on Optuna inside nndsl) cannot
# be exported: export refuses them (tested below); every other example runs here
EXAMPLE_FILES = exported_examples()
EPOCHS = {"sales": "2", "tabular_classifier": "2", "houses": "2", "tables": "2", "parts": "2"}  # the rest: one epoch
SAME_WEIGHTS = {"sales", "tabular_classifier", "sequence_model", "regression_dnn", "houses", "customer_churn", "tables",
                "bike_rentals", "parts"}
SLOW = "imdb_bidirectional_lstm"  # most of a worker's time: the other worker takes the rest

DRIVER = r"""
import json, runpy, sys, time, traceback
sys.modules["nndsl"] = None  # the scripts must not need nndsl: importing it fails from here on
status = {}
for script in sys.argv[2:]:
    print(f"===== {script}", flush=True)
    started = time.perf_counter()
    try:
        runpy.run_path(script, run_name="__main__")
        status[script] = "ok"
    except BaseException:
        status[script] = traceback.format_exc()
    print(f"===== {script}: {time.perf_counter() - started:.1f} s", flush=True)
leaked = sorted(m for m in sys.modules if m.startswith("nndsl") and sys.modules[m] is not None)
with open(sys.argv[1], "w", encoding="utf-8") as fh:
    json.dump({"status": status, "leaked": leaked}, fh)
"""

HOUSES = """\
# Every path of the runner the examples do not take.
seed 9
let epochs = 2
let units  = 8
let act    = relu
let half   = units // 2
let lr     = 1 / 100

data all   = csv("houses.csv", target="price", exclude=["note"], id="id", categorical=["color"])
data train = split(all, 0.7, 0.15, part=0)
data valid = split(all, 0.7, 0.15, part=1)
data test  = split(all, 0.7, 0.15, part=2)
data fresh = csv("fresh.csv", id=["id"], numeric=["area", "rooms"], categorical=["color"])  # note: left out

block hidden(n, rate=0.1) {
    Dense(n, activation=act, kernel_initializer=HeNormal(seed=3))
    Dropout(rate, seed=1)
}

model price {
    Input(shape=(6,))
    hidden(units)
    repeat 2 {
        Dense(half, activation=act, kernel_regularizer=L2(0.001))
    }
    Dense(1)

    loss mse
    optimizer Adam(learning_rate=lr)
    metrics [mae, RootMeanSquaredError(name="rmse")]
    scale_features standard
    scale_target minmax
}

summary price
train price on train epochs=epochs batch_size=16 validation_data=valid callbacks=[EarlyStopping(patience=3), CSVLogger("log.csv")]
evaluate price on test batch_size=8
save price to "price.h5"
load again from "price.h5"
predict again on fresh to "prices.csv" keep=["id", "area"] column="p"
predict price on fresh to "prices.npy"
predict again on test rows=3
"""


def write_houses(folder: Path) -> Path:
    """A small table with an id, a text column and a categorical column, and the program above."""
    import numpy as np

    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    with open(folder / "houses.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "area", "rooms", "color", "note", "price"])
        for i in range(120):
            area, rooms = rng.uniform(50, 200), int(rng.integers(1, 6))
            price = area * 1000 + rooms * 5000 + (i % 3) * 7000
            w.writerow([f"h{i}", f"{area:.1f}", rooms, ["red", "blue", "green"][i % 3], "x y", f"{price:.0f}"])
    with open(folder / "fresh.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "area", "rooms", "color", "note"])
        for i in range(5):
            w.writerow([f"n{i}", 100 + i, 3, ["blue", "red"][i % 2], "z"])
    path = folder / "houses.nn"
    path.write_text(HOUSES, encoding="utf-8")
    return path


TABLES = """\
# Every missing= policy, unseen categories, codes as text, text class labels as one-hot targets, no Input.
seed 4
let epochs = 2

data all   = csv("people.csv", target="tier", id="id", categorical=["city", "size"], text=["code"],
                 missing={"income": "median", "age": 30, "score": "drop", "city": "most_frequent"})
data train = split(all, 0.75, part=0)
data test  = split(all, 0.75, part=1)
data fresh = csv("fresh.csv", id="id", categorical=["city", "size"], text=["code"], missing={"score": "drop"})

model tier {
    Dense(8, activation=relu)
    Dense(3, activation=softmax)

    loss categorical_crossentropy
    optimizer Adam(learning_rate=0.01)
    metrics [accuracy]
    scale_features standard
}

summary tier
train tier on train epochs=epochs batch_size=16 validation_data=test
test tier on test
save tier to "tier.keras"
load again from "tier.keras"
predict again on fresh to "tiers.csv" probabilities=true keep=["age"]
predict tier on fresh rows=4
"""


def write_tables(folder: Path) -> Path:
    """People with empty cells in every kind of column, a city and a size category, a code whose
    leading zeros matter, and a text tier; fresh rows with a city, a size and a code never seen in
    training, and empty cells."""
    import numpy as np

    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    with open(folder / "people.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "age", "income", "score", "city", "size", "code", "tier"])
        for i in range(160):
            age = "" if i % 11 == 0 else int(rng.integers(18, 80))
            income = "" if i % 7 == 0 else f"{rng.uniform(10, 90):.2f}"
            score = "" if i % 23 == 5 else f"{rng.normal():.3f}"
            city = "" if i % 13 == 0 else ["Lyon", "Porto", "Turku", "Lyon"][i % 4]
            code = ["007", "07", "7", "012", "12"][i % 5]
            w.writerow([f"p{i}", age, income, score, city, 1 + i % 3, code, ["gold", "silver", "bronze"][(i // 2) % 3]])
    with open(folder / "fresh.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "age", "income", "score", "city", "size", "code"])
        for i, (city, size) in enumerate([("Lyon", 1), ("Oslo", 2), ("", 3), ("Turku", 4), ("Porto", 1), ("Lyon", 2)]):
            code = ["007", "0007", "7", "", "012", "07"][i]
            w.writerow([f"f{i}", "" if i == 2 else 30 + i, "" if i == 3 else 50 + i, "" if i == 5 else 0.5, city, size, code])
    path = folder / "tables.nn"
    path.write_text(TABLES, encoding="utf-8")
    return path


PARTS = """\
# JSON lines and CSV part files: typed booleans, nulls, absent keys, whole-number categories.
seed 5
let epochs = 2

data train = json("train.jsonl", target="answer", id="id", categorical=["plan", "floor"], missing={"visits": "median"})
data check = csv("parts/part-*.csv", target="answer", id="id", categorical=["plan", "floor"], missing={"visits": "median"})
data fresh = json("fresh/", id="id", categorical=["plan", "floor"])

model answer {
    Dense(8, activation=relu)
    Dense(2, activation=softmax)

    loss sparse_categorical_crossentropy
    optimizer Adam(learning_rate=0.01)
    metrics [accuracy]
    scale_features standard
}

train answer on train epochs=epochs batch_size=16 validation_data=check
test answer on check
save answer to "answer.keras"
predict answer on fresh to "answers.csv" probabilities=true keep=["active"]
predict answer on check to "checked.csv"
"""


def write_parts(folder: Path) -> Path:
    """Training rows as JSON lines (booleans, nulls, keys some lines leave out, a whole-number
    category, a yes/no answer); checking rows as three CSV part files whose sorted order is not
    their numeric one, one with its columns in another order, with empty cells and true/false;
    fresh rows as a folder of two JSON lines files, with a plan never seen in training."""
    import numpy as np

    rng = np.random.default_rng(5)
    (folder / "parts").mkdir(parents=True)
    (folder / "fresh").mkdir()

    def row(i):
        age = None if i % 9 == 0 else int(rng.integers(18, 70))
        visits = None if i % 7 == 3 else round(float(rng.uniform(0, 20)), 2)
        active = None if i == 4 else bool(i % 3)
        plan = None if i % 11 == 0 else ["basic", "pro", "team"][i % 3]
        return {"id": f"u{i}", "age": age, "visits": visits, "active": active, "plan": plan, "floor": 1 + i % 4,
                "answer": "yes" if (visits or 5) > 9 or plan == "pro" else "no"}

    with open(folder / "train.jsonl", "w", encoding="utf-8") as fh:
        for i in range(120):
            r = row(i)
            if i % 10 == 5:
                del r["age"]  # an absent key: a missing cell
            fh.write(json.dumps(r) + "\n")
            if i == 60:
                fh.write("\n")  # a blank line holds no row
    columns = ["id", "age", "visits", "active", "plan", "floor", "answer"]
    for part, (start, order) in {"1": (120, columns), "10": (140, columns[::-1]), "2": (160, columns)}.items():
        with open(folder / "parts" / f"part-{part}.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(order)
            for i in range(start, start + 20):
                r = row(i)
                r["active"] = "" if r["active"] is None else str(r["active"]).lower()
                w.writerow(["" if r[c] is None else r[c] for c in order])
    fresh = [row(i) for i in range(200, 208)]
    fresh[2]["plan"] = "enterprise"  # never seen in training
    del fresh[5]["visits"]
    for name, rows in (("b.jsonl", fresh[:4]), ("a.jsonl", fresh[4:])):
        with open(folder / "fresh" / name, "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps({k: v for k, v in r.items() if k != "answer"}) + "\n" for r in rows)
    path = folder / "parts.nn"
    path.write_text(PARTS, encoding="utf-8")
    return path


def without_optimizer_names(config):
    """A config without the names Keras makes unique per optimizer (``adam_2``): the model a
    table model wraps is saved compiled, and each process counts its optimizers its own way."""
    if isinstance(config, dict):
        optimizer = config.get("module") == "keras.optimizers" and isinstance(config.get("config"), dict)
        out = {k: without_optimizer_names(v) for k, v in config.items()}
        if optimizer:
            out["config"] = {k: v for k, v in out["config"].items() if k != "name"}
        return out
    if isinstance(config, (list, tuple)):
        return [without_optimizer_names(v) for v in config]
    return config


def comparable(model):
    return without_optimizer_names(without_names(model.get_config()))


outputs = program_outputs


class Scripts:
    """The exported scripts, run by worker processes; ``result(name)`` waits for one."""

    def __init__(self, base: Path, programs: dict[str, Path]) -> None:
        self.base = base
        self.programs = programs
        self.copies: dict[str, Path] = {}
        self.scripts: dict[str, Path] = {}
        (base / "scripts").mkdir()
        elsewhere = base / "elsewhere"
        elsewhere.mkdir()
        for name, path in programs.items():
            copy = copy_program(path, base / "py" / name)
            checked = nndsl.check(copy.read_text(encoding="utf-8"), filename=str(copy), overrides={"epochs": EPOCHS.get(name, "1")})
            script = base / "scripts" / f"{name}.py"
            script.write_text(eject(checked, source_path=copy, output_path=script), encoding="utf-8")
            self.copies[name] = copy
            self.scripts[name] = script
        names = list(programs)
        first = {SLOW, "sales", "tabular_classifier"}
        groups = [[n for n in names if n in first], [n for n in names if n not in first]]
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        env.pop("PYTHONPATH", None)
        self.workers = []
        for i, group in enumerate(g for g in groups if g):
            status = base / f"status{i}.json"
            log = open(base / f"worker{i}.log", "w", encoding="utf-8")
            proc = subprocess.Popen([sys.executable, "-I", "-c", DRIVER, str(status), *(str(self.scripts[n]) for n in group)],
                                    cwd=elsewhere, env=env, stdout=log, stderr=subprocess.STDOUT)
            self.workers.append((set(group), proc, status, log))
        self.deadline = time.monotonic() + 540

    def result(self, name: str) -> tuple[str, list[str], str]:
        for group, proc, status, log in self.workers:
            if name in group:
                try:
                    proc.wait(timeout=max(1.0, self.deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                log.flush()
                text = Path(log.name).read_text(encoding="utf-8", errors="replace")
                if not status.exists():
                    return f"worker exited with {proc.returncode} before finishing", [], text[-4000:]
                data = json.loads(status.read_text(encoding="utf-8"))
                return data["status"].get(str(self.scripts[name]), "not run"), data["leaked"], text
        raise KeyError(name)

    def close(self) -> None:
        for _, proc, _, log in self.workers:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log.close()


@pytest.fixture(scope="module")
def scripts(tmp_path_factory):
    base = tmp_path_factory.mktemp("eject")
    programs = {p.parent.name: p for p in EXAMPLE_FILES}
    programs["houses"] = write_houses(base / "src" / "houses")
    programs["tables"] = write_tables(base / "src" / "tables")
    programs["parts"] = write_parts(base / "src" / "parts")
    runs = Scripts(base, programs)
    yield runs
    runs.close()


CASES = [p.parent.name for p in EXAMPLE_FILES] + ["houses", "tables", "parts"]


@pytest.mark.parametrize("name", CASES)
def test_exported_script_does_what_nndsl_run_does(name, scripts, tmp_path):
    import keras
    import numpy as np

    from nndsl.run.runner import run

    program = scripts.programs[name]
    copy = copy_program(program, tmp_path / name)
    out = io.StringIO()
    state = run(copy, overrides={"epochs": EPOCHS.get(name, "1")}, progress="none", out=out, err=out)
    if program in EXAMPLE_FILES:  # test_examples.py leaves the examples exported here to this run
        check_example_run(program, copy, state)

    status, leaked, log = scripts.result(name)
    assert status == "ok", f"{status}\n{log[-3000:]}"
    assert leaked == [], "the script imported nndsl"
    script_dir = scripts.copies[name].parent
    written = outputs(program)
    assert written["save"], "every program saves a model"
    for saved in written["save"]:
        ours = keras.models.load_model(copy.parent / saved)
        theirs = keras.models.load_model(script_dir / saved)
        assert comparable(theirs) == comparable(ours), saved
        assert theirs.count_params() == ours.count_params(), saved
        if name in SAME_WEIGHTS:
            for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
                np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    for predicted in written["predict"]:
        mine, theirs = copy.parent / predicted, script_dir / predicted
        assert theirs.is_file(), predicted
        if mine.suffix == ".npy":
            a, b = np.load(mine), np.load(theirs)
            assert a.shape == b.shape, predicted
            if name in SAME_WEIGHTS:
                np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5 * max(1.0, float(np.abs(a).max())))
            continue
        a_rows = list(csv.reader(mine.open(newline="", encoding="utf-8")))
        b_rows = list(csv.reader(theirs.open(newline="", encoding="utf-8")))
        assert b_rows[0] == a_rows[0] and len(b_rows) == len(a_rows), predicted
        if name in SAME_WEIGHTS:
            for ra, rb in zip(a_rows[1:], b_rows[1:]):
                for va, vb in zip(ra, rb, strict=True):
                    try:
                        fa, fb = float(va), float(vb)
                    except ValueError:
                        assert vb == va, predicted
                        continue
                    assert fb == pytest.approx(fa, rel=1e-4, abs=1e-5), predicted


@pytest.mark.parametrize("name", [p.parent.name for p in EXAMPLE_FILES])
def test_exported_model_is_the_model_nndsl_builds(name):
    """The script's builder holds the layers nndsl.build makes, written as Keras calls."""
    path = EXAMPLES / name / f"{name}.nn"
    checked = nndsl.check(path.read_text(encoding="utf-8"), filename=str(path))
    script = eject(checked, source_path=path)
    compile(script, f"{name}.py", "exec")
    namespace: dict = {"__name__": "exported", "__file__": str(path.with_suffix(".py"))}
    exec(compile(script, f"{name}.py", "exec"), namespace)  # defines the builders; runs no step
    for model in checked.models.values():
        import keras

        from nncases import width_from_table
        from nndsl.compile.keras import build_model

        builder = namespace[f"build_{model.name}"]
        # a model without Input takes the width of the table it trains on: any width builds it
        width = (7,) if width_from_table(model) else ()
        built = build_model(checked, model.name, input_width=width[0] if width else None)
        mine = builder(*width, after_input=[keras.layers.Normalization()]) if model.options.scale_features != "none" else builder(*width)
        assert without_names(mine.get_config()) == without_names(built.get_config())
        assert mine.count_params() == built.count_params()


def test_let_variables_become_constants_used_where_the_file_uses_them(tmp_path):
    text = HOUSES.replace('let lr     = 1 / 100', 'let lr     = 1 / 100\nlet shape  = (6,)')
    text = text.replace("Input(shape=(6,))", "Input(shape=shape)")
    path = tmp_path / "houses.nn"
    path.write_text(text, encoding="utf-8")
    script = eject(nndsl.check(text, filename=str(path), overrides={"units": "16"}), source_path=path)
    for line in ("UNITS = 16", 'ACT = "relu"', "HALF = UNITS // 2", "LR = 1 / 100", "SHAPE = (6,)", "EPOCHS = 2", "SEED = 9"):
        assert f"\n{line}\n" in script, line
    assert "keras.Input(shape=SHAPE)" in script
    # inside the block, `n` is the block's parameter: its value, not a constant
    assert 'keras.layers.Dense(16, activation=ACT, kernel_initializer=keras.initializers.HeNormal(seed=3))' in script
    assert 'keras.layers.Dense(HALF, activation=ACT, kernel_regularizer=keras.regularizers.L2(0.001))' in script
    assert "keras.optimizers.Adam(learning_rate=LR)" in script
    assert "epochs=EPOCHS" in script
    assert "import nndsl" not in script and "from nndsl" not in script
    compile(script, "houses.py", "exec")


def test_names_become_the_objects_nndsl_passes():
    text = """
model m {
    Input(shape=(4,))
    Dense(3, activation=softmax, kernel_initializer=he_normal)
    loss sparse_categorical_crossentropy
    optimizer adam
    metrics [accuracy, mae, AUC(name="auc")]
}
"""
    script = eject(nndsl.check(text), source_path=Path("m.nn"))
    assert 'keras.layers.Dense(3, activation="softmax", kernel_initializer=keras.initializers.HeNormal())' in script
    assert "loss=keras.losses.SparseCategoricalCrossentropy()" in script
    assert "optimizer=keras.optimizers.Adam()" in script
    assert 'metrics=["accuracy", keras.metrics.MeanAbsoluteError(name="mae"), keras.metrics.AUC(name="auc")]' in script


def test_paths_are_relative_to_the_script(tmp_path):
    folder = tmp_path / "project" / "model"
    folder.mkdir(parents=True)
    path = folder / "m.nn"
    text = 'data d = csv("rows.csv", target="y")\nmodel m {\n    Input(shape=(2,))\n    Dense(1)\n    loss mse\n}\ntrain m on d\n'
    checked = nndsl.check(text, filename=str(path))
    assert "\nBASE = HERE  #" in eject(checked, source_path=path)
    assert "\nBASE = HERE  #" in eject(checked, source_path=path, output_path=folder / "m.py")
    elsewhere = eject(checked, source_path=path, output_path=tmp_path / "scripts" / "m.py")
    assert '\nBASE = (HERE / "../project/model").resolve()  #' in elsewhere
    assert 'read_csv(BASE / "rows.csv", target="y")' in elsewhere
    assert "keras.utils.set_random_seed" not in elsewhere.split("def main")[1]  # no seed: nothing seeded


def test_plugin_names_are_refused_each_named(tmp_path, monkeypatch):
    from nndsl.plugins.registry import reset

    for folder in reversed(example_plugin_path(tmp_path)):  # installed or not, the plugin is found
        monkeypatch.syspath_prepend(folder)
    reset()
    path = EXAMPLES / "plugin" / "plugin_demo.nn"
    checked = nndsl.check(path.read_text(encoding="utf-8"), filename=str(path))
    with pytest.raises(UsageError) as info:
        eject(checked, source_path=path)
    message = str(info.value)
    assert "cannot export plugin_demo.nn to Python" in message
    for what in ("data source 'ramp'", "activation 'bent_identity'", "layer 'Scale'", "step 'histogram'"):
        assert what in message, what
    assert "plugin_demo.nn:11:5: layer 'Scale'" in message and "plugin_demo.nn:10:26: activation" in message


def test_a_registered_layer_is_refused():
    from nndsl.plugins.registry import registry
    from nndsl.plugins.spec import LayerSpec, param

    registry("layers").register("Doubler", LayerSpec(name="Doubler", doc="d", impl="somewhere:Doubler", params=(param("k", "int", 2),)))
    text = "model m {\n    Input(shape=(2,))\n    Doubler(k=3)\n    Dense(1)\n    loss mse\n}\n"
    with pytest.raises(UsageError, match=r"m\.nn:3:5: layer 'Doubler' \(from <registered>\)"):
        eject(nndsl.check(text, filename="m.nn"), source_path=Path("m.nn"))


def test_every_table_source_is_read_as_nndsl_reads_it(tmp_path):
    """A glob, a folder of part files, Parquet and JSON lines: each with its reader, its column
    roles, missing= and unknown= as the file wrote them; pyarrow imported only where it reads."""
    (tmp_path / "parts").mkdir()
    text = ('data d = csv("d.csv", target="y", missing="median", unknown="error")\ndata p = csv("parts/*.csv", target="y")\n'
            'data f = csv("parts", target="y", delimiter=";")\ndata q = parquet("d.parquet", target="y", id="k", numeric=["a"])\n'
            'data j = json("rows/", target="y", exclude=["note"], categorical=["c"], missing={"a": "drop"})\n'
            "model m {\n    Dense(1)\n    loss mse\n}\ntrain m on d epochs=1\ntest m on p\ntest m on f\ntest m on q\ntest m on j\n")
    script = eject(nndsl.check(text, filename="m.nn"), source_path=tmp_path / "m.nn")
    for call in ('read_csv(BASE / "d.csv", target="y", missing="median", unknown="error")',
                 'read_csv(BASE / "parts/*.csv", target="y")', 'read_csv(BASE / "parts", target="y", delimiter=";")',
                 'read_parquet(BASE / "d.parquet", target="y", features=["a"], ids="k")',
                 'read_json(BASE / "rows/", target="y", exclude=["note"], categorical=["c"], missing={"a": "drop"})'):
        assert call in script, call
    assert "def table_files(" in script and "def arrow_table(" in script
    for line in ("import pyarrow as pa  # noqa: E402", "import pyarrow.parquet as pq  # noqa: E402",
                 "import pyarrow.json as pajson  # noqa: E402"):
        assert f"\n{line}\n" in script, line
    assert "Keras, TensorFlow and NumPy (and pyarrow, to read its tables)" in script
    assert "def build_m(width):" in script and "keras.Input(shape=(width,))" in script
    assert "m = build_m(rows.x.shape[1])" in script
    compile(script, "m.py", "exec")
    alone = 'data d = csv("d.csv", target="y")\nmodel m {\n    Dense(1)\n    loss mse\n}\ntrain m on d\n'
    plain = eject(nndsl.check(alone, filename="m.nn"), source_path=tmp_path / "m.nn")
    assert "pyarrow" not in plain and "def arrow_table(" not in plain  # a CSV is read with the csv module


def test_a_model_named_like_an_arrow_module_keeps_the_module(tmp_path):
    text = 'data d = parquet("d.parquet", target="y")\nmodel pq {\n    Dense(1)\n    loss mse\n}\ntrain pq on d epochs=1\n'
    script = eject(nndsl.check(text, filename="m.nn"), source_path=tmp_path / "m.nn")
    assert "import pyarrow.parquet as pq  # noqa: E402" in script
    assert "\n    pq_2 = build_pq(rows.x.shape[1])\n" in script and "\n    pq = " not in script


def parser():
    p = argparse.ArgumentParser(prog="nndsl")
    commands.add_parsers(p.add_subparsers(dest="command"))
    return p


def test_export_command(tmp_path, capsys, monkeypatch):
    copy = copy_program(EXAMPLES / "sales" / "sales.nn", tmp_path / "sales")
    out = tmp_path / "out" / "train_sales.py"
    out.parent.mkdir()
    args = parser().parse_args(["export", str(copy), "--to", "python", "-o", str(out), "--set", "epochs=3"])
    assert args.func(args) == 0
    script = out.read_text(encoding="utf-8")
    assert "\nEPOCHS = 3\n" in script and '(HERE / "../sales").resolve()' in script
    monkeypatch.chdir(copy.parent)
    args = parser().parse_args(["export", copy.name, "--to", "python"])
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert "\nBASE = HERE  #" in printed and "\nEPOCHS = 50\n" in printed
    with pytest.raises(SystemExit):
        parser().parse_args(["export", copy.name])  # --to is required
    with pytest.raises(SystemExit):
        parser().parse_args(["export", copy.name, "--to", "java"])
    for argv, match in ((["export", "missing.nn", "--to", "python"], "does not exist"),
                        (["export", copy.name, "--to", "python", "--set", "nope=1"], "expected the name of a let variable"),
                        (["export", copy.name, "--to", "python", "-o", copy.name], "other than the .nn file"),
                        (["export", copy.name, "--to", "python", "-o", "no/such/dir/x.py"], "does not exist")):
        args = parser().parse_args(argv)
        with pytest.raises(UsageError, match=match):
            args.func(args)


def test_a_search_is_refused_with_its_location():
    with pytest.raises(UsageError) as e:
        eject(nndsl.check(nndsl.parse_file(EXAMPLES / "sales" / "sales_tune.nn")), source_path=EXAMPLES / "sales" / "sales_tune.nn")
    message = str(e.value)
    assert "cannot export sales_tune.nn to Python" in message and "step 'tune'" in message
