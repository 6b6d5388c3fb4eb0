"""``nndsl summary``: layers, output shapes and parameter counts, from static inference or the built model."""

from __future__ import annotations

from typing import TextIO

from ..semantics.check import CheckedProgram


def rows_static(checked: CheckedProgram, name: str):
    from ..semantics.shapes import format_shape

    model = checked.models[name]
    out = []
    for rl in model.resolved:
        shape = format_shape(rl.output_shape) if rl.output_shape is not None else "unknown until built"
        params = "?" if rl.params is None else f"{rl.params:,}"
        out.append((rl.name, f"line {rl.layer.call.span.line}", shape, params))
    total = None if any(rl.params is None for rl in model.resolved) else sum(rl.params for rl in model.resolved)
    scaling = _feature_scaling(model)
    if scaling is not None:
        # the Normalization that `scale_features` puts after the input, as the built model has it
        at = 1 if model.resolved[0].name in ("Input", "InputLayer") else 0
        layer, where, shape, params = scaling
        out.insert(at, (layer, where, format_shape(shape), "?" if params is None else f"{params:,}"))
        total = None if total is None or params is None else total + params
    return out, total


def _feature_scaling(model):
    """The row of the scaling layer ``scale_features`` adds, or None without scaling."""
    from ..semantics.shapes import count_params

    if model.options.scale_features == "none" or not model.resolved:
        return None
    first = model.resolved[0]
    shape = first.output_shape if first.name in ("Input", "InputLayer") else first.input_shape
    params = None if shape is None else count_params("Normalization", {}, shape, shape)
    return "Normalization", f"scale_features {model.options.scale_features}", shape, params


def rows_keras(km):
    out = []
    for layer in km.layers:
        try:
            shape = str(tuple(layer.output.shape))
        except Exception:
            shape = "?"
        out.append((type(layer).__name__, layer.name, shape, f"{layer.count_params():,}"))
    return out, km.count_params()


def summary_rows(checked: CheckedProgram, name: str, *, keras_model=None) -> tuple[tuple, list, int | None]:
    """The summary's column names, rows (text) and total parameter count (None until built)."""
    if keras_model is not None:
        rows, total = rows_keras(keras_model)
        return ("layer", "name", "output shape", "parameters"), rows, total
    rows, total = rows_static(checked, name)
    return ("layer", "where", "output shape", "parameters"), rows, total


def print_summary(checked: CheckedProgram, name: str, *, out: TextIO, console=None, keras_model=None) -> None:
    cols, rows, total = summary_rows(checked, name, keras_model=keras_model)
    title = f"model {name} (built)" if keras_model is not None else f"model {name}"
    if console is None:
        from rich.console import Console

        console = Console(file=out, highlight=False)
    from rich.table import Table

    t = Table(title=title)
    for c in cols:
        t.add_column(c, justify="right" if c == "parameters" else "left")
    for r in rows:
        t.add_row(*r)
    console.print(t)
    console.print(f"total parameters: {'unknown until built' if total is None else f'{total:,}'}", highlight=False)
