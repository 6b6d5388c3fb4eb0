"""A table as a model takes it: the schema fitted on the training data, and every data set the
model sees encoded with it (:mod:`nndsl.data.schema`), with the class count checked against
the model's last layer and loss.
"""

from __future__ import annotations

from typing import Any

from ..errors import Note


def is_table(ds) -> bool:
    """Whether ``ds`` came from a table source (csv, parquet, json), whose columns have names and roles."""
    return bool(getattr(ds, "table", False))


def loss_name(ms) -> str:
    """The model's loss as written: ``sparse_categorical_crossentropy``, ``BinaryCrossentropy``, or ''."""
    from ..data.classes import loss_name as written

    return written(ms.checked)


def loss_kind(ms) -> str | None:
    from ..data.classes import loss_kind as kind

    return kind(ms.checked)


def failure(state, ds) -> Any:
    """``fail(message, row=None, column=None, hint=None)``: a data error located in ``ds``'s file."""
    from ..data.check import failure as located

    decl = state.checked.data[ds.name].decl if ds.name in state.checked.data else None
    return located(ds, decl, state.source)


def fit_schema(state, ms, ds) -> None:
    """Fit the model's table schema on its training data ``ds``, say what was filled, record it."""
    from ..data.missing import filled_line
    from ..data.schema import fit

    ms.schema = fit(ds, loss_kind=loss_kind(ms), fail=failure(state, ds))
    state.record.data["preprocessing"].setdefault(ms.name, {})["table"] = ms.schema.to_dict()
    line = filled_line(ds, ms.schema.fitted)
    if line:
        state.events.line(f"{line}, fitted on model '{ms.name}''s training data")


def encoded(state, ms, ds):
    """``ds`` encoded as model ``ms`` takes it (its schema fitted on first use: the training data)."""
    if not is_table(ds) or ds.encoded:
        return ds
    from ..data.missing import filled_line
    from ..data.schema import encode

    first = ms.schema is None
    if first:
        fit_schema(state, ms, ds)
    cache = state.encoded.setdefault(ms.name, {})
    if id(ds) not in cache:
        if not first:
            line = filled_line(ds, {f.name: f.fill for f in ms.schema.features})
            if line:
                state.events.line(f"{line}, with model '{ms.name}''s training values")
        # the data set is kept beside its encoding, so that its id is not reused while cached
        cache[id(ds)] = (ds, encode(ds, ms.schema, failure(state, ds)) if not ds.streamed else _encoded_stream(state, ms, ds))
    return cache[id(ds)][1]


def _encoded_stream(state, ms, ds):
    """A streamed table whose batches come encoded with the model's schema (read as it trains)."""
    from dataclasses import replace

    schema = ms.schema
    if ds.labels and not schema.classes:
        raise failure(state, ds)(f"expected numbers in the target column '{ds.labels[0]}'; received text class labels",
                                 column=ds.labels[0])
    return replace(ds, feature_names=schema.encoded_names(), categorical=[], labels=[], encoded=True,
                   class_names=list(schema.classes) or ds.class_names, stream=ds.stream.encoded_with(schema))


def check_classes(state, step, ms) -> None:
    """The class count of the training data against the model's last layer and loss: a located
    error at the last layer (``Dense(1, sigmoid)`` for three classes) or at the loss."""
    from ..data.classes import class_problem, loss_span

    if ms.schema is None or not ms.schema.targets or ms.checked is None:
        return
    target = ms.schema.targets[0]
    units = ms.keras_model.output_shape[-1] if ms.keras_model is not None else None
    problem = class_problem(target.name, ms.schema.classes, loss_name(ms), units)
    if problem is None:
        return
    last = ms.checked.resolved[-1].layer.call if ms.checked.resolved else None
    span = last.span if last is not None else step.node.span
    notes = [Note(f"model '{ms.name}' is defined here", ms.checked.decl.name_span)]
    raise state.error(problem.message, step, code="class-count", span=(loss_span(ms.checked) or span) if problem.at_loss else span,
                      notes=notes, hint=problem.hint)
