"""The check as a list of passes, and what its result carries as typed fields."""

from __future__ import annotations

import pickle

import pytest

import nndsl
from nndsl.errors import NndslCheckError, RunError
from nndsl.plugins.registry import registry
from nndsl.plugins.spec import MISSING, DataSourceSpec, LayerSpec, ParamSpec, PreprocessorSpec, StepSpec, param
from nndsl.semantics import keras_check
from nndsl.semantics.check import LANGUAGE_PASSES, PASSES, check
from nndsl.semantics.context import FAILED, hint_for, type_hint
from nndsl.semantics.result import DEFAULT_MAX_PARAMS, ModelOptions
from nndsl.semantics.values import Symbol

UNKNOWN_LAYER = "model m {\n    Input(shape=(3,))\n    Sparkles(2)\n    loss mse\n}\n"
SCALED = "model m {\n    Input(shape=(3,))\n    Dense(1)\n    loss mse\n    scale_target minmax\n}\n"


def test_every_pass_runs_once_language_passes_first():
    assert PASSES[: len(LANGUAGE_PASSES)] == LANGUAGE_PASSES
    assert PASSES[len(LANGUAGE_PASSES):] == keras_check.KERAS_PASSES
    assert len(set(PASSES)) == len(PASSES)


def test_passes_choose_what_is_checked():
    # a layer name is a Keras matter: the language passes accept it, every pass refuses it
    check(UNKNOWN_LAYER, passes=LANGUAGE_PASSES)
    check(UNKNOWN_LAYER, keras=False)
    with pytest.raises(NndslCheckError, match="expected a layer name; received 'Sparkles'"):
        check(UNKNOWN_LAYER)
    with pytest.raises(NndslCheckError, match="Sparkles"):
        check(UNKNOWN_LAYER, passes=LANGUAGE_PASSES + (keras_check.resolve_layers,))


def test_a_pass_of_ones_own_reads_the_shared_context():
    seen = []

    def count_models(ctx):
        seen.append(sorted(ctx.models))
        if len(ctx.models) > 1:
            ctx.error("too-many-models", "expected one model; received more", ctx.models["b"].decl.name_span)

    one = "model a {\n    Input(shape=(1,))\n    Dense(1)\n}\n"
    check(one, passes=LANGUAGE_PASSES + (count_models,))
    with pytest.raises(NndslCheckError) as e:
        check(one + one.replace("model a", "model b"), passes=LANGUAGE_PASSES + (count_models,))
    assert [d.code for d in e.value.diagnostics] == ["too-many-models"]
    assert seen == [["a"], ["a", "b"]]


def test_model_options_are_a_typed_field():
    checked = nndsl.check(SCALED)
    model = checked.models["m"]
    assert model.options == ModelOptions(scale_features="none", scale_target="minmax")
    assert "_options" not in model.compile and set(model.compile) == {"loss"}
    with pytest.raises(AttributeError):
        model.options.scale_features = "standard"  # frozen: a checked model's options do not drift


def test_warnings_and_the_parameter_budget_are_fields_of_the_result():
    checked = nndsl.check(SCALED, max_params=10)
    assert checked.warnings == () and checked.max_params == 10
    assert nndsl.check(SCALED).max_params == DEFAULT_MAX_PARAMS


def test_a_failing_shape_rule_is_a_warning_of_the_result():
    def broken(args, shape):
        raise ZeroDivisionError("no")

    registry("layers").register("Wobble", LayerSpec(name="Wobble", doc="d", impl="somewhere:Wobble", infer_shape=broken))
    checked = nndsl.check("model m {\n    Input(shape=(3,))\n    Wobble()\n    Dense(1)\n    loss mse\n}\n")
    assert [w.code for w in checked.warnings] == ["shape-rule-failed"]
    assert checked.warnings[0].severity == "warning"


def test_context_helpers():
    assert hint_for("max_pooling", ["MaxPooling2D", "MaxPooling"]) == "did you mean 'MaxPooling'?"
    assert hint_for("zzz", ["Dense"]) is None
    assert type_hint(Symbol("adam"), "str") == 'put text in quotes: "adam"'
    assert type_hint(Symbol("True"), "bool") == "write true"
    assert type_hint(3, "str") is None
    assert repr(FAILED) == "<failed>"


def test_every_spec_finds_a_parameter_by_name():
    p = param("units", "int")
    for spec in (StepSpec("s", "d", "m:f", params=(p,)), DataSourceSpec("d", "d", "m:f", params=(p,)),
                 PreprocessorSpec("p", "d", "m:f", params=(p,)), LayerSpec("L", "d", "m:f", params=(p,))):
        assert spec.param("units") is p
        assert spec.param("other") is None


def test_a_required_parameter_stays_required_through_pickling():
    p = ParamSpec("units", "int")
    assert p.required and p.default is MISSING
    assert pickle.loads(pickle.dumps(p)).required
    assert not param("rate", "float", 0.5).required and param("x", "any", None).nullable


def test_a_run_error_names_its_parameter():
    from nndsl.plots import plot_history

    with pytest.raises(RunError) as bad_metric:
        plot_history({"loss": [1.0, 0.5]}, "c.png", metrics=["los"])
    assert bad_metric.value.param == "metrics"
    with pytest.raises(RunError) as bad_size:
        plot_history({"loss": [1.0, 0.5]}, "c.png", width=10)
    assert bad_size.value.param == "width"
    assert RunError("x").param is None
