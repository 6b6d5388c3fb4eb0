"""``nndsl import MODEL.keras``: a saved Keras Sequential model as a .nn model block that rebuilds it.

Round trip for every example: build it with nndsl, save it, import the file, check the text,
build it again, and compare the two models' configurations (layer names aside) and parameter
counts. Also: .h5 files, models with nndsl's preprocessing layers, arguments that differ from
Keras's defaults, and the errors for models and files that cannot be imported.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

import nndsl
from nndsl.cli import interop as commands
from nndsl.errors import RunError, UsageError
from nndsl.interop.importer import import_model, model_name, without_names
from nndsl.run.tablemodel import core_of

pytestmark = pytest.mark.keras

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
EXAMPLE_FILES = sorted(p for p in EXAMPLES.glob("*/*.nn") if p.parent.name != "plugin")


def layer_configs(model) -> list:
    return [without_names(layer.get_config()) for layer in model.layers]


def assert_same_model(original, rebuilt) -> None:
    assert [type(x).__name__ for x in rebuilt.layers] == [type(x).__name__ for x in original.layers]
    assert layer_configs(rebuilt) == layer_configs(original)
    assert tuple(rebuilt.input_shape) == tuple(original.input_shape)
    assert rebuilt.inputs[0].dtype == original.inputs[0].dtype
    assert rebuilt.count_params() == original.count_params()


def assert_canonical_and_checks(text: str) -> None:
    assert nndsl.format(nndsl.parse(text)) == text, "the imported text is in the canonical layout"
    nndsl.check(text)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.parent.name for p in EXAMPLE_FILES])
def test_every_example_round_trips(path, tmp_path):
    from nncases import width_from_table

    checked = nndsl.check(path.read_text(encoding="utf-8"), filename=str(path))
    built = [name for name, model in checked.models.items() if not width_from_table(model)]
    if not built:
        pytest.skip("the model's input width comes from its training table: only a run builds it")
    for name in built:
        original = nndsl.build(checked, model=name)
        saved = tmp_path / f"{name}.keras"
        original.save(saved)
        text = import_model(saved)
        assert_canonical_and_checks(text)
        assert f"model {name} {{" in text
        assert_same_model(original, nndsl.build(text))
        # the compile settings come back too: the same loss and metrics, compiled the same way
        again = nndsl.build(text)
        assert type(again.optimizer) is type(original.optimizer)
        assert again.optimizer.get_config() | {"name": None} == original.optimizer.get_config() | {"name": None}


def test_sales_reads_back_as_written():
    """What an import of a freshly built example looks like."""
    path = EXAMPLES / "sales" / "sales.nn"
    text = path.read_text(encoding="utf-8")
    original = nndsl.build(text.replace("scale_features minmax\n", ""), filename=str(path))
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        saved = Path(folder) / "sales model.keras"
        original.save(saved)
        imported = import_model(saved)
    body = imported.split("model sales_model {\n", 1)[1]
    assert body.startswith(
        "    Input(shape=(9,))\n"
        "    Dense(50, activation=relu)\n"
        "    Dense(100, activation=relu)\n"
        "    Dense(50, activation=relu)\n"
        "    Dense(1)\n"
        "\n"
        "    loss mean_squared_error\n"
        "    optimizer adam\n"
        "    metrics [mae]\n"
        "}\n"
    )
    assert 'load sales_model from "sales model.keras"' in imported


def test_h5_round_trip(tmp_path):
    for name in ("sales", "imdb_bidirectional_lstm"):
        path = EXAMPLES / name / f"{name}.nn"
        original = nndsl.build(path.read_text(encoding="utf-8"), filename=str(path))
        saved = tmp_path / f"{name}.h5"
        original.save(saved)
        text = import_model(saved)
        assert_canonical_and_checks(text)
        assert_same_model(original, nndsl.build(text))


def test_preprocessing_layers_come_back_as_normalization_layers_with_their_values(tmp_path):
    """A sales model trained by nndsl: scaling in, inverted scaling out."""
    import io
    import shutil

    import keras

    from nndsl.run.runner import run

    for f in (EXAMPLES / "sales").iterdir():
        if f.suffix in (".nn", ".csv"):
            shutil.copy(f, tmp_path / f.name)
    run(tmp_path / "sales.nn", overrides={"epochs": "1"}, out=io.StringIO(), progress="none")
    saved = tmp_path / "trained_model.keras"
    # trained on a table, the file holds the model behind the layers that encode its named columns
    original = core_of(keras.models.load_model(saved))
    text = import_model(saved)
    assert_canonical_and_checks(text)
    assert text.count("Normalization(") == 2 and "invert=true" in text
    rebuilt = nndsl.build(text)
    assert_same_model(original, rebuilt)
    # the same layers and weights give the same predictions, in dollars
    rebuilt.set_weights(original.get_weights())
    import numpy as np

    rows = np.random.default_rng(0).uniform(0, 50, size=(4, 9)).astype("float32")
    np.testing.assert_allclose(rebuilt.predict_on_batch(rows), original.predict_on_batch(rows), rtol=1e-5)


TABLE = """\
seed 5
data train = csv("rows.csv", target="label", categorical=["plan"])

model plans {
    Dense(8, activation=relu)
    Dense(2, activation=softmax)

    loss sparse_categorical_crossentropy
    optimizer Adam(learning_rate=0.01)
    metrics [accuracy]
}

train plans on train epochs=1 batch_size=8
save plans to "plans.keras"
"""


def test_a_model_trained_on_a_table_imports_as_the_model_its_columns_feed(tmp_path):
    """The saved file takes named raw columns (a number, a category, empty cells); the import is
    the .nn model behind that encoding, with the width the table gave it, and builds it again."""
    import io

    import keras
    import numpy as np

    from nndsl.run.runner import run

    lines = ["size,plan,label"]
    for i in range(40):
        lines.append(f"{'' if i % 9 == 0 else i % 7},{['basic', 'pro', '', 'team'][i % 4]},{['no', 'yes'][i % 2]}")
    (tmp_path / "rows.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "plans.nn").write_text(TABLE, encoding="utf-8")
    run(tmp_path / "plans.nn", out=io.StringIO(), progress="none")
    saved = tmp_path / "plans.keras"
    wrapped = keras.models.load_model(saved)
    assert sorted(wrapped.input) == ["plan", "size"]
    original = core_of(wrapped)
    assert original is not wrapped
    text = import_model(saved)
    assert_canonical_and_checks(text)
    # size: 1, plan: [UNK], (missing), basic, pro, team
    assert "Input(shape=(6,))" in text and "loss sparse_categorical_crossentropy" in text
    rebuilt = nndsl.build(text)
    assert_same_model(original, rebuilt)
    assert type(rebuilt.optimizer) is type(original.optimizer)
    rebuilt.set_weights(original.get_weights())
    rows = np.eye(6, dtype="float32")
    np.testing.assert_allclose(rebuilt.predict_on_batch(rows), original.predict_on_batch(rows), rtol=1e-5)
    # and the text, with the table's layers gone, trains on the table again in place of the model
    again = tmp_path / "again.nn"
    again.write_text(text + '\ndata train = csv("rows.csv", target="label", categorical=["plan"])\n'
                     "train plans on train epochs=1\n", encoding="utf-8")
    run(again, out=io.StringIO(), progress="none")


def test_non_default_arguments_nested_objects_and_compile_settings(tmp_path):
    import keras

    model = keras.Sequential([
        keras.Input(shape=(10, 8), dtype="float32"),
        keras.layers.TimeDistributed(keras.layers.Dense(4, kernel_initializer=keras.initializers.HeNormal(seed=1))),
        keras.layers.Bidirectional(keras.layers.GRU(6, return_sequences=True, dropout=0.1), merge_mode="sum"),
        keras.layers.Conv1D(5, 3, strides=2, padding="same", kernel_regularizer=keras.regularizers.L2(0.001)),
        keras.layers.BatchNormalization(momentum=0.9),
        keras.Sequential([keras.layers.Flatten(), keras.layers.Dropout(0.3, seed=7)]),
        keras.layers.Dense(3, activation="softmax", use_bias=False, name="classes",
                           kernel_constraint=keras.constraints.MaxNorm(3.0)),
    ], name="tricky")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.01, beta_1=0.8),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
        metrics=["accuracy", keras.metrics.AUC(name="auc"), keras.metrics.MeanAbsoluteError(name="mae")],
    )
    saved = tmp_path / "tricky-model v2.keras"
    model.save(saved)
    text = import_model(saved)
    assert_canonical_and_checks(text)
    for piece in (
        "model tricky_model_v2 {",
        "Input(shape=(10, 8))",
        "TimeDistributed(Dense(4, kernel_initializer=HeNormal(seed=1)))",
        "Bidirectional(GRU(6, dropout=0.1, return_sequences=true), merge_mode=sum)",
        "Conv1D(5, (3,), strides=(2,), padding=same, kernel_regularizer=L2(l2=0.001))",
        "BatchNormalization(momentum=0.9)",
        "Sequential(Flatten(), Dropout(0.3, seed=7))",
        "    Dense(\n        3,\n        activation=softmax,\n        use_bias=false,\n        kernel_constraint=MaxNorm(max_value=3.0),\n"
        "        name=classes,\n    )\n",  # past 100 columns: one argument per line
        "loss CategoricalCrossentropy(label_smoothing=0.1)",
        "optimizer Adam(learning_rate=0.01, beta_1=0.8)",
        "metrics [accuracy, auc, mae]",  # nndsl compiles `auc` as AUC(name="auc")
    ):
        assert piece in text, piece
    assert_same_model(model, nndsl.build(text))


def test_a_functional_model_is_refused_with_the_reason(tmp_path):
    import keras

    inputs = keras.Input(shape=(4,))
    outputs = keras.layers.Dense(1)(keras.layers.Dense(8)(inputs))
    saved = tmp_path / "functional.keras"
    keras.Model(inputs, outputs).save(saved)
    with pytest.raises(RunError, match="expected a Sequential model; received a functional model") as info:
        import_model(saved)
    assert "a .nn model is a stack of layers" in str(info.value)


def test_unreadable_files_are_clear_errors(tmp_path):
    bad = tmp_path / "broken.keras"
    bad.write_bytes(b"this is not a zip archive")
    with pytest.raises(RunError, match="expected a Keras model file; received a file Keras cannot load"):
        import_model(bad)
    with pytest.raises(UsageError, match="does not exist"):
        import_model(tmp_path / "missing.keras")
    with pytest.raises(UsageError, match="received a folder"):
        import_model(tmp_path)


def test_model_names_are_identifiers():
    assert model_name(Path("sales.keras")) == "sales"
    assert model_name(Path("my-model v2.keras")) == "my_model_v2"
    assert model_name(Path("1st.h5")) == "m_1st"
    assert model_name(Path("model.keras")) == "model_model"
    assert model_name(Path("modèle.keras")) == "mod_le"


def parser():
    p = argparse.ArgumentParser(prog="nndsl")
    commands.add_parsers(p.add_subparsers(dest="command"))
    return p


def test_import_command(tmp_path, capsys):
    path = EXAMPLES / "sequence_model" / "sequence_model.nn"
    saved = tmp_path / "balance.keras"
    nndsl.build(path.read_text(encoding="utf-8"), filename=str(path)).save(saved)
    out = tmp_path / "balance.nn"
    args = parser().parse_args(["import", str(saved), "-o", str(out)])
    assert args.func(args) == 0
    text = out.read_text(encoding="utf-8")
    assert "model balance {" in text and "GRU(32)" in text
    capsys.readouterr()
    args = parser().parse_args(["import", str(saved)])
    assert args.func(args) == 0
    assert capsys.readouterr().out == text
    args = parser().parse_args(["import", str(saved), "-o", str(saved)])
    with pytest.raises(UsageError, match="other than the model file"):
        args.func(args)
