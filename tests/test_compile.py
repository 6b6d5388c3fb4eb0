"""The compiler: `.nn` models build the same Keras models as the Keras code they stand for.

Each of the six well-known models of `examples/` is built here twice: by hand, as its original
source writes it (Keras 3 API), and from the example's `.nn` file with `nndsl.build`. The two
must have the same layers, layer configurations, parameter counts and compile settings. The
other tests cover the compiler's translations (Keras-2 input arguments, wrappers, nested
groups, objects given as calls, compile arguments), saving, and the static shapes of every
example. Models are built, never trained.
"""

from __future__ import annotations

import importlib
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

import nndsl
from nndsl.interop.importer import without_names


class _Lazy:
    """A module imported on first use: collecting these tests (also to deselect them) must not import TensorFlow."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str):
        if attr.startswith("_"):  # pytest probes every module global for its own markers while collecting
            raise AttributeError(attr)
        return getattr(importlib.import_module(self._name), attr)


keras = _Lazy("keras")
layers = _Lazy("keras.layers")

pytestmark = pytest.mark.keras

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def example_text(name: str) -> str:
    return (EXAMPLES / name / f"{name}.nn").read_text(encoding="utf-8")


def build_example(name: str, model: str, **overrides):
    return nndsl.build(example_text(name), model=model, filename=f"{name}.nn", overrides=overrides or None)


# ---------------------------------------------------------------- comparing two models


def body(model) -> list:
    """The model's layers without the InputLayer a functional model lists first."""
    return [layer for layer in model.layers if not isinstance(layer, layers.InputLayer)]


def all_layers(model_or_layer) -> list:
    """Every layer, recursively: nested models and the layers that wrappers hold."""
    out = []
    for layer in getattr(model_or_layer, "layers", ()):
        out.append(layer)
        out.extend(all_layers(layer))
        for attr in ("layer", "forward_layer", "backward_layer"):
            inner = getattr(layer, attr, None)
            if isinstance(inner, layers.Layer):
                out.append(inner)
                out.extend(all_layers(inner))
    return out


def loss_signature(loss):
    """A loss as (function, arguments that differ from the defaults), however it was given.

    Keras accepts a loss as a name (``"categorical_crossentropy"``), which it resolves to a
    function, or as a Loss object wrapping that function; both compute the same value.
    """
    if isinstance(loss, str):
        return keras.losses.get(loss), {}
    fn = getattr(loss, "fn", loss)
    if not isinstance(loss, keras.losses.Loss):
        return fn, {}
    config = {k: v for k, v in loss.get_config().items() if k != "name"}
    defaults = {k: v for k, v in type(loss)().get_config().items() if k != "name"}
    return fn, {k: v for k, v in config.items() if defaults.get(k) != v}


def optimizer_config(model) -> dict:
    return {k: v for k, v in model.optimizer.get_config().items() if k != "name"}


def evaluate(model, x, y) -> dict:
    return model.evaluate(x, y, batch_size=len(x), verbose=0, return_dict=True)


def assert_same_model(original, built, x, y) -> None:
    """Same layers, configs, parameter counts, compile settings, and the same results."""
    a, b = body(original), body(built)
    assert [type(layer).__name__ for layer in b] == [type(layer).__name__ for layer in a]
    for la, lb in zip(a, b):
        assert without_names(lb.get_config()) == without_names(la.get_config()), type(la).__name__
    assert built.count_params() == original.count_params()
    assert [tuple(w.shape) for w in built.weights] == [tuple(w.shape) for w in original.weights]
    # Compile settings.
    assert loss_signature(built.loss) == loss_signature(original.loss)
    assert type(built.optimizer) is type(original.optimizer)
    assert float(built.optimizer.learning_rate) == pytest.approx(float(original.optimizer.learning_rate))
    assert optimizer_config(built) == optimizer_config(original)
    # With the same weights, the two give the same loss and the same metrics, under the same names.
    built.set_weights(original.get_weights())
    for layer in built.layers:
        if isinstance(layer, layers.Normalization):
            layer.finalize_state()  # an adapted Normalization reads its statistics from here, not from set_weights
    want, got = evaluate(original, x, y), evaluate(built, x, y)
    assert list(got) == list(want)
    for key in want:
        assert got[key] == pytest.approx(want[key], rel=1e-5, abs=1e-6), key


def one_hot(rng, n: int, classes: int):
    return np.eye(classes, dtype="float32")[rng.integers(0, classes, size=n)]


# ---------------------------------------------------------------- the six well-known models


def test_mnist_convnet_is_the_keras_example():
    # keras.io/examples/vision/mnist_convnet
    num_classes = 10
    input_shape = (28, 28, 1)
    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])

    built = build_example("mnist_convnet", "mnist_convnet")
    rng = np.random.default_rng(0)
    x = rng.random((4, 28, 28, 1)).astype("float32")
    assert_same_model(model, built, x, one_hot(rng, 4, num_classes))
    assert list(evaluate(built, x, one_hot(rng, 4, num_classes))) == ["accuracy", "loss"]


def test_imdb_bidirectional_lstm_is_the_keras_example():
    # keras.io/examples/nlp/bidirectional_lstm_imdb, a functional model: the .nn file's
    # Sequential model has the same layers and weights.
    max_features = 20000
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(max_features, 128)(inputs)
    x = layers.Bidirectional(layers.LSTM(64, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(64))(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])

    built = build_example("imdb_bidirectional_lstm", "imdb_bidirectional_lstm")
    assert built.inputs[0].dtype == "int32" and tuple(built.inputs[0].shape) == (None, None)
    rng = np.random.default_rng(1)
    x = rng.integers(0, max_features, size=(2, 6)).astype("int32")
    y = rng.integers(0, 2, size=(2, 1)).astype("float32")
    assert_same_model(model, built, x, y)


def test_cifar10_cnn_is_the_keras_example():
    # examples/cifar10_cnn.py of the Keras 2 repository. Keras 3's RMSprop has no `decay`
    # argument: the example's `rmsprop(lr=0.0001, decay=1e-6)` is RMSprop(learning_rate=0.0001).
    num_classes = 10
    model = keras.Sequential()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras 3 asks for an Input instead of input_shape=
        model.add(layers.Conv2D(32, (3, 3), padding="same", input_shape=(32, 32, 3)))
    model.add(layers.Activation("relu"))
    model.add(layers.Conv2D(32, (3, 3)))
    model.add(layers.Activation("relu"))
    model.add(layers.MaxPooling2D(pool_size=(2, 2)))
    model.add(layers.Dropout(0.25))

    model.add(layers.Conv2D(64, (3, 3), padding="same"))
    model.add(layers.Activation("relu"))
    model.add(layers.Conv2D(64, (3, 3)))
    model.add(layers.Activation("relu"))
    model.add(layers.MaxPooling2D(pool_size=(2, 2)))
    model.add(layers.Dropout(0.25))

    model.add(layers.Flatten())
    model.add(layers.Dense(512))
    model.add(layers.Activation("relu"))
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(num_classes))
    model.add(layers.Activation("softmax"))

    opt = keras.optimizers.RMSprop(learning_rate=0.0001)
    model.compile(loss="categorical_crossentropy", optimizer=opt, metrics=["accuracy"])

    built = build_example("cifar10_cnn", "cifar10_cnn")
    rng = np.random.default_rng(2)
    assert_same_model(model, built, rng.random((2, 32, 32, 3)).astype("float32"), one_hot(rng, 2, num_classes))


def test_regression_dnn_is_the_tensorflow_tutorial_model():
    # tensorflow.org/tutorials/keras/regression: the DNN with a Normalization adapted on the
    # training features. The tutorial's model gets its input shape from the adapted layer on
    # its first call; `build` does that here.
    import csv

    with open(EXAMPLES / "regression_dnn" / "auto_mpg_train.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    train_features = np.array([[float(v) for k, v in r.items() if k != "MPG"] for r in rows], dtype="float32")
    train_labels = np.array([[float(r["MPG"])] for r in rows], dtype="float32")

    normalizer = layers.Normalization(axis=-1)
    normalizer.adapt(np.array(train_features))

    def build_and_compile_model(norm):
        model = keras.Sequential([norm, layers.Dense(64, activation="relu"), layers.Dense(64, activation="relu"), layers.Dense(1)])
        model.compile(loss="mean_absolute_error", optimizer=keras.optimizers.Adam(0.001))
        return model

    dnn_model = build_and_compile_model(normalizer)
    dnn_model.build((None, train_features.shape[1]))

    built = build_example("regression_dnn", "dnn_model")
    assert_same_model(dnn_model, built, train_features[:8], train_labels[:8])


def test_text_classifier_is_the_tensorflow_tutorial_model():
    # tensorflow.org/tutorials/keras/text_classification. Keras 3 takes metrics as a list; the
    # tutorial's model gets its input shape from its first batch (TextVectorization's output:
    # int64 sequences of length 250); `build` does that here.
    max_features = 10000
    sequence_length = 250
    embedding_dim = 16
    model = keras.Sequential([
        layers.Embedding(max_features + 1, embedding_dim),
        layers.Dropout(0.2),
        layers.GlobalAveragePooling1D(),
        layers.Dropout(0.2),
        layers.Dense(1),
    ])
    model.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True), optimizer="adam",
                  metrics=[keras.metrics.BinaryAccuracy(threshold=0.0)])
    model.build((None, sequence_length))

    built = build_example("text_classifier", "text_classifier")
    assert built.inputs[0].dtype == "int64"
    assert loss_signature(built.loss)[1] == {"from_logits": True}
    rng = np.random.default_rng(3)
    x = rng.integers(0, max_features + 1, size=(4, sequence_length))
    y = rng.integers(0, 2, size=(4, 1)).astype("float32")
    assert_same_model(model, built, x, y)
    assert list(evaluate(built, x, y)) == ["binary_accuracy", "loss"]


def test_timeseries_conv_lstm_is_the_course_model():
    window_size = 24
    model = keras.Sequential([
        keras.Input(shape=(window_size, 1)),
        layers.Conv1D(32, 3, padding="causal", activation="relu"),
        layers.LSTM(64),
        layers.Dense(1),
    ])
    model.compile(loss=keras.losses.Huber(), optimizer=keras.optimizers.SGD(learning_rate=1e-3, momentum=0.9), metrics=["mae"])

    built = build_example("timeseries_conv_lstm", "forecaster")
    assert built.optimizer.momentum == 0.9
    rng = np.random.default_rng(4)
    x = rng.normal(size=(4, window_size, 1)).astype("float32")
    assert_same_model(model, built, x, rng.normal(size=(4, 1)).astype("float32"))


# ---------------------------------------------------------------- translations


def build_text(text: str, model: str = "m"):
    return nndsl.build(text, model=model)


@pytest.mark.parametrize(
    "first, explicit",
    [
        ("Dense(8, activation=relu, input_dim=5)", "Input(shape=(5,))\n    Dense(8, activation=relu)"),
        ("Dense(8, activation=relu, input_shape=(5,))", "Input(shape=(5,))\n    Dense(8, activation=relu)"),
        ("Conv2D(4, 3, input_shape=(8, 8, 1))", "Input(shape=(8, 8, 1))\n    Conv2D(4, 3)"),
        ("LSTM(4, input_shape=(none, 3))", "Input(shape=(none, 3))\n    LSTM(4)"),
        ("Dense(8, input_dim=5, batch_size=2)", "Input(shape=(5,), batch_size=2)\n    Dense(8)"),
    ],
)
def test_keras2_input_arguments_build_the_model_an_input_builds_without_warnings(first, explicit):
    template = "model m {{\n    {layers}\n    Flatten()\n    Dense(1)\n\n    loss mse\n}}\n"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        legacy = build_text(template.format(layers=first))
    assert [str(w.message) for w in caught] == []
    modern = build_text(template.format(layers=explicit))
    assert tuple(legacy.inputs[0].shape) == tuple(modern.inputs[0].shape)
    assert [without_names(layer.get_config()) for layer in legacy.layers] == [without_names(layer.get_config()) for layer in modern.layers]
    assert legacy.count_params() == modern.count_params()


def test_wrapper_layers():
    built = build_text(
        "model m {\n"
        "    Input(shape=(10, 6))\n"
        "    Bidirectional(GRU(8, return_sequences=true), merge_mode=sum)\n"
        "    Bidirectional(LSTM(4, return_sequences=true), backward_layer=LSTM(4, return_sequences=true, go_backwards=true))\n"
        "    TimeDistributed(Dense(3, activation=relu))\n"
        "    Flatten()\n"
        "}\n"
    )
    hand = keras.Sequential([
        keras.Input(shape=(10, 6)),
        layers.Bidirectional(layers.GRU(8, return_sequences=True), merge_mode="sum"),
        layers.Bidirectional(layers.LSTM(4, return_sequences=True),
                             backward_layer=layers.LSTM(4, return_sequences=True, go_backwards=True)),
        layers.TimeDistributed(layers.Dense(3, activation="relu")),
        layers.Flatten(),
    ])
    assert [type(layer).__name__ for layer in built.layers] == ["Bidirectional", "Bidirectional", "TimeDistributed", "Flatten"]
    for a, b in zip(hand.layers, built.layers):
        assert without_names(b.get_config()) == without_names(a.get_config())
    assert built.count_params() == hand.count_params()
    assert tuple(built.outputs[0].shape) == (None, 30)


def test_time_distributed_conv2d():
    built = build_text("model m {\n    Input(shape=(5, 16, 16, 3))\n    TimeDistributed(Conv2D(4, (3, 3)))\n    "
                       "TimeDistributed(Flatten())\n    LSTM(2)\n}\n")
    hand = keras.Sequential([
        keras.Input(shape=(5, 16, 16, 3)),
        layers.TimeDistributed(layers.Conv2D(4, (3, 3))),
        layers.TimeDistributed(layers.Flatten()),
        layers.LSTM(2),
    ])
    for a, b in zip(hand.layers, built.layers):
        assert without_names(b.get_config()) == without_names(a.get_config())
    assert built.count_params() == hand.count_params()


@pytest.mark.parametrize(
    "group",
    [
        "Sequential(RandomFlip(horizontal), RandomRotation(0.1))",
        "Sequential([RandomFlip(horizontal), RandomRotation(0.1)])",
        "Sequential(layers=[RandomFlip(horizontal), RandomRotation(0.1)])",
    ],
)
def test_nested_group_of_layers(group, tmp_path):
    text = (
        "model m {\n"
        "    Input(shape=(32, 32, 3))\n"
        f"    {group}\n"
        "    Conv2D(8, 3, activation=relu)\n"
        "    GlobalAveragePooling2D()\n"
        "    Dense(2, activation=softmax)\n\n"
        "    loss sparse_categorical_crossentropy\n"
        "}\n"
    )
    checked = nndsl.check(text)
    assert [rl.name for rl in checked.models["m"].resolved][:2] == ["Input", "Sequential"]
    assert checked.models["m"].resolved[1].output_shape == (None, 32, 32, 3)
    assert checked.models["m"].resolved[1].params == 0
    built = nndsl.build(checked, model="m")
    data_augmentation = keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomRotation(0.1)])
    hand = keras.Sequential([
        keras.Input(shape=(32, 32, 3)),
        data_augmentation,
        layers.Conv2D(8, 3, activation="relu"),
        layers.GlobalAveragePooling2D(),
        layers.Dense(2, activation="softmax"),
    ])
    group_layer = built.layers[0]
    assert isinstance(group_layer, keras.Sequential)
    assert [type(layer).__name__ for layer in group_layer.layers] == ["RandomFlip", "RandomRotation"]
    for a, b in zip(hand.layers, built.layers):
        assert without_names(b.get_config()) == without_names(a.get_config())
    assert built.count_params() == hand.count_params()
    # A saved model with the group loads back in safe mode.
    path = tmp_path / "augmented.keras"
    with warnings.catch_warnings():
        # Keras warns about its own seed-generator state (NumPy 2 copy semantics) and about the
        # untrained model's optimizer, which has no variables to restore.
        warnings.simplefilter("ignore")
        built.save(path)
        again = keras.models.load_model(path, safe_mode=True)
    assert [type(layer).__name__ for layer in again.layers[0].layers] == ["RandomFlip", "RandomRotation"]


@pytest.mark.parametrize(
    "group, code",
    [
        ("Sequential()", "missing-argument"),
        ("Sequential(relu)", "bad-argument-type"),
        ("Sequential([Dense(3)], Dense(2))", "bad-argument-type"),
        ("Sequential(Dense(2), layers=[Dense(3)])", "duplicate-argument"),
        ("Sequential(Dense(2), units=3)", "unknown-argument"),
        ("Sequential(Dense(2), Conv2D(4, 3))", "shape-mismatch"),
        ("Sequential(Dense(2), Sequential(Conv2D(4, 3)))", None),  # a nested group's shape is left to Keras
    ],
)
def test_nested_group_mistakes_are_located(group, code):
    text = f"model m {{\n    Input(shape=(5,))\n    {group}\n}}\n"
    if code is None:
        nndsl.check(text)
        return
    with pytest.raises(nndsl.NndslCheckError) as info:
        nndsl.check(text)
    assert [d.code for d in info.value.diagnostics] == [code]
    assert info.value.diagnostics[0].span.line == 3


def test_objects_given_as_calls():
    built = build_text(
        "model m {\n"
        "    Input(shape=(6,))\n"
        "    Dense(\n"
        "        8,\n"
        "        activation=relu,\n"
        "        kernel_initializer=HeNormal(seed=1),\n"
        "        bias_initializer=Constant(0.1),\n"
        "        kernel_regularizer=L2(1e-4),\n"
        "        bias_regularizer=L1L2(l1=0.01, l2=0.02),\n"
        "        kernel_constraint=MaxNorm(3),\n"
        "        activity_regularizer=L1(0.001),\n"
        "    )\n"
        "    Dense(1, kernel_initializer=he_normal, kernel_constraint=NonNeg())\n\n"
        "    loss mse\n"
        "    optimizer Adam(learning_rate=ExponentialDecay(0.01, decay_steps=100, decay_rate=0.9))\n"
        "}\n"
    )
    hand = keras.layers.Dense(
        8,
        activation="relu",
        kernel_initializer=keras.initializers.HeNormal(seed=1),
        bias_initializer=keras.initializers.Constant(0.1),
        kernel_regularizer=keras.regularizers.L2(1e-4),
        bias_regularizer=keras.regularizers.L1L2(l1=0.01, l2=0.02),
        kernel_constraint=keras.constraints.MaxNorm(3),
        activity_regularizer=keras.regularizers.L1(0.001),
    )
    hand.build((None, 6))
    dense = built.layers[0]
    assert isinstance(dense.kernel_initializer, keras.initializers.HeNormal)
    assert isinstance(dense.kernel_regularizer, keras.regularizers.L2)
    assert isinstance(dense.kernel_constraint, keras.constraints.MaxNorm)
    assert without_names(dense.get_config()) == without_names(hand.get_config())
    # A seeded initializer gives the same weights as the same initializer written in Python.
    np.testing.assert_array_equal(np.asarray(dense.kernel), np.asarray(hand.kernel))
    np.testing.assert_allclose(np.asarray(dense.bias), 0.1, rtol=1e-6)
    assert isinstance(built.layers[1].kernel_constraint, keras.constraints.NonNeg)
    # Learning-rate schedule.
    schedule = keras.saving.deserialize_keras_object(built.optimizer.get_config()["learning_rate"])
    assert isinstance(schedule, keras.optimizers.schedules.ExponentialDecay)
    assert schedule.get_config() == keras.optimizers.schedules.ExponentialDecay(0.01, decay_steps=100, decay_rate=0.9).get_config()


@pytest.mark.parametrize(
    "prop, attribute, expected",
    [
        ("loss_weights 0.5", "loss_weights", 0.5),
        ("loss_weights [0.5]", "loss_weights", [0.5]),
        ("run_eagerly true", "run_eagerly", True),
        ("run_eagerly false", "run_eagerly", False),
        ("steps_per_execution 4", "steps_per_execution", 4),
        ("jit_compile false", "jit_compile", False),
        ("jit_compile true", "jit_compile", True),
    ],
)
def test_compile_arguments(prop, attribute, expected):
    built = build_text(f"model m {{\n    Input(shape=(3,))\n    Dense(1)\n\n    loss mse\n    optimizer sgd\n    {prop}\n}}\n")
    value = built.get_compile_config()[attribute]
    assert value == expected
    hand = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(1)])
    hand.compile(loss="mse", optimizer="sgd", **{attribute: expected})
    assert hand.get_compile_config()[attribute] == value
    for attr in ("run_eagerly", "steps_per_execution", "jit_compile"):
        assert getattr(built, attr) == getattr(hand, attr), attr


def test_weighted_metrics_and_auto_scale_loss():
    built = build_text(
        "model m {\n    Input(shape=(3,))\n    Dense(1)\n\n    loss mse\n    optimizer Adam(learning_rate=0.01)\n"
        "    weighted_metrics [mae]\n    auto_scale_loss false\n}\n"
    )
    hand = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(1)])
    hand.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=0.01), weighted_metrics=["mae"], auto_scale_loss=False)
    x, y, w = np.ones((2, 3), "float32"), np.zeros((2, 1), "float32"), np.array([1.0, 3.0], "float32")
    built.set_weights(hand.get_weights())
    want = hand.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    got = built.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    assert list(got) == list(want) == ["loss", "mae"]
    assert got == pytest.approx(want)


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_saved_model_with_loss_mse_reloads(suffix, tmp_path):
    built = build_text("model m {\n    Input(shape=(4,))\n    Dense(3, activation=relu)\n    Dense(1)\n\n    loss mse\n    optimizer "
                       "adam\n    metrics [mae]\n}\n")
    path = tmp_path / f"model{suffix}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras calls .h5 a legacy format
        built.save(path)
        again = keras.models.load_model(path)
    x = np.arange(8, dtype="float32").reshape(2, 4)
    np.testing.assert_allclose(again.predict_on_batch(x), built.predict_on_batch(x), rtol=1e-6)
    assert loss_signature(again.loss)[0] is keras.losses.get("mse")
    # The reloaded model is compiled: it evaluates without compile().
    assert math.isfinite(again.evaluate(x, np.ones((2, 1), "float32"), verbose=0, return_dict=True)["loss"])


# ---------------------------------------------------------------- every example


def example_files() -> list[Path]:
    return sorted(p for p in EXAMPLES.glob("*/*.nn") if p.parent.name != "plugin")


@pytest.fixture(scope="module")
def built_examples():
    """Every model of every example: (file, model name, checked model, built Keras model).

    A model whose input width comes from its training table is built by a run only (test_examples.py)."""
    from nncases import width_from_table

    out = []
    for path in example_files():
        checked = nndsl.check(path.read_text(encoding="utf-8"), filename=str(path))
        for name, model in checked.models.items():
            if width_from_table(model):
                continue
            out.append((path, name, model, nndsl.build(checked, model=name)))
    return out


def test_examples_cover_the_six_well_known_models(built_examples):
    names = {path.parent.name for path, *_ in built_examples}
    assert {"mnist_convnet", "imdb_bidirectional_lstm", "cifar10_cnn", "regression_dnn", "text_classifier", "timeseries_conv_lstm"} <= names


def test_no_lambda_layers(built_examples):
    for path, name, _, model in built_examples:
        assert not [layer for layer in all_layers(model) if isinstance(layer, layers.Lambda)], f"{path.name}:{name}"


def test_inferred_shapes_and_parameters_match_keras(built_examples):
    compared = 0
    for path, name, checked, model in built_examples:
        resolved = list(checked.resolved)
        pairs = []
        if resolved[0].name in ("Input", "InputLayer"):
            pairs.append((resolved[0], tuple(model.inputs[0].shape), 0))
            resolved = resolved[1:]
        kept = model.layers[len(model.layers) - len(resolved):]  # after any preprocessing layers nndsl inserts
        pairs.extend((rl, tuple(layer.output.shape), layer.count_params()) for rl, layer in zip(resolved, kept))
        for rl, shape, params in pairs:
            where = f"{path.name}:{name}: {rl.name} at line {rl.layer.call.span.line}"
            if rl.output_shape is not None:
                assert tuple(rl.output_shape) == shape, where
                compared += 1
            if rl.params is not None:
                assert rl.params == params, where
    assert compared >= 40
