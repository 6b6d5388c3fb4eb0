"""Evaluates expressions to plain values: numbers, strings, symbols, containers and invocations.

Variables (``let``) and block parameters are substituted; arithmetic works on numbers only.
Calls are not run: they become :class:`Invocation` values, resolved later against the
registry of the place they stand in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .. import ast
from ..source import Span
from ..syntax.builder import describe
from .values import Symbol


class EvalProblem(Exception):
    """A type error in an expression; carries the span of the offending part."""

    def __init__(self, message: str, span: Span, hint: str | None = None, code: str = "type-error") -> None:
        super().__init__(message)
        self.message, self.span, self.hint, self.code = message, span, hint, code


@dataclass(frozen=True)
class Invocation:
    """A call written in the program, with evaluated arguments, not yet resolved to a plugin."""

    name: str
    args: tuple
    kwargs: dict
    node: ast.Call = field(compare=False, repr=False)


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# Control characters in a string are shown as the escapes that write them, not printed raw.
_CONTROL_ESCAPES = {**{i: f"\\u{i:04x}" for i in range(32)}, 0: "\\0", 9: "\\t", 10: "\\n", 13: "\\r", 127: "\\u007f"}


def describe_value(v: Any) -> str:
    """How a value is named in "received ..." messages."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "none"
    if isinstance(v, Symbol):
        return f"the name '{v}'"
    if isinstance(v, str):
        return f'the string "{v.translate(_CONTROL_ESCAPES)}"'
    if is_number(v):
        return f"the number {v!r}"
    if isinstance(v, tuple):
        return f"the tuple {render_value(v)}"
    if isinstance(v, list):
        return f"the list {render_value(v)}"
    if isinstance(v, dict):
        return "a dict"
    if isinstance(v, Invocation):
        return f"the call {v.name}(...)"
    return repr(v)


def render_value(v: Any) -> str:
    """A value written back in .nn syntax (for messages)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "none"
    if isinstance(v, Symbol):
        return str(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, tuple):
        inner = ", ".join(render_value(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, list):
        return "[" + ", ".join(render_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{render_value(k)}: {render_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, Invocation):
        parts = [render_value(a) for a in v.args] + [f"{k}={render_value(x)}" for k, x in v.kwargs.items()]
        return f"{v.name}(" + ", ".join(parts) + ")"
    return repr(v)


def evaluate(e, env: dict[str, Any]) -> Any:
    """The value of expression ``e`` with variables from ``env``.

    Raises:
        EvalProblem: arithmetic on something that is not a number, or division by zero.
    """
    t = type(e)
    if t is ast.Number or t is ast.String or t is ast.Bool:
        return e.value
    if t is ast.Name:
        if e.id in env:
            return env[e.id]
        return Symbol(e.id)
    if t is ast.NoneLit:
        return None
    if t is ast.Tuple:
        return tuple(evaluate(i, env) for i in e.items)
    if t is ast.List:
        return [evaluate(i, env) for i in e.items]
    if t is ast.Dict:
        out = {}
        for p in e.items:
            key = evaluate(p.key, env)
            try:
                hash(key)  # lists, dicts, calls and tuples holding them cannot be keys
            except TypeError:
                raise EvalProblem(f"expected a number, string or name as a dict key; received {describe_value(key)}", p.key.span) from None
            out[key] = evaluate(p.value, env)
        return out
    if t is ast.Call:
        kwargs = {}
        for k in e.kwargs:
            kwargs[k.name] = evaluate(k.value, env)
        return Invocation(e.name, tuple(evaluate(a, env) for a in e.args), kwargs, e)
    if t is ast.UnaryOp:
        v = evaluate(e.operand, env)
        if not is_number(v):
            raise EvalProblem(f"expected a number after '{e.op}'; received {describe_value(v)}", e.operand.span)
        return -v if e.op == "-" else v
    if t is ast.BinOp:
        left = evaluate(e.left, env)
        right = evaluate(e.right, env)
        for side, node in ((left, e.left), (right, e.right)):
            if not is_number(side):
                raise EvalProblem(
                    f"expected a number on each side of '{e.op}'; received {describe_value(side)}", node.span,
                    hint="arithmetic works on numbers and variables holding numbers",
                )
        op = e.op
        if op in ("/", "//", "%") and right == 0:
            raise EvalProblem(f"expected a non-zero divisor; received {render_value(right)}", e.right.span, code="division-by-zero")
        try:
            result = _ARITHMETIC[op](left, right)
        except OverflowError:
            raise EvalProblem(
                f"expected a result within the range of a floating-point number; received an overflow in '{op}'", e.span,
                code="overflow",
            ) from None
        if isinstance(result, float) and not math.isfinite(result):
            raise EvalProblem(
                f"expected a result within the range of a floating-point number; received an overflow in '{op}'", e.span,
                code="overflow",
            )
        if isinstance(result, int) and result.bit_length() > _MAX_INT_BITS:
            digits = int(result.bit_length() * 0.30103) + 1
            raise EvalProblem(f"expected a number of at most 4000 digits; received a result of about {digits} digits", e.span,
                              code="overflow")
        return result
    raise TypeError(f"cannot evaluate {t.__name__}")


_ARITHMETIC = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "//": lambda a, b: a // b,
    "%": lambda a, b: a % b,
}
_MAX_INT_BITS = 13_000  # about 4000 decimal digits: Python refuses to print longer integers


def free_names(e) -> list[ast.Name]:
    """Every bare name in an expression, in source order."""
    return [n for n in ast.walk(e) if isinstance(n, ast.Name)]


__all__ = ["Invocation", "EvalProblem", "evaluate", "describe_value", "render_value", "is_number", "free_names", "describe"]
