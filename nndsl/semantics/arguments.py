"""Argument values that fit their type but not their meaning, found before anything runs.

The type check (``positive_int``, ``dict``...) lets through values Keras or the data loaders
would only refuse later, with a traceback: a ``color_mode`` that is not one of its choices, a
batch size past what a tensor dimension holds, an ``initial_epoch`` not below ``epochs``, a
``class_weight`` that is not numbers, a CSV ``id`` column that is also the target. This pass
reports each at its argument.
"""

from __future__ import annotations

import math

from .. import ast
from ..errors import Note
from .context import Context, hint_for
from .evaluate import describe_value, is_number
from .result import CheckedData
from .values import Symbol

MAX_BATCH = 2**31 - 1  # a batch is one dimension of a tensor: Keras indexes it with 32-bit integers
_BATCH_OPTIONS = ("batch_size", "validation_batch_size")


def _arg_node(call: ast.Call | None, name: str, params):
    """The node of argument ``name`` of ``call`` (by keyword or by position), or None."""
    if call is None:
        return None
    for k in call.kwargs:
        if k.name == name:
            return k.value
    names = [p.name for p in params]
    if name in names and names.index(name) < len(call.args):
        return call.args[names.index(name)]
    return None


def _span(call, name, params):
    node = _arg_node(call, name, params)
    return node.span if node is not None else (call.span if call is not None else None)


def check_argument_values(ctx: Context) -> None:
    """Choices, ranges and contradictions of data source arguments and step options."""
    for data in ctx.data.values():
        _check_data(ctx, data)
    for step in ctx.steps:
        for value in [step.on, *step.kwargs.values()]:
            if isinstance(value, CheckedData):
                _check_data(ctx, value)
        _check_step(ctx, step)


def _choices(ctx: Context, call, spec, args: dict) -> None:
    for p in spec.params:
        if not getattr(p, "choices", ()) or p.name not in args or args[p.name] is None:
            continue
        value = args[p.name]
        if str(value) not in p.choices:
            ctx.error("bad-argument-type", f"expected one of {', '.join(p.choices)} for '{p.name}'; received {describe_value(value)}",
                      _span(call, p.name, spec.params), hint=hint_for(str(value), p.choices))


def _names(value) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]


_TEXT_HINTS = {
    "numeric": "text= reads a column as categories of text; numeric= as numbers: name it in one of them",
    "exclude": "an excluded column is left out of the features; text= makes it one: name it in one of them",
    "target": "a target of class labels is read as text already: leave it out of text=",
    "id": "an id column is copied as text already, and kept out of the features: leave it out of text=",
}


def _check_data(ctx: Context, data: CheckedData) -> None:
    call, spec, args = data.decl.source, data.spec, data.args
    _choices(ctx, call, spec, args)
    size = args.get("image_size")
    if "image_size" in args and size is not None and not (
            isinstance(size, tuple) and len(size) == 2 and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)):
        ctx.error("bad-argument-type",
                  f"expected a (height, width) pair of positive integers for 'image_size'; received {describe_value(size)}",
                  _span(call, "image_size", spec.params))
    # A column is the target, an id or a feature: one role each (csv and sources with the same arguments).
    targets = _names(args.get("target"))
    for option in ("id", "features"):
        for column in _names(args.get(option)):
            if column in targets:
                ctx.error("conflicting-arguments", f"expected '{option}' to name columns other than the target; received '{column}', "
                          "the target", _span(call, option, spec.params),
                          notes=[Note(f"'{column}' is the target here", _span(call, "target", spec.params))],
                          hint="the target is predicted, not read as a feature or copied as an id")
    ids = set(_names(args.get("id")))
    for column in _names(args.get("features")):
        if column in ids:
            ctx.error("conflicting-arguments", f"expected 'features' to name columns other than the ids; received '{column}', an id",
                      _span(call, "features", spec.params), hint="an id column identifies a row; it is kept out of the features")
    # A text= column is a feature of categories as written: not a number, nor a column left out.
    for column in _names(args.get("text")):
        other = next((o for o in ("numeric", "exclude", "target", "id") if column in _names(args.get(o))), None)
        if other is not None:
            ctx.error("conflicting-arguments", f"expected 'text' to name columns other than those of '{other}'; received '{column}', "
                      f"in both", _span(call, "text", spec.params),
                      notes=[Note(f"'{column}' is named in '{other}' here", _span(call, other, spec.params))],
                      hint=_TEXT_HINTS[other])


def _check_step(ctx: Context, step) -> None:
    node = step.node
    spans = {k.name: k.value.span for k in node.kwargs}
    for option in _BATCH_OPTIONS:
        value = step.kwargs.get(option)
        if isinstance(value, int) and not isinstance(value, bool) and value > MAX_BATCH:
            ctx.error("bad-argument-type", f"expected a batch size of at most {MAX_BATCH:,} rows for '{option}'; received {value:,}",
                      spans.get(option, node.span))
    if "initial_epoch" in step.kwargs and step.spec.param("epochs") is not None:
        first = step.kwargs["initial_epoch"]
        epochs = step.kwargs.get("epochs", step.spec.param("epochs").default)
        if isinstance(first, int) and not isinstance(first, bool):
            if first < 0:
                ctx.error("bad-argument-type", f"expected a non-negative integer for 'initial_epoch'; received {describe_value(first)}",
                          spans.get("initial_epoch", node.span))
            elif isinstance(epochs, int) and first >= epochs:
                ctx.error("conflicting-arguments", f"expected 'initial_epoch' below 'epochs' ({epochs}); received {first}",
                          spans.get("initial_epoch", node.span),
                          hint="epochs counts from the start: initial_epoch=2 epochs=5 trains epochs 3 to 5")
    weights = step.kwargs.get("class_weight")
    if isinstance(weights, dict):
        for key, value in weights.items():
            good_key = isinstance(key, int) and not isinstance(key, bool) and key >= 0
            good_value = is_number(value) and not isinstance(value, Symbol) and math.isfinite(value) and value >= 0
            if not (good_key and good_value):
                what = f"the key {describe_value(key)}" if not good_key else f"{describe_value(value)} for class {key}"
                ctx.error("bad-argument-type", f"expected class indexes (0, 1, ...) mapped to non-negative numbers for 'class_weight'; "
                          f"received {what}", spans.get("class_weight", node.span), hint="for example class_weight={0: 1.0, 1: 5.0}")
                break
