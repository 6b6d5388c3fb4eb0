"""The Keras passes, without TensorFlow: names resolved in the registry of their place,
arguments bound and type-checked, compile properties, shapes, parameter budget."""

from __future__ import annotations

import pytest

import nndsl
from nndsl.errors import NndslCheckError
from nndsl.semantics.result import ModelOptions


def errors(text: str, **kw) -> list:
    with pytest.raises(NndslCheckError) as e:
        nndsl.check(text, filename="t.nn", **kw)
    return list(e.value.diagnostics)


def expect(text: str, code: str, message: str, extract: str, hint: str | None = None, **kw):
    """One diagnostic with this code and message whose span covers exactly ``extract``."""
    for d in errors(text, **kw):
        if d.code == code and message in d.message:
            assert text[d.span.start : d.span.end] == extract, (text[d.span.start : d.span.end], d)
            if hint is not None:
                assert d.hint is not None and hint in d.hint, d.hint
            return d
    raise AssertionError(f"no {code} diagnostic with {message!r}: {[(d.code, d.message) for d in errors(text, **kw)]}")


def model(*lines: str, props=("loss mse",)) -> str:
    body = "\n".join(f"    {ln}" for ln in ("Input(shape=(9,))", *lines, *props))
    return f"model m {{\n{body}\n}}\n"


def test_unknown_layer_suggests():
    expect(model("Dens(10)"), "unknown-name", "expected a layer name; received 'Dens'", "Dens", hint="'Dense'")


def test_lookup_ignores_case_and_underscores():
    checked = nndsl.check(model("dense(10)", "max_pooling1d()") .replace("shape=(9,)", "shape=(8, 4)"))
    assert [rl.name for rl in checked.models["m"].resolved] == ["Input", "Dense", "MaxPooling1D"]


def test_unknown_argument_suggests():
    expect(model("Dense(10, activaton=relu)"), "unknown-argument", "expected an argument of Dense; received 'activaton'", "activaton",
           hint="'activation'")


def test_duplicate_argument():
    expect(model("Dense(10, units=5)"), "duplicate-argument", "expected 'units' once for Dense", "units")


def test_missing_required_argument():
    expect(model("Dense()"), "missing-argument", "expected argument 'units' for Dense", "Dense()")


def test_too_many_positional_arguments():
    expect(model("Dropout(0.5, none, 3, 4)"), "too-many-arguments", "for Dropout; received 4", "4")


def test_wrong_literal_type():
    expect(model("Dense(10, use_bias=1)"), "bad-argument-type", "expected true or false for 'use_bias'; received the number 1", "1")
    expect(model('Dense("ten")'), "bad-argument-type", "for 'units'", '"ten"')


def test_python_style_booleans_get_a_hint():
    expect(model("Dense(10, use_bias=True)"), "bad-argument-type", "expected true or false", "True", hint="write true")


def test_unknown_activation_loss_metric_optimizer():
    expect(model("Dense(10, activation=rellu)"), "unknown-name", "expected an activation name; received 'rellu'", "rellu", hint="'relu'")
    expect(model(props=("loss mean_squared_eror",)), "unknown-name", "expected a loss name", "mean_squared_eror",
           hint="'mean_squared_error'")
    expect(model(props=("loss mse", "metrics [mae, acuracy]")), "unknown-name", "expected a metric name; received "
                                                                                "'acuracy'", "acuracy", hint="'accuracy'")
    expect(model(props=("loss mse", "optimizer adamm")), "unknown-name", "expected an optimizer name", "adamm", hint="'adam'")


def test_names_resolve_in_the_registry_of_their_place():
    # BinaryCrossentropy is a loss after `loss` and a metric inside `metrics`
    checked = nndsl.check(model("Dense(1, activation=sigmoid)", props=("loss BinaryCrossentropy()", "metrics [BinaryCrossentropy(), "
                                                                                                    "AUC()]")))
    compile_args = checked.models["m"].compile
    assert compile_args["loss"].kind == "losses"
    assert [m.kind for m in compile_args["metrics"]] == ["metrics", "metrics"]


def test_initializers_regularizers_schedules_as_calls():
    text = model(
        "Dense(10, kernel_initializer=HeNormal(seed=1), kernel_regularizer=L2(1e-4), kernel_constraint=MaxNorm(2))",
        props=("loss mse", "optimizer Adam(learning_rate=ExponentialDecay(0.01, decay_steps=100, decay_rate=0.9))"),
    )
    checked = nndsl.check(text)
    args = checked.models["m"].resolved[1].call.args
    assert args["kernel_initializer"].spec.name == "HeNormal"
    lr = checked.models["m"].compile["optimizer"].args["learning_rate"]
    assert lr.kind == "schedules" and lr.spec.name == "ExponentialDecay"


def test_bad_argument_inside_nested_call():
    expect(model("Dense(10, kernel_initializer=HeNormal(sed=1))"), "unknown-argument", "expected an argument of HeNormal; received "
                                                                                       "'sed'", "sed", hint="'seed'")


def test_unknown_compile_argument_suggests():
    expect(model(props=("loss mse", "metric [mae]")), "unknown-argument", "received 'metric'", "metric", hint="'metrics'")


def test_space_before_paren_is_explained():
    with pytest.raises(nndsl.NndslError) as e:
        nndsl.check(model("Dense (10)"))
    assert "with a space before '('" in e.value.render()


def test_every_compile_argument_is_accepted():
    nndsl.check(model(props=("loss mse", "optimizer sgd", "metrics [mae]", "loss_weights [1.0]", "run_eagerly false",
                             "steps_per_execution 8", "jit_compile false", "weighted_metrics [mse]", "auto_scale_loss true")))


def test_shape_mismatch_is_reported_at_the_offending_layer():
    d = expect(model("Dense(5)", "Conv2D(3, 3)"), "shape-mismatch", "Conv2D expects 4-D input", "Conv2D(3, 3)")
    assert "(None, 5)" in d.message
    assert any("from Dense at line 3" in n.message for n in d.notes)


def test_inferred_shapes_and_parameter_counts():
    checked = nndsl.check(model("Dense(50, activation=relu)", "Dense(1)"))
    assert checked.models["m"].shapes == [("Input", (None, 9), 0), ("Dense", (None, 50), 500), ("Dense", (None, 1), 51)]


def test_missing_input_shape():
    expect("model m {\n    Dense(10)\n    loss mse\n}\n", "missing-input-shape", "expected the model's input shape", "Dense",
           hint="Input(shape=")


def test_keras2_input_dim_counts_as_input():
    checked = nndsl.check("model m {\n    Dense(32, input_dim=9)\n    Dense(1)\n    loss mse\n}\n")
    assert checked.models["m"].shapes[0][1] == (None, 32)


def test_parameter_budget():
    expect(model("Dense(100000)", "Dense(100000)"), "parameter-budget", "expected at most 1,000,000 parameters", "m", max_params=1_000_000)


def test_training_a_model_without_loss():
    text = 'data d = csv("d.csv", target="y")\n' + model("Dense(1)", props=()) + "train m on d\n"
    expect(text, "missing-loss", "expected a loss in model 'm' to train it", "train")


def test_callbacks_resolve_in_the_callbacks_registry():
    text = ('data d = csv("d.csv", target="y")\n' + model("Dense(1)")
            + "train m on d callbacks=[EarlyStopping(patience=3), ReduceLROnPlateau()]\n")
    checked = nndsl.check(text)
    assert [c.spec.name for c in checked.steps[0].kwargs["callbacks"]] == ["EarlyStopping", "ReduceLROnPlateau"]
    bad = text.replace("EarlyStopping(patience=3)", "EarlyStoping(patience=3)")
    expect(bad, "unknown-name", "expected a callback name; received 'EarlyStoping'", "EarlyStoping", hint="'EarlyStopping'")


def test_all_problems_reported_at_once_in_source_order():
    ds = errors(model("Dens(10)", "Dense(10, activaton=relu)", props=("loss msee",)))
    lines = [d.span.line for d in ds]
    assert lines == sorted(lines) and len(ds) == 3


def test_check_imports_no_tensorflow():
    import subprocess
    import sys

    code = ("import sys, nndsl\n"
            f"nndsl.check({model('Dense(10, kernel_initializer=HeNormal(seed=1))')!r})\n"
            "assert not [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'numpy')], 'heavy import'\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_preprocessing_names_come_from_the_preprocessors_registry():
    checked = nndsl.check(model("Dense(1)", props=("loss mse", "scale_features standard", "scale_target none")))
    assert checked.models["m"].options == ModelOptions(scale_features="standard", scale_target="none")
    expect(model("Dense(1)", props=("loss mse", "scale_features minmaxx")), "unknown-name", "expected a preprocessor", "minmaxx",
           hint="'minmax'")


def test_sequential_group_is_a_registered_layer():
    from nndsl.plugins.registry import registry

    assert registry("layers").resolve("sequential") == "Sequential"
    text = model("Sequential(Dense(4), Dense(2))")
    assert nndsl.format(nndsl.parse(text.replace("Sequential(", "sequential("))) == text
