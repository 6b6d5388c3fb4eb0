"""The built-in steps. Each is ``fn(state, step)``; plugin steps have the same signature."""

from __future__ import annotations

import contextlib
import json
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import Note
from ..semantics.check import CheckedStep
from ..semantics.result import ModelOptions
from .defaults import (
    CALLBACK_PATH_ATTRIBUTES,
    MAX_STEPS_PER_EXECUTION,
    MIN_VALIDATION_BATCH,
    PREDICT_BATCH,
    SMALL_INPUT,
    batch_size_of,
)
from .files import atomic_path, atomic_write_text
from .modelmeta import BadMeta, add_to_archive, read_checked, sidecar
from .predictions import count, identifying_columns, outputs, shown_rows, unknown_column
from .predictions import write as write_predictions
from .quiet import import_tensorflow_quietly, load_without_tensorflow, serializing_without_tensorflow
from .runner import ModelState, RunState


def _on_span(step: CheckedStep):
    return step.node.on.span if step.node.on is not None else step.node.span


def _data_note(state: RunState, ref):
    decl = state.checked.data.get(str(ref)).decl if str(ref) in state.checked.data else None
    return [Note(f"data source '{ref}' is declared here", decl.name_span)] if decl is not None else []


def _model_note(ms: ModelState):
    if ms.checked is None:
        return []
    return [Note(f"model '{ms.name}' is defined here", ms.checked.decl.name_span)]


def _check_features(state: RunState, step: CheckedStep, ms: ModelState, ds, want: tuple | None = None) -> None:
    want = tuple(ms.keras_model.input_shape[1:]) if want is None else want
    got = _feature_shape(ds)
    if len(want) != len(got) or any(w is not None and w != g for w, g in zip(want, got)):
        detail = f"{got[0]} feature columns" if len(got) == 1 else f"rows of shape {got}"
        raise state.error(
            f"expected data with input shape {want} for model '{ms.name}'; received {detail} "
            f"from '{step.node.on and state.checked.source.text[step.node.on.span.start:step.node.on.span.end]}'",
            step, code="data-shape", span=_on_span(step), notes=_model_note(ms) + _data_note(state, step.on),
            hint=_width_hint(ms, ds, got),
        )


def _feature_shape(ds) -> tuple:
    """The shape of one row of features: a streamed table's is its encoded width."""
    if ds.x is None and ds.streamed:
        return (len(ds.feature_names),)
    return tuple(ds.x.shape[1:])


def _width_hint(ms: ModelState, ds, got: tuple) -> str | None:
    """What each column of a table contributes to the width, or the data's columns."""
    if ms.schema is not None and len(got) == 1:
        return (f"the table's columns give {ms.schema.width} inputs: {ms.schema.contributions()}; "
                "leave out Input and the model takes the table's width")
    if ds.feature_names and len(got) == 1:
        return f"the data's feature columns are: {', '.join(ds.feature_names)}"
    return None


def _encoded(state: RunState, ms: ModelState, ds):
    """``ds`` as model ``ms`` takes it: a table's columns encoded with the schema fitted on its
    training data (missing cells filled, categories one-hot, class labels as indices)."""
    from .tables import encoded

    return encoded(state, ms, ds)


def _static_input(ms: ModelState) -> tuple | None:
    """The model's input shape as the program declares it (without the batch axis), when known."""
    if ms.checked is None or not ms.checked.resolved:
        return None
    first = ms.checked.resolved[0]
    shape = first.output_shape if first.input_shape is None else first.input_shape
    return None if shape is None else tuple(shape[1:])


def _ensure_built(state: RunState, ms: ModelState, ds, step: CheckedStep | None = None) -> None:
    if ms.keras_model is not None:
        return
    from ..compile.keras import build_model

    ms.feature_names = list(ds.feature_names)  # saved with the model: predictions pick columns by these names
    ds = _encoded(state, ms, ds)
    want = _static_input(ms)
    width = None
    if want is None and ms.schema is not None and ms.checked is not None and ms.checked.resolved:
        from ..semantics.keras_check import has_input_arguments

        first = ms.checked.resolved[0]
        if first.call.spec.name not in ("Input", "InputLayer", "Sequential") and not has_input_arguments(first):
            width = ms.schema.width  # a model without Input takes the table's encoded width
    if step is not None and want is not None and (ds.x is not None or ds.streamed):
        # before any scaling is fitted on columns the model cannot take
        _check_features(state, step, ms, ds, want)

    options = ms.checked.options if ms.checked else ModelOptions()
    features, targets = (ds.x, ds.y) if not ds.streamed else ds.stream.encoded_moments()
    ms.feature_scaler = _fit_scaler(state, ms, ds, "scale_features", options.scale_features, features, ds.feature_names)
    _check_class_target_unscaled(state, ms, ds, options.scale_target)
    if targets is not None:
        ms.target_scaler = _fit_scaler(state, ms, ds, "scale_target", options.scale_target, targets, ds.target_names)
    ms.target_names = list(ds.target_names)
    extra = [ms.feature_scaler.layer()] if ms.feature_scaler is not None else []
    with state.scope():
        ms.keras_model = build_model(state.checked, ms.name, after_input=extra, input_width=width)
        if step is not None:
            from .tables import check_classes

            check_classes(state, step, ms)
        if ms.target_scaler is not None and ms.checked is not None and ms.checked.compile.get("loss") is not None:
            _compile_in_raw_units(state, ms)
    if ds.x is not None:
        _adapt(state, ms, ds.x)
    elif ds.streamed:
        _adapt_streamed(state, ms, ds)
    if ms.feature_scaler is not None:
        state.record.data["preprocessing"].setdefault(ms.name, {})["features"] = ms.feature_scaler.record()
    if ms.target_scaler is not None:
        state.record.data["preprocessing"].setdefault(ms.name, {})["target"] = ms.target_scaler.record()


def _adapt_streamed(state: RunState, ms: ModelState, ds) -> None:
    """Preprocessing layers adapted on a streamed table: Keras reads the batches once itself (a
    tf.data pipeline reads nothing until it is iterated, so a model without such layers costs no pass)."""
    from .pipeline import table_stream_dataset

    data, failures = table_stream_dataset(ds.stream, batch_size=PREDICT_BATCH, shuffle=False, seed=None, with_targets=False)
    try:
        _adapt(state, ms, data.unbatch())
    except Exception:
        if failures:
            raise failures[0] from None
        raise


def _fit_scaler(state: RunState, ms: ModelState, ds, option: str, kind: str, a, names):
    """The scaler ``option`` asks for, fitted on ``a`` (an array, or a streamed table's
    :class:`nndsl.data.stream.Moments`); a column it cannot hold is a located error."""
    from .preprocess import ScalingError, fit

    if a is None:
        return None
    prop = ms.checked.properties.get(option) if ms.checked is not None else None
    try:
        if ds.streamed:
            from .preprocess import fit_moments

            scaler = fit_moments(kind, a)
            if scaler is False:
                raise state.error(f"expected standard, minmax or none for {option} on the streamed table '{ds.name}'; "
                                  f"received {kind}, which needs the rows in memory", code="unsupported-option",
                                  span=prop[1].span if prop is not None else None, notes=_data_note(state, ds.name),
                                  hint="raise the memory budget (memory_budget \"8GB\") to read the table whole")
            return scaler
        return fit(kind, a)
    except ScalingError as exc:
        column = names[exc.column] if names and exc.column < len(names) else f"#{exc.column + 1}"
        span = prop[1].span if prop is not None else None
        raise state.error(f"expected columns that {kind} scaling can hold; received column '{column}' of '{ds.name}': {exc.detail}",
                          code="cannot-scale", span=span, notes=_data_note(state, ds.name),
                          hint=f"rescale the column in the data (e.g. to other units), or leave it out with exclude=[\"{column}\"]",
                          ) from None


def _check_class_target_unscaled(state: RunState, ms: ModelState, ds, kind: str | None) -> None:
    """``scale_target`` on a table whose target is classes: a located error at the option. Class
    indices are not quantities: scaled, they are no longer the classes the loss counts (whether
    the table is in memory or streamed)."""
    if kind in (None, "none") or ms.schema is None or not ms.schema.classes:
        return
    prop = ms.checked.properties.get("scale_target") if ms.checked is not None else None
    target = ms.schema.targets[0]
    listed = ", ".join(target.classes[:6]) + (", ..." if len(target.classes) > 6 else "")
    raise state.error(f"expected a numeric target for scale_target {kind}; received the target '{target.name}' of "
                      f"'{ds.name}', whose values are the classes {listed}", code="cannot-scale",
                      span=prop[1].span if prop is not None else None, notes=_data_note(state, ds.name),
                      hint="leave out scale_target: class targets are not scaled (it is for a numeric target under a "
                      "regression loss)")


def _compile_in_raw_units(state: RunState, ms: ModelState) -> None:
    """With a scaled target, every metric but the loss in the target's raw units (see :mod:`nndsl.run.units`)."""
    from ..compile.keras import compile_arguments
    from .units import in_raw_units

    ms.keras_model.compile(**in_raw_units(compile_arguments(ms.checked, state.checked.source), ms.target_scaler))
    state.record.data["preprocessing"].setdefault(ms.name, {})["scaled_loss"] = True


def _adapt(state: RunState, ms: ModelState, features) -> None:
    """Preprocessing layers without a vocabulary or statistics, adapted on the training features."""
    from .adapt import adapt_layers

    adapted = adapt_layers(ms.keras_model, features)
    if adapted:
        state.record.data["preprocessing"].setdefault(ms.name, {})["adapted"] = adapted


def _xy(state, step, ms, ds, *, raw_target: bool):
    if ds.y is None:
        raise state.error(
            f"expected data with a target column to {step.verb} model '{ms.name}'; received '{step.on}' without one",
            step, code="missing-target", span=_on_span(step), notes=_data_note(state, step.on),
            hint="name the column to predict: csv(\"file.csv\", target=\"column\")",
        )
    _check_features(state, step, ms, ds)
    out_shape = tuple(ms.keras_model.output_shape[1:])
    y = ds.y
    if out_shape and out_shape[-1] is not None and y.ndim == 2 and y.shape[1] != out_shape[-1] and not _sparse_labels(ms, out_shape, y):
        raise state.error(
            f"expected {out_shape[-1]} target column(s) for the output of model '{ms.name}'; "
            f"received {y.shape[1]} ({', '.join(ds.target_names)})",
            step, code="data-shape", span=_on_span(step), notes=_model_note(ms) + _data_note(state, step.on),
        )
    if _sparse_labels(ms, out_shape, y):
        _check_labels(state, step, ds, out_shape[-1])
    if not raw_target and ms.target_scaler is not None:
        y = ms.target_scaler.apply(y)
    return ds.x, y


def _sparse_labels(ms, out_shape, y) -> bool:
    loss = ms.checked.compile.get("loss") if ms.checked else None
    name = getattr(loss, "name", "") or ""
    return "sparse" in name.lower() and y.ndim == 2 and y.shape[1] == 1 and bool(out_shape)


def _check_labels(state, step, ds, classes: int) -> None:
    import numpy as np

    y = ds.y[:, 0]
    bad = np.nonzero((y < 0) | (y >= classes) | (y != np.floor(y)))[0]
    if len(bad):
        i = int(bad[0])
        raise state.error(
            f"expected class labels 0 to {classes - 1} for a model with {classes} outputs; received {y[i]:g} at row {i + 2} of '{step.on}'",
            step, code="bad-labels", span=_on_span(step), notes=_data_note(state, step.on),
        )


def _fix_callback_paths(state: RunState, cb) -> Any:
    for attr in CALLBACK_PATH_ATTRIBUTES:
        v = getattr(cb, attr, None)
        if isinstance(v, str) and not Path(v).is_absolute():
            setattr(cb, attr, str(state.path(v)))
    return cb


def train(state: RunState, step: CheckedStep) -> None:
    from . import interrupt
    from .progress import make_callback

    ms = state.model(step.target)
    ds = state.data(step.on)
    kw = dict(step.kwargs)
    feed = _Feed.of(kw)
    fit_args: dict[str, Any] = {"epochs": kw.get("epochs") or 1}
    for k in ("class_weight", "initial_epoch", "steps_per_epoch", "validation_steps", "validation_freq"):
        if kw.get(k) is not None:
            fit_args[k] = kw[k]
    failures: list = []  # located errors of a streamed table, raised in place of TensorFlow's (pipeline.table_stream_dataset)
    if ds.tf_dataset is not None:
        data = _streamed_training_data(state, step, ms, ds, feed, fit_args)
    elif ds.streamed:
        data = _table_stream_training_data(state, step, ms, ds, feed, fit_args, failures)
    else:
        data = _in_memory_training_data(state, step, ms, ds, feed, fit_args, failures)
    if state.backend == "tensorflow":
        if "steps_per_epoch" in fit_args:
            data = data.repeat()
        _default_steps_per_execution(ms, data)
    callbacks = _user_callbacks(state, step, kw)
    watch = _LossWatch(ms.epoch_seconds)
    callbacks.append(watch.callback())
    callbacks += [make(ms.name) for make in state.train_callbacks]  # tracking (run/tracking.py)
    events = _training_events(state, kw.get("progress"))
    if events.mode != "none":
        scaled = bool(state.record.data["preprocessing"].get(ms.name, {}).get("scaled_loss"))
        callbacks.append(make_callback(events, ms.name, stop=state.stop, scaled_loss=scaled))
    snapshots = _starting_point(state, ms, fit_args)
    callbacks.append(interrupt.callback(state.stop, snapshots, together=state.group is not None))
    if state.watchdog is not None:
        callbacks.append(state.watchdog.callback())
    if state.strategy is None:
        # (under MirroredStrategy the step synchronises replicas, which no branch may hold:
        # there Ctrl-C takes effect when the compiled call returns)
        state.stop.guard(ms.keras_model)
    before = len(ms.history.get("loss", []))
    try:
        with state.stop.installed(), state.watching(f"training model '{ms.name}'"), _raising(failures):
            history = ms.keras_model.fit(data, verbose=0, callbacks=callbacks, **fit_args)
    finally:
        if state.gate is not None:
            state.gate.restore_folders()
    for k, v in history.history.items():
        ms.history.setdefault(k, []).extend(float(a) for a in v)
    ms.trained = True
    ms.reported_epoch = None
    if state.stop.requested:
        _checkpoint_and_stop(state, step, ms, snapshots, fit_args["epochs"])
    if watch.bad is not None:
        epoch, batch_index, value = watch.bad
        raise state.error(
            f"expected a finite training loss; received {value} at epoch {epoch}, batch {batch_index}", step, code="nan-loss",
            hint="try a smaller learning rate, or scale the features and target (scale_features standard, scale_target standard)",
        )
    trained = len(history.history.get("loss", []))
    stop = _say_how_training_ended(state, ms, callbacks, fit_args, before, trained)
    state.record.add_step(step="train", model=ms.name, data=str(step.on), epochs=trained,
                          **({"stopped": stop.fields()} if stop is not None else {}))


def _say_how_training_ended(state: RunState, ms: ModelState, callbacks: list, fit_args: dict, before: int, trained: int):
    """A callback that stopped training early, or restored an earlier epoch's weights, said so;
    with restored weights, the metrics reported are that epoch's."""
    from .stopping import describe

    first = fit_args.get("initial_epoch", 0)
    stop = describe(ms.keras_model, callbacks, last_epoch=first + trained, epochs=fit_args["epochs"])
    if stop is None:
        return None
    for line in stop.lines(ms.name, fit_args["epochs"]):
        state.events.line(line)
    state.events.emit("training_stopped", model=ms.name, **stop.fields())
    if stop.restored and stop.best_epoch is not None and first < stop.best_epoch <= first + trained:
        ms.reported_epoch = before + stop.best_epoch - first - 1
    return stop


@dataclass(frozen=True)
class _Feed:
    """How a training step batches its rows."""

    batch: int
    val_batch: int
    shuffle: bool
    prefetch: bool

    @classmethod
    def of(cls, kw: dict) -> _Feed:
        batch = batch_size_of(kw)
        return cls(batch=batch, val_batch=kw.get("validation_batch_size") or max(batch, MIN_VALIDATION_BATCH),
                   shuffle=kw.get("shuffle", True) is not False, prefetch=kw.get("prefetch", True) is not False)


def _streamed_training_data(state: RunState, step: CheckedStep, ms: ModelState, ds, feed: _Feed, fit_args: dict):
    """A folder source's tf.data pipeline (and its validation data's, into ``fit_args``); the model
    built on first use."""
    from ..compile.keras import build_model
    from .pipeline import stream_dataset

    kw = step.kwargs
    if state.group is not None:
        raise state.error(f"expected in-memory data for a multi-process run; received the streamed folder source '{step.on}'", step,
                          code="unsupported-option", span=_on_span(step),
                          hint="folder sources stream through tf.data, which cannot be split evenly between processes; "
                               "train on one process")
    if ms.keras_model is None:
        with state.scope():
            ms.keras_model = build_model(state.checked, ms.name)
        _adapt(state, ms, ds.tf_dataset)
        ms.class_names = list(ds.class_names)
    for option in ("validation_split",):
        if kw.get(option):
            raise state.error(f"expected no {option} for the streamed folder source '{step.on}'; received {option}={kw[option]}", step,
                              code="unsupported-option", hint="give validation data as its own source: validation_data=NAME")
    data = stream_dataset(ds.tf_dataset, batch_size=feed.batch, shuffle=feed.shuffle, seed=state.seed, cache=kw.get("cache", True),
                          prefetch=feed.prefetch)
    if kw.get("validation_data") is not None:
        fit_args["validation_data"] = stream_dataset(state.data(kw["validation_data"]).tf_dataset, batch_size=feed.val_batch,
                                                     shuffle=False, seed=None)
    return data


def _table_stream_training_data(state: RunState, step: CheckedStep, ms: ModelState, ds, feed: _Feed, fit_args: dict,
                                failures: list):
    """A table over the memory budget as tf.data batches read again each epoch (and its validation
    data's, into ``fit_args``); the model built and its preprocessing fitted on first use."""
    from .pipeline import table_stream_dataset

    kw = step.kwargs
    if state.group is not None:
        raise state.error(f"expected in-memory data for a multi-process run; received '{step.on}', a table over the memory budget "
                          "streamed in record batches", step, code="unsupported-option", span=_on_span(step),
                          hint="a stream cannot be split evenly between processes: train on one process, or raise the "
                               "memory budget (nndsl run --memory-budget 8GB)")
    if kw.get("validation_split"):
        raise state.error(f"expected no validation_split for '{step.on}', a table over the memory budget streamed in record "
                          f"batches; received validation_split={kw['validation_split']}", step, code="unsupported-option",
                          span=_option_span(step, "validation_split"),
                          hint="give validation data as its own source: validation_data=NAME")
    _ensure_built(state, ms, ds, step)
    ds = _encoded(state, ms, _by_name(state, step, ms, ds))
    _check_streamed_targets(state, step, ms, ds)
    scaler = ms.target_scaler
    data, found = table_stream_dataset(ds.stream, batch_size=feed.batch, shuffle=feed.shuffle, seed=state.data_seed,
                                       prefetch=feed.prefetch, target=scaler.apply if scaler is not None else None)
    failures.append(found)
    if kw.get("validation_data") is not None:
        vds = _validation_data(state, step, ms, kw["validation_data"])
        if vds.streamed:
            fit_args["validation_data"] = _streamed_validation(state, step, ms, vds, feed, failures)
        else:
            from .pipeline import array_dataset

            x, y = _xy(state, step, ms, vds, raw_target=False)
            fit_args["validation_data"] = array_dataset(x, y, batch_size=feed.val_batch, shuffle=False, seed=None,
                                                        prefetch=feed.prefetch)
    return data


def _streamed_validation(state: RunState, step: CheckedStep, ms: ModelState, vds, feed: _Feed, failures: list):
    """Validation data over the memory budget, read again at each validation, in order."""
    from .pipeline import table_stream_dataset

    if not vds.target_names:
        raise state.error(f"expected validation data with a target column for model '{ms.name}'; received '{vds.name}' without one",
                          step, code="missing-target", span=_option_span(step, "validation_data"), notes=_data_note(state, vds.name))
    scaler = ms.target_scaler
    data, found = table_stream_dataset(vds.stream, batch_size=feed.val_batch, shuffle=False, seed=None, prefetch=feed.prefetch,
                                       target=scaler.apply if scaler is not None else None)
    failures.append(found)
    return data


def _option_span(step: CheckedStep, name: str):
    node = next((k for k in step.node.kwargs if k.name == name), None)
    return node.span if node is not None else step.node.span


def _check_streamed_targets(state: RunState, step: CheckedStep, ms: ModelState, ds) -> None:
    """What ``_xy`` checks of targets in memory, from a streamed table's schema."""
    if not ds.target_names:
        raise state.error(
            f"expected data with a target column to {step.verb} model '{ms.name}'; received '{step.on}' without one",
            step, code="missing-target", span=_on_span(step), notes=_data_note(state, step.on),
            hint="name the column to predict: csv(\"file.csv\", target=\"column\")",
        )
    _check_features(state, step, ms, ds)


@contextlib.contextmanager
def _raising(failures: list):
    """A located error a streamed table's reading met (``failures``: lists filled by
    pipeline.table_stream_dataset), raised in place of the error TensorFlow wraps it in, or of
    the early end of data it causes."""
    try:
        yield
    except Exception:
        first = next((found[0] for found in failures if found), None)
        if first is not None:
            raise first from None
        raise
    first = next((found[0] for found in failures if found), None)
    if first is not None:
        raise first


def _in_memory_training_data(state: RunState, step: CheckedStep, ms: ModelState, ds, feed: _Feed, fit_args: dict,
                             failures: list | None = None):
    """Rows in memory as batches (and the validation rows, into ``fit_args``: streamed when they are
    a table over the memory budget); the model built and its preprocessing fitted on first use."""
    from .pipeline import array_dataset, split_validation

    kw = step.kwargs
    _ensure_built(state, ms, ds, step)
    # a model trained or loaded before picks this data's columns by the names it was trained on
    ds = _encoded(state, ms, _by_name(state, step, ms, ds))
    x, y = _xy(state, step, ms, ds, raw_target=False)
    val = None
    if kw.get("validation_data") is not None:
        vds = _validation_data(state, step, ms, kw["validation_data"])
        if vds.streamed:
            if state.group is not None:
                raise state.error(f"expected in-memory validation data for a multi-process run; received '{vds.name}', a table "
                                  "over the memory budget streamed in record batches", step, code="unsupported-option",
                                  span=_option_span(step, "validation_data"),
                                  hint="raise the memory budget (nndsl run --memory-budget 8GB), or train on one process")
            data = array_dataset(x, y, batch_size=feed.batch, shuffle=feed.shuffle, seed=state.seed, prefetch=feed.prefetch)
            fit_args["validation_data"] = _streamed_validation(state, step, ms, vds, feed, failures if failures is not None else [])
            return data
        val = _xy(state, step, ms, vds, raw_target=False)
    elif kw.get("validation_split"):
        (x, y), val = split_validation(x, y, kw["validation_split"])
    if state.backend == "tensorflow":
        data = array_dataset(x, y, batch_size=feed.batch, shuffle=feed.shuffle, seed=state.seed, prefetch=feed.prefetch)
        if val is not None:
            fit_args["validation_data"] = array_dataset(val[0], val[1], batch_size=feed.val_batch, shuffle=False, seed=None,
                                                        prefetch=feed.prefetch)
        return data
    data = _shared_batches(state, step, x, y, batch=feed.batch, shuffle=feed.shuffle)
    # the batches order their rows themselves (seeded, or not at all under shuffle=false): Keras
    # would otherwise shuffle a PyDataset's batches again, so that shuffle=false trained out of order
    fit_args["shuffle"] = False
    if val is not None:
        # every process evaluates all of the validation rows: the mean is the same
        fit_args["validation_data"] = val
        fit_args["validation_batch_size"] = feed.val_batch
    return data


def _user_callbacks(state: RunState, step: CheckedStep, kw: dict) -> list:
    """The callbacks the step names, as Keras objects, their paths relative to the .nn file and
    held to the path rules once more (a backup folder is made here, so the run owns it)."""
    from ..compile.keras import to_keras

    for call in kw.get("callbacks") or []:
        _check_callback_package(state, step, call)
    calls = [_gate_callback_paths(state, step, call) for call in kw.get("callbacks") or []]
    return [_fix_callback_paths(state, to_keras(c, state.checked.source)) for c in calls]


# Callbacks that need a package Keras does not: (the module, how to install it).
_CALLBACK_PACKAGES = {"TensorBoard": ("tensorboard", "pip install tensorboard")}


def _check_callback_package(state: RunState, step: CheckedStep, call) -> None:
    """Before training starts: a callback whose package is missing would fail after the first epoch."""
    import importlib.util

    need = _CALLBACK_PACKAGES.get(call.spec.name)
    if need is None or importlib.util.find_spec(need[0]) is not None:
        return
    span = call.node.name_span if getattr(call, "node", None) is not None else step.node.span
    raise state.error(f"expected the {need[0]} package for {call.spec.name}; received an environment without it", step,
                      code="unsupported-option", span=span, hint=f"install it: {need[1]}")


def _gate_callback_paths(state: RunState, step: CheckedStep, call):
    """``call`` with its file and folder arguments absolute (defaults included: Keras derives
    other paths from them when it is constructed), each held to the path rules."""
    from dataclasses import replace

    from ..paths import SCRATCH_DIR, WRITE_DIR
    from .gate import Refused

    args = dict(call.args)
    for p in call.spec.params:
        role = getattr(p, "path", "")
        value = call.args.get(p.name, p.default)
        if not role or not isinstance(value, str) or not value:
            continue
        args[p.name] = str(state.gate.path(value))
        if role == "read":
            continue
        node = next((k.value for k in getattr(call.node, "kwargs", ()) if k.name == p.name), None)
        span = node.span if node is not None else getattr(call.node, "span", step.node.span)
        try:
            if role == SCRATCH_DIR:
                state.gate.scratch_folder(value)
            elif role == WRITE_DIR:
                state.gate.check(value, WRITE_DIR)
            else:
                state.gate.check(value)
        except Refused as exc:
            r = exc.refusal
            raise state.error(r.message, step, code=r.code, span=span, hint=r.hint) from None
    return replace(call, args=args)


def _training_events(state: RunState, mode: str | None):
    """Where the step's progress goes: the run's, unless the step asks for another mode."""
    if mode is None or mode == state.events.mode:
        return state.events
    from .progress import Events

    return Events(mode if mode != "auto" else state.events.mode, state.out, state.console)


def _starting_point(state: RunState, ms: ModelState, fit_args: dict) -> dict:
    """Where training starts (resumed from the checkpoint with --resume), as the interrupt
    handler's snapshot: Ctrl-C before the first epoch ends rolls back to it."""
    resume = state.resume if state.resume and state.resume.get("step") == state.step_index else None
    if resume is not None:
        _check_resume_matches(state, ms, resume)
        _resume_from(state, ms, resume)
        fit_args["initial_epoch"] = resume["epoch"]
    snapshots: dict = {"epoch": fit_args.get("initial_epoch", 0)}
    snapshots["weights"] = [v.numpy().copy() for v in ms.keras_model.weights]
    snapshots["optimizer"] = []
    return snapshots


def _shared_batches(state: RunState, step: CheckedStep, x, y, *, batch: int, shuffle: bool):
    """The batches of a run without tf.data (JAX): one process, or this process's share of a group."""
    from .pipeline import array_batches

    group = state.group
    if group is None:
        return array_batches(x, y, batch_size=batch, shuffle=shuffle, seed=state.data_seed)
    n = group.num_processes  # batch is a multiple of n: the runner refused any other before starting (runner.py)
    if len(x) < batch:
        raise state.error(f"expected at least one full batch of {batch} rows for {n} processes; received {len(x)} rows", step,
                          code="bad-argument", hint="use a smaller batch_size")
    dropped = len(x) % batch
    if dropped:
        state.events.line(f"note: {dropped} of {len(x)} rows do not fill a last batch of {batch} and are left out of each epoch "
                          f"(every process must train the same number of batches); the rows left out change from epoch to epoch"
                          if shuffle
                          else f"note: the last {dropped} of {len(x)} rows do not fill a batch of {batch} and are not trained on "
                          "(every process must train the same number of batches)")
    return array_batches(x, y, batch_size=batch, shuffle=shuffle, seed=state.data_seed, process_id=group.process_id, num_processes=n,
                         drop_remainder=True)


def _checkpoint_and_stop(state: RunState, step: CheckedStep, ms: ModelState, snapshots: dict, epochs: int) -> None:
    """Ctrl-C: roll back to the last completed epoch, write the resume checkpoint, stop the run."""
    from . import interrupt

    interrupt.restore(ms.keras_model, snapshots)
    done = snapshots["epoch"]
    history = {k: v[:done] for k, v in ms.history.items()}
    ms.history = history
    path = interrupt.checkpoint_path(state.nn_file)
    meta = {
        "resume": {
            "step": state.step_index, "model": ms.name, "epoch": done, "epochs": epochs, "history": history,
            "epoch_seconds": ms.epoch_seconds[:done],
            "feature_scaler": ms.feature_scaler.record() if ms.feature_scaler is not None else None,
            "target_scaler": ms.target_scaler.record() if ms.target_scaler is not None else None,
            "fingerprint": interrupt.fingerprint(ms.checked, getattr(state.data(step.on), "fingerprint", None)),
        },
        **_model_meta(ms),
    }
    if state.chief:
        try:
            with atomic_path(path) as tmp, serializing_without_tensorflow():
                ms.keras_model.save(tmp)
                add_to_archive(tmp, meta)
        except OSError as exc:  # a full disk: the atomic write left nothing half-written behind
            raise interrupt.Interrupted(
                f"interrupted: model '{ms.name}' completed {done} of {epochs} epochs, but the checkpoint could not be written to "
                f"{path.name} ({exc.strerror or exc}); those epochs are lost, and an earlier checkpoint, if any, is unchanged\n"
                f"to start again: nndsl run {state.nn_file.name}") from None
    else:
        _save_elsewhere(ms.keras_model, "keras", path)
    if state.group is not None:
        state.barrier("the resume checkpoint")
        if not state.chief:
            raise interrupt.Interrupted(f"interrupted: process {state.group.process_id} stopped with the group after epoch {done}")
    raise interrupt.Interrupted(
        f"interrupted: model '{ms.name}' completed {done} of {epochs} epochs; saved them with the optimizer state to "
        f"{path.name}\nto continue: nndsl run {state.nn_file.name} --resume"
    )


def _check_resume_matches(state: RunState, ms: ModelState, resume: dict) -> None:
    """The checkpoint belongs to this program: same model, layers, compile settings and data."""
    from . import interrupt

    step = state.checked.steps[state.step_index]
    current = interrupt.fingerprint(ms.checked, getattr(state.data(step.on), "fingerprint", None))
    changed = [] if resume.get("model") == ms.name else ["the model it trains"]
    changed += [interrupt.FINGERPRINT_PARTS[p] for p in interrupt.changed_parts(resume.get("fingerprint"), current)]
    if changed:
        from ..errors import UsageError

        ckpt = Path(resume["path"]).name
        raise UsageError(
            f"--resume: expected the program that {ckpt} was written by; received one whose model '{ms.name}' (line "
            f"{step.node.span.line}) differs in {', '.join(changed)}; run without --resume to train from the start (the next "
            f"Ctrl-C replaces {ckpt}), or undo the change")


def _resume_from(state: RunState, ms: ModelState, resume: dict) -> None:
    import keras

    from .preprocess import Scaler
    from .units import register

    register()  # the checkpoint's metrics may compute in raw units
    with state.scope():
        try:
            ms.keras_model = load_without_tensorflow(lambda: keras.models.load_model(resume["path"], safe_mode=True))
        except Exception as exc:  # truncated or corrupt: Keras raises whatever its reader meets
            from ..errors import UsageError

            name = Path(resume["path"]).name
            raise UsageError(f"--resume: expected a checkpoint Keras can load; received {name}, which it cannot ({_short(exc)}); "
                             "run without --resume to train from the start") from None
    ms.history = {k: list(v) for k, v in resume["history"].items()}
    ms.epoch_seconds[:] = list(resume.get("epoch_seconds", []))
    for attr in ("feature_scaler", "target_scaler"):
        rec = resume.get(attr)
        setattr(ms, attr, Scaler.from_record(rec) if rec else None)
    if resume.get("table"):
        from ..data.schema import TableSchema

        ms.schema = TableSchema.from_dict(resume["table"])
    ms.target_names = resume.get("target_names") or ms.target_names
    ms.feature_names = resume.get("feature_names") or ms.feature_names
    ms._export = None
    state.events.line(f"resuming model '{ms.name}' after epoch {resume['epoch']} of {resume['epochs']}")


def _default_steps_per_execution(ms: ModelState, data) -> None:
    """Unless the model sets ``steps_per_execution``, run a whole small epoch (or 128 batches) per
    compiled call: measured about 3x faster per epoch than one batch per call on the sales model.
    One more than the epoch's batch count lets a single call drain the epoch."""
    if ms.checked is not None and "steps_per_execution" in ms.checked.compile:
        return
    batches = int(data.cardinality())
    if batches <= 0:  # unknown or infinite: leave Keras's default
        return
    k = min(batches + 1, MAX_STEPS_PER_EXECUTION)
    km = ms.keras_model
    if km.steps_per_execution != k:
        km.steps_per_execution = k
        km.train_function = km.test_function = None


class _LossWatch:
    """Stops training at the first batch whose loss is NaN or infinite, and remembers where;
    times each epoch for the run record."""

    def __init__(self, seconds: list | None = None) -> None:
        self.bad = None
        self.epoch = 0
        self.seconds = seconds if seconds is not None else []
        self.started = 0.0

    def callback(self):
        import keras

        watch = self

        class LossWatch(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                watch.epoch = epoch + 1
                watch.started = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                watch.seconds.append(round(time.perf_counter() - watch.started, 6))

            def on_train_batch_end(self, batch, logs=None):
                loss = (logs or {}).get("loss")
                if loss is not None and not math.isfinite(float(loss)):
                    watch.bad = (watch.epoch, batch + 1, float(loss))
                    self.model.stop_training = True

        return LossWatch()


def _model_and_data(state: RunState, step: CheckedStep):
    """The model a step acts on, and its data, encoded as the model expects."""
    ms = state.model(step.target)
    ds = state.data(step.on)
    if ds.tf_dataset is None:
        ds = _by_name(state, step, ms, ds)
        ds = _encoded(state, ms, ds)
    return ms, ds


def _validation_data(state: RunState, step: CheckedStep, ms: ModelState, ref):
    """The ``validation_data`` source, its columns picked by name and encoded; a source of the
    wrong width is blamed where the option names it, not on the training data."""
    node = next((k.value for k in step.node.kwargs if k.name == "validation_data"), None)
    span = node.span if node is not None else step.node.span
    vds = _encoded(state, ms, _by_name(state, step, ms, state.data(ref), ref=ref, span=span))
    want = tuple(ms.keras_model.input_shape[1:])
    got = _feature_shape(vds) if vds.x is not None or vds.streamed else ()
    if (vds.x is not None or vds.streamed) and (len(want) != len(got) or any(w is not None and w != g for w, g in zip(want, got))):
        detail = f"{got[0]} feature columns" if len(got) == 1 else f"rows of shape {got}"
        raise state.error(f"expected validation data with input shape {want} for model '{ms.name}'; received {detail} from '{ref}'",
                          step, code="data-shape", span=span, notes=_model_note(ms) + _data_note(state, ref))
    return vds


def _by_name(state: RunState, step: CheckedStep, ms: ModelState, ds, *, ref=None, span=None):
    """``ds`` with its feature columns picked by the names the model was trained on, in that order."""
    from .predictions import by_name

    key = (ms.name, id(ds))
    if key in state.by_name:
        return state.by_name[key]
    picked, missing, extra = by_name(ds, ms.feature_names)
    if missing:
        ref = step.on if ref is None else ref
        raise state.error(f"expected the feature column '{missing[0]}' model '{ms.name}' was trained on; received data without it",
                          step, code="missing-column", span=span or _on_span(step), notes=_model_note(ms) + _data_note(state, ref),
                          hint=f"the model's feature columns are: {', '.join(ms.feature_names)}")
    if extra:  # said once: the picked data set is kept for the next step
        state.events.note(f"note: '{ds.name}' has columns model '{ms.name}' was not trained on, left out: {', '.join(extra)}")
    state.by_name[key] = picked
    return picked


def test(state: RunState, step: CheckedStep) -> None:
    ms, ds = _model_and_data(state, step)
    model = ms.export_model()
    failures: list = []
    if ds.tf_dataset is not None:
        results = model.evaluate(ds.tf_dataset.batch(batch_size_of(step.kwargs)), verbose=0, return_dict=True)
    elif ds.streamed:
        from .pipeline import table_stream_dataset

        if state.group is not None:
            raise state.error(f"expected in-memory data to test on in a multi-process run; received '{step.on}', a table over "
                              "the memory budget streamed in record batches", step, code="unsupported-option",
                              span=_on_span(step), hint="raise the memory budget (nndsl run --memory-budget 8GB)")
        _check_streamed_targets(state, step, ms, ds)
        data, found = table_stream_dataset(ds.stream, batch_size=step.kwargs.get("batch_size") or PREDICT_BATCH, shuffle=False,
                                           seed=None)
        failures.append(found)
        args = {k: step.kwargs[k] for k in ("steps",) if step.kwargs.get(k) is not None}
        with _raising(failures):
            results = model.evaluate(data, verbose=0, return_dict=True, **args)
        ds = replace(ds, tf_dataset=data.unbatch())  # the evaluation reads it once more, batch by batch
    else:
        x, y = _xy(state, step, ms, ds, raw_target=True)
        args = {k: step.kwargs[k] for k in ("batch_size", "steps") if step.kwargs.get(k) is not None}
        callbacks = [state.watchdog.callback()] if state.watchdog is not None else []
        with state.watching(f"testing model '{ms.name}'"):
            results = model.evaluate(x, y, verbose=0, return_dict=True, callbacks=callbacks, **args)
    results = {k: float(v) for k, v in results.items()}
    state.results[f"{ms.name}:{step.on}"] = results
    state.events.emit("test", model=ms.name, data=str(step.on), **results)
    state.record.add_step(step="test", model=ms.name, data=str(step.on), metrics=results)
    from .evaluation import evaluate_step

    with _raising(failures):
        state.evaluations[f"{ms.name}:{step.on}"] = evaluate_step(state, step, ms, model, ds, predict_array)


def output_path(state: RunState, step: CheckedStep, value: str) -> Path:
    """Where a step writes ``value``, checked: a located error when the path cannot be written."""
    span = step.node.to.span if step.node.to is not None else step.node.span
    try:
        return _checked_output_path(state, step, value, span)
    except OSError as exc:  # e.g. a name longer than the file system allows
        raise state.error(f"expected a usable output path; received '{value}' ({exc.strerror or exc})", step,
                          code="bad-output", span=span) from None


def _checked_output_path(state: RunState, step: CheckedStep, value: str, span) -> Path:
    import stat

    from .gate import Refused

    try:
        state.gate.check(value)  # the path rules again: the files may have changed since the check
    except Refused as exc:
        r = exc.refusal
        raise state.error(r.message, step, code=r.code, span=span, hint=r.hint) from None
    target = state.path(value)
    folder = target.parent
    if target.exists() and not target.is_dir() and not stat.S_ISREG(target.stat().st_mode):
        # writes replace the target by renaming a new file over it: never do that to a device
        raise state.error(f"expected a regular file to write; received '{value}', a device or other special file",
                          step, code="bad-output", span=span, hint="write to a file in a folder of your own")
    if not folder.exists():
        raise state.error(f"expected an existing folder for '{value}'; received a folder that does not exist ({folder})", step,
                          code="bad-output", span=span,
                          hint="create the folder first, or write to a path in an existing one")
    if not folder.is_dir():
        raise state.error(f"expected a folder for '{value}'; received a file ({folder})", step, code="bad-output", span=span)
    if target.is_dir():
        raise state.error(f"expected a file path; received a folder ({target})", step, code="bad-output", span=span)
    for ds in state.datasets.values():
        if ds.path is not None and Path(ds.path).resolve() == target.resolve():
            raise state.error(f"expected an output path that is not an input; received '{value}', the file of data source '{ds.name}'",
                              step, code="bad-output", span=span)
    return target


def save(state: RunState, step: CheckedStep) -> None:
    ms = state.model(step.target)
    model = ms.export_model()
    target = output_path(state, step, step.to)
    fmt = step.kwargs.get("format") or ("h5" if target.suffix.lower() in (".h5", ".hdf5") else "export" if target.suffix == "" else "keras")
    span = step.node.to.span if step.node.to is not None else step.node.span
    import importlib.util

    if fmt == "export" and importlib.util.find_spec("tensorflow") is None:  # optional on the JAX backend
        raise state.error("expected TensorFlow to write a serving export (a TensorFlow SavedModel); received an environment without it",
                          step, code="unsupported-option", span=span,
                          hint='install it: pip install "nndsl[keras]", or save to a .keras file')
    if fmt == "keras" and ms.schema is not None:
        model = _table_model(ms, model)
    if not state.chief:
        _save_elsewhere(model, fmt, target)
        return
    try:
        if fmt == "export":
            _export(state, model, target)
            atomic_write_text(sidecar(target), json.dumps({"format_version": 1, **_model_meta(ms)}, indent=1))
        else:
            if fmt == "keras" and target.suffix != ".keras":
                raise state.error(f"expected a path ending in .keras for the Keras format; received '{step.to}'", step,
                                  code="bad-output", span=span,
                                  hint='write to "model.keras", or "model.h5" for the legacy format')
            meta = _model_meta(ms)
            with atomic_path(target) as tmp, serializing_without_tensorflow():
                model.save(tmp)
                if fmt == "keras":
                    add_to_archive(tmp, meta)
            if fmt == "h5":
                atomic_write_text(sidecar(target), json.dumps({"format_version": 1, **meta}, indent=1))
                state.events.line("note: .h5 is Keras's legacy format; .keras is recommended")
    except OSError as exc:
        raise state.error(f"expected to write '{step.to}'; received {exc.strerror or exc}", step, code="write-failed", span=span,
                          hint="check the folder's permissions and free space; the previous file, if any, is unchanged") from None
    state.saved_targets[str(target.resolve())] = list(ms.target_names)
    state.events.line(f"saved {ms.name} to {step.to}")
    state.events.emit("saved", model=ms.name, path=str(target))
    state.record.add_step(step="save", model=ms.name, path=str(step.to))


def _table_model(ms: ModelState, core):
    """The model as a .keras file holds it: raw rows in, as a dict of named columns (see
    :mod:`nndsl.run.tablemodel`), compiled as the core is so that it can be evaluated as loaded."""
    from .tablemodel import wrap

    model = wrap(core, ms.schema, name=f"{core.name}_table")
    if ms.checked is not None and ms.checked.compile.get("loss") is not None:
        from ..compile.keras import compile_arguments

        model.compile(**compile_arguments(ms.checked))
        # An optimizer of its own, built for the weights and holding the trained optimizer's state
        # (the same weights are trained): the file keeps that state, as a Sequential's would.
        # Sharing the trained optimizer object would save its variables under the inner model,
        # which Keras does not compile on loading, and warn that they are missing.
        model.optimizer.build(model.trainable_variables)
        trained = getattr(ms.keras_model, "optimizer", None)
        if trained is not None and trained.built and _same_shapes(trained.variables, model.optimizer.variables):
            for mine, theirs in zip(model.optimizer.variables, trained.variables):
                mine.assign(theirs)
    return model


def _same_shapes(a, b) -> bool:
    return len(a) == len(b) and all(tuple(x.shape) == tuple(y.shape) for x, y in zip(a, b))


def _save_elsewhere(model, fmt: str, target: Path) -> None:
    """What a process other than process 0 does for a save: the same Keras calls (reading shared
    weights is collective, so every process must make them), into a folder thrown away after."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="nndsl-") as folder:
        if fmt == "export":
            import_tensorflow_quietly()
            model.export(str(Path(folder) / "export"), verbose=False)
        else:
            with serializing_without_tensorflow():
                model.save(str(Path(folder) / target.name))


def _model_meta(ms: ModelState) -> dict:
    meta = {"target_names": list(ms.target_names)}
    if ms.schema is not None:
        meta["table"] = ms.schema.to_dict()
        meta["core"] = ms.export_model().name  # the layer of the saved model that is the .nn model
    if ms.feature_names:
        meta["feature_names"] = list(ms.feature_names)  # so `nndsl predict` picks them out of a wider table
    classes = ms.schema.classes if ms.schema is not None else ms.class_names
    if classes:
        meta["class_names"] = list(classes)
    return meta


def _export(state, model, target: Path) -> None:
    import os
    import shutil
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        shutil.rmtree(tmp)
        model.export(str(tmp), verbose=False)
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def load(state: RunState, step: CheckedStep) -> None:
    import keras

    source = state.path(step.from_)
    span = step.node.from_.span if step.node.from_ is not None else step.node.span
    if not source.exists():
        raise state.error(f"expected an existing model file; received '{step.from_}', which does not exist", step,
                          code="bad-model-file", span=span)
    if source.is_dir() and not (source / "saved_model.pb").exists():
        raise state.error("expected a .keras or .h5 model file; received a folder", step, code="bad-model-file", span=span)
    if source.is_dir():
        raise state.error("expected a .keras or .h5 model file; received a serving export (load it with TensorFlow's saved_model API)",
                          step,
                          code="bad-model-file", span=span)
    try:
        meta = read_checked(source)
    except BadMeta as exc:
        raise state.error(exc.refusal(), step, code="bad-model-file", span=span, hint=exc.hint) from None
    import_plugin_objects()
    try:
        with state.scope():
            model = load_without_tensorflow(lambda: keras.models.load_model(source, safe_mode=True))
    except Exception as exc:  # Keras raises many types for a bad file; all mean "not a loadable model"
        saved_by = _newer_keras(source, keras.__version__)
        if saved_by is not None:
            raise state.error(f"expected a model saved by Keras {keras.__version__} or older; received one saved by Keras {saved_by}, "
                              f"which this Keras cannot load ({type(exc).__name__}: {_short(exc)})", step, code="bad-model-file", span=span,
                              hint=f"install Keras {saved_by} or later, or save the model again with Keras {keras.__version__}") from None
        raise state.error(f"expected a Keras model file; received a file Keras cannot load ({type(exc).__name__}: {_short(exc)})", step,
                          code="bad-model-file", span=span,
                          hint="the file may be truncated, corrupted, not a model, or saved by a newer Keras") from None
    ms = state.model(step.target)
    ms.keras_model = _core_of_loaded(model, meta)
    ms._export = None
    ms.feature_scaler = ms.target_scaler = None
    ms.loaded = ms.trained = True
    # The table's encoding and target names saved with the model (or earlier in this run).
    from ..data.schema import from_meta

    ms.schema = from_meta(meta)
    ms.target_names = meta.get("target_names") or state.saved_targets.get(str(source.resolve()), [])
    ms.feature_names = meta.get("feature_names") or []
    ms.class_names = meta.get("class_names") or []
    state.record.add_step(step="load", model=ms.name, path=str(step.from_))


def _core_of_loaded(model, meta: dict):
    """The ``Sequential`` a saved table model wraps, compiled as the file's model is; nndsl encodes
    rows itself (with located errors), so a run trains and predicts on the core."""
    if not meta.get("table"):
        return model
    from .tablemodel import core_of

    core = core_of(model)
    if core is not model:
        with serializing_without_tensorflow():
            config = model.get_compile_config()
        if config:
            core.compile_from_config(config)
    return core


def _newer_keras(source: Path, installed: str) -> str | None:
    """The Keras version a ``.keras`` archive says it was saved by, when newer than ``installed``."""
    import re
    import zipfile

    def release(version: str) -> tuple:
        """(3, 16, 0) for "3.16.0rc1": the leading numbers only."""
        leading = re.match(r"\d+(?:\.\d+)*", version)
        return tuple(int(n) for n in leading.group().split(".")) if leading else ()

    try:
        with zipfile.ZipFile(source) as archive:
            saved = str(json.loads(archive.read("metadata.json")).get("keras_version", ""))
    except Exception:  # not a readable archive, or no usable metadata: nothing to say
        return None
    return saved if release(saved) > release(installed) else None


def import_plugin_objects() -> None:
    """Import the code of plugin layers and activations so Keras finds their registered classes."""
    from ..plugins.registry import registry
    from ..plugins.spec import load_impl

    for kind in ("layers", "activations", "losses", "metrics", "initializers", "regularizers", "constraints"):
        for entry in registry(kind).entries():
            if entry.origin == "nndsl":
                continue
            try:
                load_impl(registry(kind).get(entry.name).impl)
            except Exception:  # a broken plugin only matters to programs that use it
                continue


def _short(exc) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else "")[:200]


def predict_array(model, x, batch_size: int | None = None):
    """Predictions with large batches, and a single call for tiny inputs."""
    if batch_size is None and len(x) <= SMALL_INPUT:
        import numpy as np

        return np.asarray(model.predict_on_batch(x))
    return model.predict(x, batch_size=batch_size or PREDICT_BATCH, verbose=0)


def predict(state: RunState, step: CheckedStep) -> None:
    import numpy as np

    ms, ds = _model_and_data(state, step)
    model = ms.export_model()
    if state.group is not None:
        from .distributed import local_copy

        model = local_copy(model)  # process 0 predicts alone, on its own copy of the weights
    if ds.streamed:
        _predict_streamed(state, step, ms, ds, model)
        return
    if ds.tf_dataset is not None:
        preds = model.predict(ds.tf_dataset.batch(PREDICT_BATCH), verbose=0)
    else:
        _check_features(state, step, ms, ds)
        preds = predict_array(model, ds.x, step.kwargs.get("batch_size"))
    preds = np.asarray(preds)
    if not state.chief:
        return  # process 0 writes or shows the predictions
    flat = preds.reshape(len(preds), -1)
    keep = step.kwargs.get("keep")
    keep = [keep] if isinstance(keep, str) else list(keep or [])
    col = unknown_column(ds, keep)
    if col is not None:
        raise state.error(f"expected a column of '{step.on}' to keep; received '{col}'", step, code="unknown-column",
                          hint=f"the columns are: {', '.join(ds.all_columns())}" if ds.all_columns() else None)
    keep = identifying_columns(ds, keep)
    names, labels, values = outputs(flat, target_names=ms.target_names or (), column=step.kwargs.get("column"),
                                    class_names=ms.class_names, classes=ms.schema.classes if ms.schema is not None else (),
                                    probabilities=bool(step.kwargs.get("probabilities")), keep=keep)
    if step.to is None:
        _print_predictions(state, ds, keep, names, values, step.kwargs.get("rows") or 10, labels)
    else:
        target = output_path(state, step, step.to)
        span = step.node.to.span
        if target.suffix.lower() not in (".npy", ".csv", ".txt", ""):
            raise state.error(f"expected a .csv or .npy path for predictions; received '{step.to}'", step, code="bad-output", span=span)
        try:
            write_predictions(target, ds, keep, names, preds, labels, values)
        except OSError as exc:
            raise state.error(f"expected to write '{step.to}'; received {exc.strerror or exc}", step,
                              code="write-failed", span=span) from None
        state.events.line(f"wrote {count(len(flat))} to {step.to}")
        state.events.emit("predictions_written", model=ms.name, path=str(target), rows=int(len(flat)))
    state.record.add_step(step="predict", model=ms.name, data=str(step.on), rows=int(len(flat)), path=step.to)


def _predict_streamed(state: RunState, step: CheckedStep, ms: ModelState, ds, model) -> None:
    """Predictions on a table over the memory budget, batch by batch: written to the file as they
    come (which replaces the old one only when all are written), or the first rows shown."""
    import numpy as np

    from .predictions import IncrementalWriter

    _check_features(state, step, ms, ds)
    if not state.chief:
        return  # process 0 predicts alone (on its own copy of the weights) and writes or shows the predictions
    table = ds.stream
    keep = step.kwargs.get("keep")
    keep = [keep] if isinstance(keep, str) else list(keep or [])
    header = list(table.roles.header)
    col = next((c for c in keep if c not in header), None)
    if col is not None:
        raise state.error(f"expected a column of '{step.on}' to keep; received '{col}'", step, code="unknown-column",
                          hint=f"the columns are: {', '.join(header)}")
    keep = [c for c in table.roles.ids if c not in keep] + keep
    classes = ms.schema.classes if ms.schema is not None else ()

    def outputs_of(x):
        preds = np.asarray(predict_array(model, x, step.kwargs.get("batch_size") or PREDICT_BATCH))
        flat = preds.reshape(len(preds), -1)
        names, labels, values = outputs(flat, target_names=ms.target_names or (), column=step.kwargs.get("column"),
                                        class_names=ms.class_names, classes=classes,
                                        probabilities=bool(step.kwargs.get("probabilities")), keep=keep)
        return preds, names, labels, values

    if step.to is None:
        rows = step.kwargs.get("rows") or 10
        for x, _, raw in table.arrays(with_targets=False):
            _, names, labels, values = outputs_of(x[:rows])
            _print_predictions(state, raw, keep, names, values, rows, labels, total=table.rows)
            break
        state.record.add_step(step="predict", model=ms.name, data=str(step.on), rows=int(table.rows), path=None)
        return
    target = output_path(state, step, step.to)
    span = step.node.to.span
    if target.suffix.lower() not in (".npy", ".csv", ".txt", ""):
        raise state.error(f"expected a .csv or .npy path for predictions; received '{step.to}'", step, code="bad-output", span=span)
    try:
        with IncrementalWriter(target, table.rows) as out:
            for x, _, raw in table.arrays(with_targets=False):
                preds, names, labels, values = outputs_of(x)
                out.add(raw, keep, names, preds, labels, values)
    except OSError as exc:
        raise state.error(f"expected to write '{step.to}'; received {exc.strerror or exc}", step,
                          code="write-failed", span=span) from None
    state.events.line(f"wrote {count(out.written)} to {step.to}")
    state.events.emit("predictions_written", model=ms.name, path=str(target), rows=int(out.written))
    state.record.add_step(step="predict", model=ms.name, data=str(step.on), rows=int(out.written), path=step.to)


def _print_predictions(state, ds, keep, names, flat, rows: int, labels=None, total: int | None = None) -> None:
    shown = shown_rows(ds, keep, flat, rows, labels)
    total = len(flat) if total is None else total
    if state.events.mode == "json":  # stdout holds JSON objects only: the table is an event
        state.events.emit("predictions", data=ds.name, columns=keep + names, rows=shown, total=total)
        return
    if state.console is not None:
        from rich.table import Table

        t = Table(title=f"predictions ({total} rows)")
        for c in keep + names:
            t.add_column(c)
        for row in shown:
            t.add_row(*row)
        state.console.print(t)
        return
    state.out.write(",".join(keep + names) + "\n")
    for row in shown:
        state.out.write(",".join(row) + "\n")


def summary(state: RunState, step: CheckedStep) -> None:
    from .summary import print_summary

    ms = state.model(step.target)
    if state.events.mode == "json":  # stdout holds JSON objects only: the table is an event
        from .summary import summary_rows

        columns, rows, total = summary_rows(state.checked, ms.name, keras_model=ms.keras_model)
        state.events.emit("summary", model=ms.name, columns=list(columns), rows=[list(r) for r in rows], total=total)
        return
    print_summary(state.checked, ms.name, out=state.out, console=state.console, keras_model=ms.keras_model)
