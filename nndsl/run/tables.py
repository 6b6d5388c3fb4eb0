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
    loss = ms.checked.compile.get("loss") if ms.checked is not None else None
    if loss is None:
        return ""
    return str(getattr(loss, "name", None) or getattr(getattr(loss, "spec", None), "name", None) or loss)


def loss_kind(ms) -> str | None:
    from ..data.schema import CLASS_LOSSES

    return CLASS_LOSSES.get(loss_name(ms))


def failure(state, ds) -> Any:
    """``fail(message, row=None, column=None, hint=None)``: a data error located in ``ds``'s file."""
    from ..data.table import data_error

    decl = state.checked.data[ds.name].decl if ds.name in state.checked.data else None
    shown = ds.path.name if ds.path is not None else ds.name
    first_row = 2 if ds.path is not None and ds.path.suffix.lower() == ".csv" else 1

    def fail(message: str, row: int | None = None, column: str | None = None, hint: str | None = None) -> Exception:
        where = shown
        if row is not None:
            where += f":row {row + first_row}" + (f", column '{column}'" if column else "")
        elif column is not None:
            where += f":column '{column}'"
        return data_error(message, where=where, hint=hint, decl=decl, source=state.source)

    return fail


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
        cache[id(ds)] = (ds, encode(ds, ms.schema, failure(state, ds)))
    return cache[id(ds)][1]


def check_classes(state, step, ms) -> None:
    """The class count of the training data against the model's last layer and loss: a located
    error at the last layer (``Dense(1, sigmoid)`` for three classes) or at the loss."""
    if ms.schema is None or not ms.schema.targets or ms.checked is None:
        return
    classes = ms.schema.classes
    target = ms.schema.targets[0]
    kind = loss_kind(ms)
    units = ms.keras_model.output_shape[-1] if ms.keras_model is not None else None
    last = ms.checked.resolved[-1].layer.call if ms.checked.resolved else None
    span = last.span if last is not None else step.node.span
    notes = [Note(f"model '{ms.name}' is defined here", ms.checked.decl.name_span)]
    loss = loss_name(ms)
    if not classes:
        return
    n = len(classes)
    listed = ", ".join(classes[:6]) + (", ..." if n > 6 else "")
    if kind is None:
        raise state.error(f"expected a classification loss for the {n} classes of target '{target.name}' ({listed}); "
                          f"received loss {loss or 'none'}", step, code="class-count", span=_loss_span(ms) or span, notes=notes,
                          hint="sparse_categorical_crossentropy with a softmax layer of one unit per class"
                          + ("; binary_crossentropy with Dense(1, activation=sigmoid) for two" if n == 2 else ""))
    if kind == "binary":
        if n != 2 or units != 1:
            want = "a last layer of 1 unit" if n == 2 else "2 classes" if units == 1 else "2 classes and a last layer of 1 unit"
            raise state.error(f"expected {want} for loss {loss}; received {n} classes ({listed}) and a last layer of {units} "
                              f"unit{'s' if units != 1 else ''}", step, code="class-count", span=span, notes=notes,
                              hint=f"for {n} classes: Dense({n}, activation=softmax) with loss sparse_categorical_crossentropy"
                              if n != 2 else "Dense(1, activation=sigmoid)")
        return
    if units != n:
        raise state.error(f"expected a last layer of {n} units for the {n} classes of target '{target.name}' ({listed}); "
                          f"received {units}", step, code="class-count", span=span, notes=notes,
                          hint=f"Dense({n}, activation=softmax)" if n > 2 else
                          "Dense(2, activation=softmax), or Dense(1, activation=sigmoid) with loss binary_crossentropy")


def _loss_span(ms):
    node = getattr(ms.checked, "decl", None)
    for prop in getattr(node, "properties", None) or ():
        if getattr(prop, "name", None) == "loss":
            return prop.span
    return None
