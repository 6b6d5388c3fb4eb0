"""Checked program -> ``keras.Sequential`` plus ``compile(...)``. The only compile module that imports Keras.

Everything that can fail on user input has already failed in :mod:`nndsl.semantics`; this
module is mechanical. It never emits Lambda layers or anything that needs ``safe_mode=False``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import catalogue
from ..errors import Diagnostic, NndslCheckError, PluginError, UsageError, did_you_mean
from ..plugins.registry import normalize, registry
from ..plugins.spec import load_impl
from ..semantics.keras_check import LAYER_PATH_ARGS, has_input_arguments, keras2_input, sequential_input
from ..semantics.result import CheckedModel, CheckedProgram, ResolvedCall, ResolvedName
from ..semantics.values import Symbol
from ..source import Source

_INSTANTIATE_NAMES = ("initializers", "regularizers", "constraints", "optimizers", "losses", "metrics")


def _import(spec):
    return load_impl(spec.impl)


def _class_for_name(kind: str, spec) -> Any:
    """The Keras class standing for a function-style name (``mean_squared_error`` -> ``MeanSquaredError``)."""
    if spec.kind == "class":
        return _import(spec)
    reg = registry(kind)
    for name in reg.names():
        if name[:1].isupper() and normalize(name) == normalize(spec.name):
            return _import(reg.get(name))
    return None


def _rejected(value: ResolvedCall, exc: Exception, source: Source | None) -> NndslCheckError:
    text = " ".join(str(exc).split())
    if len(text) > 300:
        text = text[:297] + "..."
    return _located(value, source, code="rejected-by-keras",
                    message=f"expected arguments {value.spec.name} accepts; received values Keras rejects: {text}")


def _located(value: ResolvedCall, source: Source | None, *, code: str, message: str) -> NndslCheckError:
    node = value.node
    return NndslCheckError(diagnostics=[Diagnostic(
        code=code, message=message, span=node.span if node is not None else None, source=source,
    )])


def _relative_paths(args: dict, source: Source | None) -> dict:
    """File paths among a layer's arguments, relative to the ``.nn`` file as data sources' are."""
    if source is None or source.name.startswith("<"):
        return args  # text without a file: relative to the working folder, as Keras has it
    base = Path(source.name).resolve().parent
    for name in LAYER_PATH_ARGS:
        value = args.get(name)
        if isinstance(value, str) and not Path(value).is_absolute():
            args[name] = str(base / value)
    return args


def _compile_special(kind: str, written: str) -> bool:
    return bool(catalogue.entry(kind, written.lower()).get("compile_special"))


def to_keras(value: Any, source: Source | None = None) -> Any:
    """A checked argument value as the Python/Keras object Keras expects.

    Args:
        value: a checked value: a resolved call or name, or plain data holding them.
        source: the program's text, so that a call Keras refuses is reported where it is written.
    """
    if isinstance(value, ResolvedCall):
        try:
            target = _import(value.spec)
        except PluginError as exc:
            raise _located(value, source, code="plugin-error",
                           message=f"the plugin for {value.kind[:-1]} '{value.spec.name}' failed to load: {exc}") from None
        args = {k: to_keras(v, source) for k, v in value.args.items() if k != "*args"}
        star = [to_keras(v, source) for v in value.args.get("*args", ())]
        if value.kind == "layers":
            args = _relative_paths(args, source)
        try:
            return target(*star, **args)
        except (ValueError, TypeError) as exc:
            # Keras refused a value the static checks could not judge (a negative slope, ...)
            raise _rejected(value, exc, source) from None
    if isinstance(value, ResolvedName):
        spec = value.spec
        if value.kind == "activations" or value.kind not in _INSTANTIATE_NAMES:
            if spec.impl.startswith("keras."):
                return spec.name
            return _import(spec)
        if value.kind in ("metrics", "losses") and _compile_special(value.kind, value.written or spec.name):
            # "accuracy", "acc", "crossentropy": model.compile picks the right one for the loss
            return (value.written or spec.name).lower()
        cls = _class_for_name(value.kind, spec)
        if cls is not None:
            if value.kind == "metrics" and value.written:
                return cls(name=value.written)  # report the metric under the name the program wrote
            return cls()
        return _import(spec)
    if isinstance(value, Symbol):
        return str(value)
    if isinstance(value, list):
        return [to_keras(v, source) for v in value]
    if isinstance(value, tuple):
        return tuple(to_keras(v, source) for v in value)
    if isinstance(value, dict):
        return {k: to_keras(v, source) for k, v in value.items()}
    return value


def build_layers(model: CheckedModel, after_input=(), source: Source | None = None, input_width: int | None = None) -> list:
    """The model's Keras layers, an ``Input`` first, then ``after_input`` (preprocessing layers).

    ``source`` is the program's text, for errors located in it. ``input_width`` is the width of
    the table a model without ``Input`` trains on.
    """
    import keras

    resolved = list(model.resolved)
    out: list = []
    first = resolved[0]
    group_input = sequential_input(first.call)
    if group_input is not None:
        # a first Sequential(Input(...), ...) group: the model's input is the group's
        out.append(keras.Input(**{k: to_keras(v, source) for k, v in group_input.args.items()}))
    elif first.call.spec.name in ("Input", "InputLayer"):
        args = {k: to_keras(v, source) for k, v in first.call.args.items()}
        if first.call.spec.name == "InputLayer":
            out.append(keras.layers.InputLayer(**args))
        else:
            out.append(keras.Input(**args))
        resolved = resolved[1:]
    elif not has_input_arguments(first):
        if input_width is None:
            # a model without Input takes the width of the table it trains on, known once it is read
            raise NndslCheckError(diagnostics=[Diagnostic(
                code="missing-input-shape",
                message=f"expected the input width of model '{model.name}'; received a model without Input, whose width "
                        "comes from the table it trains on",
                span=model.decl.name_span, source=source,
                hint="the run reads the table first (nndsl run); nndsl summary --data and nndsl check --data read it too",
            )])
        out.append(keras.Input(shape=(input_width,)))
    else:
        # Keras-2 style input_shape= / input_dim= on the first layer becomes an Input, without
        # Keras's deprecation warning.
        shape, batch, resolved[0] = keras2_input(first)
        out.append(keras.Input(shape=shape, batch_size=batch))
    out.extend(after_input)
    out.extend(to_keras(rl.call, source) for rl in resolved)
    return out


def compile_arguments(model: CheckedModel, source: Source | None = None) -> dict:
    """Keyword arguments for ``model.compile``: losses and metrics as canonical Keras objects."""
    args = {k: to_keras(v, source) for k, v in model.compile.items()}
    if "optimizer" not in args:
        args["optimizer"] = "rmsprop"  # Keras's own default
    return args


def build_model(checked: CheckedProgram, name: str | None = None, *, compile: bool = True, after_input=None,
                input_width: int | None = None):
    """The compiled ``keras.Sequential`` for one model of a checked program.

    ``after_input`` are layers placed right after the input (fitted preprocessing). By default a
    model with ``scale_features`` gets an un-fitted ``Normalization`` there, so its structure
    matches the model that training builds once the statistics are known.
    """
    import keras

    model = _pick(checked, name)
    seed = checked.settings.get("seed")
    if seed is not None:
        set_random_seed(int(seed))
    if after_input is None:
        after_input = [keras.layers.Normalization()] if model.options.scale_features != "none" else []
    if checked.nn_file is not None:
        model = _with_absolute_paths(model, checked.nn_file.parent)
    layers = build_layers(model, after_input, checked.source, input_width)
    try:
        km = keras.Sequential(layers, name=model.keras_name or model.name)
    except (ValueError, TypeError) as exc:
        # a layer without a static shape rule met an input it cannot take
        text = " ".join(str(exc).split())[:300]
        raise NndslCheckError(diagnostics=[Diagnostic(
            code="rejected-by-keras",
            message=f"expected layers that fit together; received Keras's refusal to build model '{model.name}': {text}",
            span=model.decl.name_span, source=checked.source,
        )]) from None
    check_budget(km, model, checked)
    if compile and model.compile.get("loss") is not None:
        km.compile(**compile_arguments(model, checked.source))
    return km


def check_budget(km, model: CheckedModel, checked: CheckedProgram) -> None:
    """The parameter budget (``--max-params``) on the built model.

    The check passes count what their shape rules know; a layer without a rule (a plugin's,
    ``RMSNormalization``) leaves the count unknown there, so the budget is held here too, on
    the count Keras reports, before the model is compiled or trained.
    """
    total = km.count_params()
    limit = checked.max_params
    if total > limit:
        raise NndslCheckError(diagnostics=[Diagnostic(
            code="parameter-budget", message=f"expected at most {limit:,} parameters; received {total:,} in model '{model.name}'",
            span=model.decl.name_span, source=checked.source, hint="raise the limit with --max-params if this is intended",
        )])


def _with_absolute_paths(model: CheckedModel, base) -> CheckedModel:
    """The model with the file arguments of its layers (a vocabulary file) relative to the .nn
    file's folder, as every path in a program is, instead of the current folder."""
    import os
    from dataclasses import replace

    def fixed(call: ResolvedCall) -> ResolvedCall:
        args = dict(call.args)
        for p in call.spec.params:
            value = args.get(p.name)
            if getattr(p, "path", "") and isinstance(value, str) and value:
                args[p.name] = os.path.join(base, value)
        return replace(call, args=args)

    resolved = [replace(rl, call=fixed(rl.call)) for rl in model.resolved]
    return replace(model, resolved=resolved)


def _pick(checked: CheckedProgram, name: str | None) -> CheckedModel:
    if name is None:
        if len(checked.models) != 1:
            raise UsageError(f"expected a model name (the file defines {', '.join(checked.models) or 'none'}); received none")
        return next(iter(checked.models.values()))
    if name not in checked.models:
        guess = did_you_mean(name, checked.models)
        raise UsageError(f"expected a model defined in the file; received '{name}'" + (f"; {guess}" if guess else ""))
    return checked.models[name]


def build(program_or_text, model: str | None = None, *, filename: str = "<string>", overrides: dict | None = None):
    """Check a program (text, Program or CheckedProgram) and return one model, built and compiled.

    Args:
        program_or_text: ``.nn`` text, a parsed program, or a checked program.
        model: which model, when the file defines several.
        filename: the name used in diagnostics when given text.
        overrides: ``--set`` values.
    """
    from ..semantics.check import check

    checked = (program_or_text if isinstance(program_or_text, CheckedProgram)
               else check(program_or_text, filename=filename, overrides=overrides))
    return build_model(checked, model)


def set_random_seed(seed: int) -> None:
    """``keras.utils.set_random_seed``, without importing TensorFlow on another backend.

    Keras's own function also seeds TensorFlow whenever it is installed, which imports it:
    seconds of start-up for a JAX run that never uses it.
    """
    import keras

    if keras.backend.backend() == "tensorflow":
        keras.utils.set_random_seed(seed)
        return
    import random

    import numpy as np
    from keras.src.backend.common import global_state
    from keras.src.random import seed_generator
    from keras.src.utils import rng_utils

    global_state.set_global_attribute(rng_utils.GLOBAL_RANDOM_SEED, seed)
    global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, None)
    random.seed(seed)
    np.random.seed(seed)
