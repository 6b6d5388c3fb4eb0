"""Search spaces: ``choice``, ``uniform``, ``loguniform`` and ``integer`` written as the value of a ``let``.

A space is a value like any other for the checks: the variable holds the space's default (the
first choice, the middle of a range, or ``default=``), so every pass sees a plain value. What
a space adds is checked here, without Optuna or TensorFlow: its own bounds and options
(:func:`build_space`), and every value it can take against every parameter it flows into
(:func:`check_space_values`), by checking the program again with that value in its place.
The ``tune`` step (:mod:`nndsl.run.tune`, :mod:`nndsl.run.search`) samples the spaces with Optuna.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from .. import ast
from ..errors import Note
from .context import FAILED, Context, hint_for
from .evaluate import Invocation, describe_value, is_number, render_value

SPACE_KINDS = ("choice", "uniform", "loguniform", "integer")
"""The names that make a search space when they are called as the whole value of a ``let``."""

MAX_CHOICES = 1000  # options of one choice: beyond this it is a mistake, not a search


@dataclass(frozen=True)
class Space:
    """The values one variable can take in a search.

    Attributes:
        variable: the ``let`` variable it is the value of.
        kind: ``"choice"``, ``"uniform"``, ``"loguniform"`` or ``"integer"``.
        options: a choice's values, in the order written.
        low, high: a range's bounds, both included.
        step: an ``integer`` range's step (1 unless ``step=`` says otherwise).
        default: the value a run without a ``tune`` step uses.
        node: the call that wrote the space.
    """

    variable: str
    kind: str
    options: tuple = ()
    low: Any = None
    high: Any = None
    step: int | None = None
    default: Any = None
    node: ast.Call | None = field(default=None, compare=False, repr=False)

    @property
    def top(self):
        """The largest value of an ``integer`` range (``high`` unless the step passes over it)."""
        if self.kind != "integer":
            return self.high
        return self.low + (self.high - self.low) // self.step * self.step

    @property
    def size(self) -> int | None:
        """How many values a choice or an integer range holds; None for a continuous range."""
        if self.kind == "choice":
            return len(self.options)
        if self.kind == "integer":
            return (self.high - self.low) // self.step + 1
        return None

    def contains(self, value) -> bool:
        """Whether ``value`` is one of the space's values."""
        if self.kind == "choice":
            return any(_same(value, o) for o in self.options)
        if not is_number(value):
            return False
        if self.kind == "integer":
            return isinstance(value, int) and self.low <= value <= self.high and (value - self.low) % self.step == 0
        return self.low <= value <= self.high

    def sample(self, rng: random.Random):
        """One value drawn at random (uniformly; on a log scale for ``loguniform``)."""
        if self.kind == "choice":
            return self.options[rng.randrange(len(self.options))]
        if self.kind == "integer":
            return self.low + rng.randrange(self.size) * self.step
        if self.kind == "loguniform":
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        else:
            value = rng.uniform(self.low, self.high)
        return min(max(value, self.low), self.high)  # rounding at the ends must not leave the range

    def text(self, value) -> str:
        """``value`` written in ``.nn`` syntax, as ``--set NAME=TEXT`` takes it."""
        return render_value(value)

    def describe(self) -> str:
        """The space as written, canonically: ``choice(32, 64)``, ``integer(1, 9, step=2)``."""
        if self.kind == "choice":
            inner = ", ".join(render_value(o) for o in self.options)
        else:
            inner = f"{render_value(self.low)}, {render_value(self.high)}"
            if self.kind == "integer" and self.step != 1:
                inner += f", step={self.step}"
        return f"{self.kind}({inner})"


def _same(a, b) -> bool:
    """Equality that tells 1 from 1.0 and true from 1, as the checks do."""
    return type(a) is type(b) and a == b


def is_space_call(e) -> bool:
    """Whether an expression is a search space: a call of one of :data:`SPACE_KINDS`, as a whole."""
    return type(e) is ast.Call and e.name in SPACE_KINDS


def build_space(ctx: Context, variable: str, call: ast.Call, env=None):
    """The :class:`Space` a call writes, or :data:`FAILED` after reporting what is wrong with it."""
    value = ctx.eval(call, env)
    if value is FAILED:
        return FAILED
    assert isinstance(value, Invocation)
    ok = True

    def bad(message: str, span, hint: str | None = None) -> None:
        nonlocal ok
        ctx.error("bad-space", message, span, hint=hint)
        ok = False

    allowed = ("default", "step") if call.name == "integer" else ("default",)
    for k in call.kwargs:
        if k.name not in allowed:
            bad(f"expected {' or '.join(f'{a}=' for a in allowed)} as the keyword of {call.name}(...); received '{k.name}'",
                k.name_span, hint=hint_for(k.name, allowed))
    if not ok:
        return FAILED
    default_node = next((k.value for k in call.kwargs if k.name == "default"), None)
    if call.name == "choice":
        space = _choice(call, value, bad)
    else:
        space = _range(call, value, bad)
    if space is None or not ok:
        return FAILED
    space = replace(space, variable=variable, node=call)
    if default_node is not None:
        default = value.kwargs["default"]
        if not space.contains(default):
            bad(f"expected a default that is one of the values of {space.describe()}; received {describe_value(default)}",
                default_node.span)
            return FAILED
        space = replace(space, default=default)
    return space


def _choice(call: ast.Call, value: Invocation, bad: Callable):
    options = value.args
    if not options:
        bad("expected at least one option in choice(...); received none", call.span, hint="for example: choice(32, 64, 128)")
        return None
    if len(options) > MAX_CHOICES:
        bad(f"expected at most {MAX_CHOICES} options in choice(...); received {len(options)}", call.span)
        return None
    for i, option in enumerate(options):
        if is_space_call(call.args[i]):
            bad("expected plain values as the options of choice(...); received a search space", call.args[i].span,
                hint="a search space is the whole value of a let: give the inner one its own let")
            return None
        if any(_same(option, earlier) for earlier in options[:i]):
            bad(f"expected each option of choice(...) once; received {describe_value(option)} again", call.args[i].span)
            return None
    return Space("", "choice", options=tuple(options), default=options[0])


def _range(call: ast.Call, value: Invocation, bad: Callable):
    kind = call.name
    if len(value.args) != 2:
        example = {"uniform": "uniform(0.0, 0.5)", "loguniform": "loguniform(1e-4, 1e-2)", "integer": "integer(1, 4)"}[kind]
        span = call.args[2].span if len(call.args) > 2 else call.span
        bad(f"expected two bounds in {kind}(low, high); received {len(value.args)} value{'s' if len(value.args) != 1 else ''}",
            span, hint=f"for example: {example}")
        return None
    low, high = value.args
    want = "an integer" if kind == "integer" else "a number"
    for bound, node in ((low, call.args[0]), (high, call.args[1])):
        fits = isinstance(bound, int) and not isinstance(bound, bool) if kind == "integer" else is_number(bound)
        if not fits:
            bad(f"expected {want} as a bound of {kind}(...); received {describe_value(bound)}", node.span)
            return None
    if not low < high:
        bad(f"expected the low bound of {kind}(...) below the high bound; received {render_value(low)} and {render_value(high)}",
            call.args[0].span.combine(call.args[1].span), hint="write the smaller bound first")
        return None
    if kind == "loguniform" and low <= 0:
        bad(f"expected bounds above zero for loguniform(...); received {render_value(low)}", call.args[0].span,
            hint="a log scale has no zero: use uniform(...) for a range that starts at 0")
        return None
    step = 1
    if kind == "integer" and "step" in value.kwargs:
        step = value.kwargs["step"]
        node = next(k.value for k in call.kwargs if k.name == "step")
        if isinstance(step, bool) or not isinstance(step, int) or step < 1:
            bad(f"expected a positive integer step; received {describe_value(step)}", node.span)
            return None
    if kind == "integer":
        space = Space("", kind, low=low, high=high, step=step)
        return replace(space, default=low + (space.size - 1) // 2 * step)
    low, high = float(low), float(high)
    default = math.sqrt(low * high) if kind == "loguniform" else (low + high) / 2
    return Space("", kind, low=low, high=high, default=default)


# ---------------------------------------------------------------- every value against every use


def candidates(space: Space) -> list[tuple[Any, ast.Expr]]:
    """The values of a space whose checks stand for all of its values, each with an expression that writes it.

    Every option of a choice; the two ends of a range (the parameters the checks know take
    intervals of values: positive, a fraction, a shape size), the default having been checked
    with the program itself. A choice's option keeps its own node, so a problem with it points
    at the option as written.
    """
    call = space.node
    if space.kind == "choice":
        return [(o, node) for o, node in zip(space.options, call.args) if not _same(o, space.default)]
    out = []
    for value, node in ((space.low, call.args[0]), (space.top, call.args[1])):
        if not _same(value, space.default):
            out.append((value, ast.Number(value=value, span=node.span)))
    return out


def check_space_values(ctx: Context, passes) -> None:
    """Check the program again with each value a space can take in the variable's place.

    Only what the default did not already show is reported: the diagnostic as the checks word
    it, at the parameter the value reaches, with a note pointing at the value in the space.
    """
    seen = {(d.code, d.message, d.span) for d in ctx.diagnostics}
    for name, space in list(ctx.spaces.items()):
        for value, node in candidates(space):
            trial = Context(ctx.program, {**ctx.overrides, name: node}, max_params=ctx.max_params)
            for check_pass in passes:
                check_pass(trial)
            for d in trial.diagnostics:
                key = (d.code, d.message, d.span)
                if d.severity != "error" or key in seen:
                    continue
                seen.add(key)
                note = Note(f"'{name}' can be {render_value(value)}: one value of {space.describe()}", node.span)
                ctx.diagnostics.append(replace(d, notes=d.notes + (note,)))


MAX_GRID = 100_000  # points of a grid search: beyond this, sampler=grid is a mistake


def check_tune_steps(ctx: Context) -> None:
    """A grid search needs spaces with a finite number of values, and not too many of them together."""
    for step in ctx.steps:
        if step.verb != "tune" or step.kwargs.get("sampler") != "grid":
            continue
        node = next(k for k in step.node.kwargs if k.name == "sampler")
        points = 1
        for space in ctx.spaces.values():
            if space.size is None:
                ctx.error("bad-space", f"expected only choice and integer spaces for sampler=grid; received '{space.variable}', "
                          f"which is {space.describe()}", node.span,
                          notes=[Note(f"'{space.variable}' is defined here", space.node.span)],
                          hint="use sampler=tpe or sampler=random for a continuous range")
                return
            points *= space.size
        if points > MAX_GRID:
            ctx.error("bad-space", f"expected a grid of at most {MAX_GRID} points for sampler=grid; received {points}", node.span,
                      hint="use sampler=tpe or sampler=random for a search this large")


def check_spaces(ctx: Context, passes) -> None:
    """What the passes leave to the search spaces, once they found nothing wrong: every value of
    each space against every use (:func:`check_space_values`, running ``passes`` again), and the
    tune steps' grids (:func:`check_tune_steps`)."""
    if ctx.spaces and not ctx.failed:
        check_space_values(ctx, passes)
        check_tune_steps(ctx)


__all__ = ["SPACE_KINDS", "Space", "build_space", "candidates", "check_space_values", "check_spaces", "check_tune_steps",
           "is_space_call"]
