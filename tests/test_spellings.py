"""The Keras spellings people write from published models: each either works or is a located
error when the file is checked, never a traceback from Keras after a clean check.

The first half needs no TensorFlow (what the check makes of each spelling); the second half
(marked ``keras``) builds six models written from published Keras code and trains each for one
epoch on tiny data, with the static parameter count equal to the built model's.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest

import nndsl
from nndsl.errors import NndslCheckError, NndslSyntaxError
from nndsl.semantics.result import ResolvedCall


def errors(text: str) -> list:
    with pytest.raises(NndslCheckError) as e:
        nndsl.check(text, filename="t.nn")
    return list(e.value.diagnostics)


def one_error(text: str):
    found = errors(text)
    assert len(found) == 1, [d.message for d in found]
    d = found[0]
    return d, text[d.span.start:d.span.end]


def shapes(text: str, model: str = "m") -> list:
    return nndsl.check(text, filename="t.nn").models[model].shapes


# ---------------------------------------------------------------- check time (no TensorFlow)


def test_embedding_keeps_its_input_dim_beside_a_keras2_input_shape():
    text = "model m {\n    Embedding(11000, 128, mask_zero=true, input_shape=[none])\n    GRU(8)\n    Dense(1)\n    loss mse\n}\n"
    assert shapes(text) == [("Embedding", (None, None, 128), 11000 * 128), ("GRU", (None, 8), 3 * (128 * 8 + 8 * 8) + 6 * 8),
                            ("Dense", (None, 1), 9)]


def test_embedding_input_dim_alone_is_no_input_shape():
    d, where = one_error("model m {\n    Embedding(100, 8)\n    Dense(1)\n    loss mse\n}\n")
    assert d.code == "missing-input-shape" and where == "Embedding"


def test_a_layer_call_as_activation_is_that_layer():
    checked = nndsl.check("model m {\n    Input(shape=(4,))\n    Dense(128, activation=LeakyReLU(0.2))\n    Dense(1)\n    loss mse\n}\n")
    activation = checked.models["m"].resolved[1].call.args["activation"]
    assert isinstance(activation, ResolvedCall) and activation.kind == "layers"
    assert activation.spec.name == "LeakyReLU" and activation.args == {"negative_slope": 0.2}


def test_a_bare_activation_name_stays_a_function():
    checked = nndsl.check("model m {\n    Input(shape=(4,))\n    Dense(8, activation=leaky_relu)\n    loss mse\n}\n")
    assert checked.models["m"].resolved[1].call.args["activation"].kind == "activations"


@pytest.mark.parametrize("layer", ["Concatenate()", "Add()", "Multiply()", "Dot(axes=1)", "Sequential(Dense(4), Concatenate())"])
def test_merge_layers_are_a_located_error(layer):
    text = f"model m {{\n    Input(shape=(4,))\n    Dense(8)\n    {layer}\n    Dense(1)\n    loss mse\n}}\n"
    d, where = one_error(text)
    assert d.code == "merge-layer"
    assert "expected layers that take one input in a Sequential model; received" in d.message
    assert where in (layer, "Concatenate()")


AUGMENT = "Sequential(Input(shape=(8, 8, 3)), RandomFlip(horizontal), RandomRotation(0.1))"


def test_nested_sequential_may_start_with_its_own_input():
    text = f"model m {{\n    Input(shape=(8, 8, 3))\n    {AUGMENT}\n    Conv2D(4, 3)\n    Flatten()\n    Dense(2)\n    loss mse\n}}\n"
    assert [s[1] for s in shapes(text)] == [(None, 8, 8, 3), (None, 8, 8, 3), (None, 6, 6, 4), (None, 144), (None, 2)]


def test_nested_sequential_with_input_can_be_the_first_layer():
    text = f"model m {{\n    {AUGMENT}\n    Flatten()\n    Dense(2)\n    loss mse\n}}\n"
    assert [s[1] for s in shapes(text)] == [(None, 8, 8, 3), (None, 192), (None, 2)]


def test_nested_sequential_input_must_fit_what_it_receives():
    text = f"model m {{\n    Input(shape=(8, 9, 3))\n    {AUGMENT}\n    Flatten()\n    Dense(2)\n    loss mse\n}}\n"
    d, where = one_error(text)
    assert d.code == "shape-mismatch" and where == AUGMENT
    assert d.message == "inside Sequential, its Input expects (None, 8, 8, 3); received (None, 8, 9, 3) from the layer before it"


@pytest.mark.parametrize("layer, shape", [("MaxPooling1D(pool_size=(3,))", (None, 4, 2)),
                                          ("AveragePooling1D(pool_size=(2,), strides=(2,))", (None, 6, 2)),
                                          ("MaxPooling1D(pool_size=[3])", (None, 4, 2))])
def test_one_element_tuples_where_keras_takes_them(layer, shape):
    assert shapes(f"model m {{\n    Input(shape=(12, 2))\n    {layer}\n    loss mse\n}}\n")[1][1] == shape


def test_a_two_element_tuple_for_a_1d_pool_is_still_refused():
    d, where = one_error("model m {\n    Input(shape=(12, 2))\n    MaxPooling1D(pool_size=(3, 3))\n    loss mse\n}\n")
    assert d.code == "bad-argument-type" and where == "(3, 3)"


@pytest.mark.parametrize("layer, shape", [
    ("TextVectorization(max_tokens=20, output_sequence_length=8)", (None, 8)),
    ("TextVectorization(max_tokens=20)", (None, None)),
    ("TextVectorization(max_tokens=20, output_mode=multi_hot, pad_to_max_tokens=true)", (None, 1, 20)),
    ("TextVectorization(max_tokens=20, output_mode=multi_hot)", None),
])
def test_text_vectorization_shapes(layer, shape):
    text = f'model m {{\n    Input(shape=(1,), dtype="string")\n    {layer}\n    loss mse\n}}\n'
    assert shapes(text)[1][1] == shape


def test_shapes_and_counts_continue_past_text_vectorization():
    text = ('model m {\n    Input(shape=(1,), dtype="string")\n    TextVectorization(max_tokens=20, output_sequence_length=8)\n'
            "    Embedding(21, 4)\n    GlobalAveragePooling1D()\n    Dense(1)\n    loss mse\n}\n")
    assert shapes(text)[1:] == [("TextVectorization", (None, 8), 0), ("Embedding", (None, 8, 4), 84),
                                ("GlobalAveragePooling1D", (None, 4), 0), ("Dense", (None, 1), 5)]


@pytest.mark.parametrize("layer, shape", [
    ("StringLookup()", (None, 3)),
    ('StringLookup(vocabulary=["a", "b"], output_mode=one_hot)', (None, 3, 3)),
    ("IntegerLookup(max_tokens=10, pad_to_max_tokens=true, output_mode=multi_hot)", (None, 10)),
    ("Discretization(num_bins=4)", (None, 3)),
    ("Discretization(bin_boundaries=[0.0, 1.0], output_mode=one_hot)", (None, 3, 3)),
])
def test_lookup_and_discretization_shapes(layer, shape):
    assert shapes(f"model m {{\n    Input(shape=(3,))\n    {layer}\n    loss mse\n}}\n")[1][1:] == (shape, 0)


def test_name_property_sets_the_keras_name():
    checked = nndsl.check('model m {\n    Input(shape=(2,))\n    Dense(1)\n    loss mse\n    name "2024-prices"\n}\n')
    assert checked.models["m"].keras_name == "2024-prices" and checked.models["m"].name == "m"
    assert nndsl.check("model m {\n    Input(shape=(2,))\n    Dense(1)\n}\n").models["m"].keras_name is None


@pytest.mark.parametrize("value, message", [
    ("5", "expected a string for the model's name; received the number 5"),
    ('"a/b"', "expected a model name Keras accepts (not empty, without '/'); received the string \"a/b\""),
    ('""', "expected a model name Keras accepts (not empty, without '/'); received the string \"\""),
])
def test_bad_model_names(value, message):
    d, where = one_error(f"model m {{\n    Input(shape=(2,))\n    Dense(1)\n    name {value}\n}}\n")
    assert (d.code, d.message, where) == ("bad-argument-type", message, value)


def test_misspelt_variable_where_a_number_is_expected_suggests_it():
    d, where = one_error("let hidden = 100\nmodel m {\n    Input(shape=(2,))\n    Dense(hiden)\n    loss mse\n}\n")
    assert where == "hiden" and d.hint == "did you mean 'hidden'?"


def test_misspelt_variable_in_a_step_option_suggests_it():
    text = ('let epochs = 3\ndata d = csv("d.csv", target="y")\nmodel m {\n    Input(shape=(2,))\n    Dense(1)\n    loss mse\n}\n'
            "train m on d epochs=epoch\n")
    d, where = one_error(text)
    assert where == "epoch" and d.hint == "did you mean 'epochs'?"


def test_step_option_on_the_next_line_is_explained():
    text = ('data d = csv("d.csv", target="y")\nmodel m {\n    Input(shape=(2,))\n    Dense(1)\n    loss mse\n}\n'
            "train m on d\n    epochs=3\n")
    with pytest.raises(NndslSyntaxError) as e:
        nndsl.parse(text)
    (d,) = e.value.diagnostics
    assert d.hint == "a step and its options are one line: move epochs=... to the end of line 7"
    assert "let" not in d.hint


def test_assignment_at_the_margin_still_suggests_let():
    with pytest.raises(NndslSyntaxError) as e:
        nndsl.parse("x = 2\n")
    assert e.value.diagnostics[0].hint == "to define a variable, write: let x = ..."


# ---------------------------------------------------------------- built and trained (TensorFlow)

# Six models written from published Keras code, each with the spelling its source uses.
MODELS = {
    # Hands-On ML (ch. 16), sentiment analysis: the Keras-2 first layer with input_shape.
    "sentiment": ("""\
        data train = npz("seq.npz")
        model m {
            Embedding(11000, 128, mask_zero=true, input_shape=[none])
            GRU(128, return_sequences=true)
            GRU(128)
            Dense(1, activation=sigmoid)
            loss binary_crossentropy
            optimizer adam
            metrics [accuracy]
        }
        """, 11000 * 128 + 2 * (3 * (128 * 128 + 128 * 128) + 6 * 128) + 129),
    # Hands-On ML (ch. 17), GAN generator: a layer object as the activation.
    "gan_generator": ("""\
        data train = npz("codes.npz")
        model m {
            Input(shape=(30,))
            Dense(100, activation=LeakyReLU(0.2))
            Dense(150, activation=LeakyReLU(negative_slope=0.2))
            Dense(28 * 28, activation=sigmoid)
            loss mse
            optimizer RMSprop()
            name "generator"
        }
        """, 3100 + 15150 + 118384),
    # DeepLearning.AI (TensorFlow Developer, course 2): augmentation as a nested Sequential with its own Input.
    "augmentation": ("""\
        data train = npz("images.npz")
        model m {
            Input(shape=(16, 16, 3))
            Sequential(Input(shape=(16, 16, 3)), RandomFlip(horizontal), RandomRotation(0.2), RandomZoom(0.2))
            Rescaling(1 / 255)
            Conv2D(16, (3, 3), activation=relu)
            MaxPooling2D(2, 2)
            Flatten()
            Dense(32, activation=relu)
            Dense(1, activation=sigmoid)
            loss binary_crossentropy
            optimizer RMSprop(learning_rate=0.001)
            metrics [accuracy]
        }
        """, 448 + 49 * 16 * 32 + 32 + 33),
    # keras.io, text classification from scratch: TextVectorization adapted on a folder of texts.
    "text_classification": ("""\
        data train = text_folder("texts", label_mode="binary")
        model m {
            Input(shape=(1,), dtype="string")
            TextVectorization(max_tokens=200, output_mode=int, output_sequence_length=10)
            Embedding(201, 16)
            Dropout(0.5)
            Conv1D(16, 3, padding=valid, activation=relu, strides=1)
            GlobalMaxPooling1D()
            Dense(1, activation=sigmoid)
            loss binary_crossentropy
            optimizer adam
            metrics [accuracy]
        }
        """, 201 * 16 + 3 * 16 * 16 + 16 + 17),
    # tensorflow.org, basic regression: Normalization adapted on the features; scale_features beside it.
    "regression": ("""\
        data train = csv("cars.csv", target="mpg")
        model m {
            Input(shape=(3,))
            Normalization(axis=-1)
            Dense(64, activation=relu)
            Dense(64, activation=relu)
            Dense(1)
            loss mean_absolute_error
            optimizer Adam(learning_rate=ExponentialDecay(0.1, decay_steps=100, decay_rate=0.9))
        }
        """, 7 + 256 + 4160 + 65),
    # keras.io, time series: 1-D pooling written with one-element tuples, as Keras saves them.
    "timeseries": ("""\
        data train = npz("series.npz")
        model m {
            Input(shape=(24, 1))
            Conv1D(8, (3,), activation=relu)
            MaxPooling1D(pool_size=(2,), strides=(2,))
            Discretization(num_bins=4)
            Flatten()
            Dense(1)
            loss mse
            optimizer adam
        }
        """, 32 + 88 + 1),
}


def _data(folder: Path) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    np.savez(folder / "seq.npz", x=rng.integers(1, 11000, size=(16, 12)), y=rng.integers(0, 2, size=(16, 1)))
    np.savez(folder / "codes.npz", x=rng.normal(size=(16, 30)).astype("float32"), y=rng.random(size=(16, 784)).astype("float32"))
    np.savez(folder / "images.npz", x=rng.integers(0, 255, size=(16, 16, 16, 3)).astype("float32"),
             y=rng.integers(0, 2, size=(16, 1)))
    np.savez(folder / "series.npz", x=rng.normal(size=(16, 24, 1)).astype("float32"), y=rng.normal(size=(16, 1)).astype("float32"))
    rows = ["a,b,c,mpg"] + [f"{i},{i * 2 % 7},{i % 3},{10 + i}" for i in range(20)]
    (folder / "cars.csv").write_text("\n".join(rows) + "\n")
    for label, words in (("neg", "bad awful dull"), ("pos", "good great fine")):
        (folder / "texts" / label).mkdir(parents=True)
        for i in range(4):
            (folder / "texts" / label / f"{i}.txt").write_text(f"{words} film number {i}")


def _run(folder: Path, text: str):
    from nndsl.run.runner import run

    (folder / "model.nn").write_text(textwrap.dedent(text) + "train m on train epochs=1 batch_size=8\n")
    return run(folder / "model.nn", out=io.StringIO(), err=io.StringIO(), progress="none")


@pytest.mark.keras
@pytest.mark.parametrize("name", list(MODELS))
def test_published_model_builds_trains_and_counts_as_checked(name, tmp_path):
    _data(tmp_path)
    text, params = MODELS[name]
    checked = nndsl.check(textwrap.dedent(text), filename="model.nn")
    static = sum(p for _, _, p in checked.models["m"].shapes)
    state = _run(tmp_path, text)
    km = state.models["m"].keras_model
    assert static == params == km.count_params(), (static, params, km.count_params())
    assert len(state.models["m"].history["loss"]) == 1
    if name == "gan_generator":
        assert km.name == "generator"
        assert type(km.layers[0].activation).__name__ == "LeakyReLU"
    # and nndsl import writes it back as a .nn model that checks, with the same count
    from nndsl.interop.importer import import_model

    state.models["m"].export_model().save(tmp_path / "saved.keras")
    imported = nndsl.check(import_model(tmp_path / "saved.keras"), filename="imported.nn")
    assert sum(p for _, _, p in imported.models["saved"].shapes) == params


@pytest.mark.keras
def test_import_keeps_a_keras_name_no_model_block_can_have(tmp_path):
    import keras

    from nndsl.interop.importer import import_model

    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)], name="2024-prices")
    model.save(tmp_path / "prices.keras")
    text = import_model(tmp_path / "prices.keras")
    assert '    name "2024-prices"\n' in text
    assert nndsl.check(text).models["prices"].keras_name == "2024-prices"
    plain = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)], name="prices")
    plain.save(tmp_path / "plain.keras")
    assert "name " not in import_model(tmp_path / "plain.keras")


@pytest.mark.keras
def test_preprocessing_layers_are_adapted_before_the_first_epoch(tmp_path):
    _data(tmp_path)
    text = MODELS["text_classification"][0]
    state = _run(tmp_path, text)
    km = state.models["m"].keras_model
    vocabulary = km.layers[0].get_vocabulary()
    assert {"good", "bad", "film"} <= set(vocabulary)
    assert state.record.data["preprocessing"]["m"]["adapted"] == [km.layers[0].name]


@pytest.mark.keras
def test_normalization_after_other_layers_is_adapted_on_what_reaches_it(tmp_path):
    import numpy as np

    _data(tmp_path)
    text = """\
        data train = csv("cars.csv", target="mpg")
        model m {
            Input(shape=(3,))
            Rescaling(2.0)
            Normalization()
            Dense(1)
            loss mse
        }
        """
    state = _run(tmp_path, text)
    norm = state.models["m"].keras_model.layers[1]
    x = np.loadtxt(tmp_path / "cars.csv", delimiter=",", skiprows=1)[:, :3] * 2.0
    np.testing.assert_allclose(np.ravel(norm.mean), x.mean(axis=0), rtol=1e-5)


@pytest.mark.keras
def test_vocabulary_file_is_relative_to_the_nn_file(tmp_path, monkeypatch):
    _data(tmp_path)
    (tmp_path / "vocab.txt").write_text("good\nbad\nfilm\n")
    text = MODELS["text_classification"][0].replace("max_tokens=200, ", 'vocabulary="vocab.txt", ').replace("Embedding(201", "Embedding(5")
    monkeypatch.chdir(tmp_path.parent)  # not the .nn file's folder
    state = _run(tmp_path, text)
    layer = state.models["m"].keras_model.layers[0]
    assert layer.get_vocabulary() == ["", "[UNK]", "good", "bad", "film"]
    assert "adapted" not in state.record.data["preprocessing"].get("m", {})


@pytest.mark.keras
def test_scaled_features_of_the_wrong_width_are_a_data_shape_error(tmp_path):
    _data(tmp_path)
    text = """\
        data train = csv("cars.csv", target="mpg")
        model m {
            Input(shape=(2,))
            Dense(1)
            loss mse
            scale_features standard
        }
        """
    with pytest.raises(nndsl.RunError) as e:
        _run(tmp_path, text)
    (d,) = e.value.diagnostics
    assert d.code == "data-shape"
    assert d.message == "expected data with input shape (2,) for model 'm'; received 3 feature columns from 'train'"


EXPORTED = """\
seed 1
data texts = text_folder("texts", label_mode="binary")
data images = npz("images.npz")

model reader {
    Input(shape=(1,), dtype="string")
    TextVectorization(max_tokens=50, output_sequence_length=6)
    Embedding(51, 4)
    GlobalAveragePooling1D()
    Dense(1, activation=sigmoid)
    loss binary_crossentropy
    name "2024-reader"
}

model lexicon {
    Input(shape=(1,), dtype="string")
    TextVectorization(output_sequence_length=6, vocabulary="words.txt")
    Embedding(5, 4)
    GlobalAveragePooling1D()
    Dense(1, activation=sigmoid)
    loss binary_crossentropy
}

model viewer {
    Sequential(Input(shape=(16, 16, 3)), RandomFlip(horizontal))
    Rescaling(1 / 255)
    Normalization()
    Flatten()
    Dense(1, activation=LeakyReLU(0.1))
    loss mse
}

train reader on texts epochs=1
save reader to "reader.keras"
train viewer on images epochs=1
save viewer to "viewer.keras"
train lexicon on texts epochs=1
save lexicon to "lexicon.keras"
"""


@pytest.mark.keras
def test_exported_script_adapts_reads_paths_and_names_as_nndsl_run_does(tmp_path):
    import os
    import subprocess
    import sys

    import keras

    from nndsl.interop.eject import eject
    from nndsl.interop.importer import without_names
    from nndsl.run.runner import run

    for where in ("ours", "script"):
        (tmp_path / where).mkdir()
        _data(tmp_path / where)
        (tmp_path / where / "words.txt").write_text("good\nbad\nfilm\n")
        (tmp_path / where / "model.nn").write_text(EXPORTED)
    run(tmp_path / "ours" / "model.nn", out=io.StringIO(), err=io.StringIO(), progress="none")
    checked = nndsl.check(EXPORTED, filename=str(tmp_path / "script" / "model.nn"))
    script = tmp_path / "script" / "model.py"
    script.write_text(eject(checked, source_path=tmp_path / "script" / "model.nn", output_path=script))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    done = subprocess.run([sys.executable, "-I", str(script)], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    for saved in ("reader.keras", "viewer.keras", "lexicon.keras"):
        ours = keras.models.load_model(tmp_path / "ours" / saved)
        theirs = keras.models.load_model(tmp_path / "script" / saved)
        assert without_names(theirs.get_config()) == without_names(ours.get_config())
        assert theirs.count_params() == ours.count_params()
    reader = keras.models.load_model(tmp_path / "script" / "reader.keras")
    assert reader.name == "2024-reader"
    assert {"good", "bad"} <= set(reader.layers[0].get_vocabulary())
    lexicon = keras.models.load_model(tmp_path / "script" / "lexicon.keras")
    assert lexicon.layers[0].get_vocabulary() == ["", "[UNK]", "good", "bad", "film"]


@pytest.mark.parametrize("rows, column, hint", [
    ("a,b,y\n1,2,3\n4,,6\n", "b",
     'missing="error" refuses empty cells: leave it out to fill them with the training mean, or drop their rows with missing="drop"'),
    ("a,b,y\n1,2,cat\n4,5,dog\n", "y", 'text class labels are read from a single target column: name only that column in target='),
    ("a,b,y\n1,2,3\n4,five,6\n", "b", "a column of categories is declared with categorical=[...]; leave other text out with exclude=[...] "
                                      "or keep it with id=[...]"),
])
def test_data_hints_fit_the_cell(tmp_path, rows, column, hint):
    from nndsl.data.csv import load

    (tmp_path / "d.csv").write_text(rows)
    # two targets: text in one of them is not a column of class labels
    target = ["a", "y"] if column == "y" else "y"
    with pytest.raises(nndsl.RunError) as e:
        load({"path": "d.csv", "target": target, "missing": "error"}, name="d", base=tmp_path)
    (d,) = e.value.diagnostics
    assert f"column '{column}'" in d.message and d.hint == hint


def test_an_error_in_an_inline_source_points_at_the_step(tmp_path):
    import io as _io

    from nndsl.run.record import RunRecord
    from nndsl.run.runner import RunState

    (tmp_path / "ok.csv").write_text("a,b,y\n1,2,3\n")
    (tmp_path / "odd.csv").write_text("a;b;y\n1;2;3\n")
    text = ('data d = csv("ok.csv", target="y")\nmodel m {\n    Input(shape=(2,))\n    Dense(1)\n    loss mse\n}\n'
            'train m on csv("odd.csv", target="y")\n')
    checked = nndsl.check(text, filename=str(tmp_path / "model.nn"))
    step = checked.steps[0]
    state = RunState(checked, base_dir=tmp_path, out=_io.StringIO(), err=_io.StringIO(), progress="none",
                  record=RunRecord(text, "model.nn", None, {}))
    with pytest.raises(nndsl.RunError) as e:
        state.data(step.on)
    d = e.value.diagnostics[0]
    assert text[d.span.start:d.span.end] == 'csv("odd.csv", target="y")'
