"""Builds the typed AST while the LALR parser runs: one method per grammar rule.

Used as lark's inline transformer, so no intermediate parse tree is made. Each method gets the
rule's children (named tokens and already-built nodes) and computes its span from them.
"""

from __future__ import annotations

import sys
import threading

from .. import ast
from ..errors import Diagnostic, NndslSyntaxError
from ..source import Source, Span

# File-wide settings written `name value`; every other command is a step.
SETTINGS = frozenset({"seed", "backend", "distribute"})

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", '"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f"}


# Nesting limits. Every later stage (evaluation, formatting, JSON) walks expressions recursively,
# so nesting deep enough to exhaust Python's stack is refused here; no real program comes near.
# Brackets (calls, tuples, lists, dicts, bodies) are counted by the parser as it opens them;
# operators, which nest without brackets (`1 + 1 + ... + 1`, `- - x`), are counted here. A path
# from the root of an expression to a leaf then holds at most about 2 * MAX_BRACKETS + MAX_NESTING nodes.
MAX_BRACKETS = 32
MAX_NESTING = 64

_nesting = threading.local()  # id(operator node) -> depth of its subtree, for the parse running in this thread


def reset_nesting() -> None:
    """Forget the depths recorded by the previous parse (called before and after each one)."""
    _nesting.depths = {}


def _subtree_depth(e, depths) -> int:
    """The depth of an expression, stopping at operator nodes whose depth is already known."""
    best = 0
    stack = [(e, 1)]
    while stack:
        node, d = stack.pop()
        known = depths.get(id(node))
        if known is not None:
            d += known - 1
            if d > best:
                best = d
            continue
        if d > best:
            best = d
        t = type(node)
        if t is ast.Call:
            stack.extend((a, d + 1) for a in node.args)
            stack.extend((k.value, d + 2) for k in node.kwargs)
        elif t is ast.Tuple or t is ast.List:
            stack.extend((a, d + 1) for a in node.items)
        elif t is ast.Dict:
            for p in node.items:
                stack.append((p.key, d + 2))
                stack.append((p.value, d + 2))
        elif t is ast.Keyword:
            stack.append((node.value, d + 1))
    return best


def _nested(node, children):
    """Record an operator node's depth (one more than its deepest child); refuse too deep a nesting."""
    try:
        depths = _nesting.depths
    except AttributeError:
        depths = _nesting.depths = {}
    d = 1 + max(_subtree_depth(child, depths) for child in children)
    if d > MAX_NESTING:
        raise SyntaxProblem(
            f"expected an expression nested at most {MAX_NESTING} deep; received a deeper one", node.span,
            code="too-deep", hint="split the expression with let variables",
        )
    depths[id(node)] = d
    return node


_INF = float("inf")


class SyntaxProblem(Exception):
    """Raised inside the builder; the parser turns it into a diagnostic."""

    def __init__(self, message: str, span: Span, code: str = "syntax", hint: str | None = None) -> None:
        super().__init__(message)
        self.message, self.span, self.code, self.hint = message, span, code, hint


def tspan(tok) -> Span:
    return Span(tok.start_pos, tok.end_pos, tok.line, tok.column, tok.end_line, tok.end_column)


def _span_of(x) -> Span:
    return x.span if hasattr(x, "span") else tspan(x)


def _cover(children) -> Span:
    first = last = None
    for c in children:
        if c is None:
            continue
        if first is None:
            first = c
        last = c
    if first is None:
        return Span.fake()
    return _span_of(first).combine(_span_of(last))


def unescape(raw: str, span: Span) -> str:
    """The value of a string literal token (quotes included in ``raw``)."""
    body = raw[1:-1]
    if "\\" not in body:
        return body
    out = []
    i = 0
    n = len(body)
    while i < n:
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1] if i + 1 < n else ""
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt == "u" and i + 6 <= n and all(c in "0123456789abcdefABCDEF" for c in body[i + 2 : i + 6]):
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 6
        else:
            bad = Span(span.start + 1 + i, span.start + 3 + i, span.line, span.column + 1 + i, span.line, span.column + 3 + i)
            raise SyntaxProblem(
                f"expected an escape such as \\n, \\t, \\\", \\\\ or \\uXXXX; received '\\{nxt}'", bad, code="bad-escape",
                hint="write \\\\ for a backslash",
            )
    return "".join(out)


class Builder:
    """Lark inline transformer producing :mod:`nndsl.ast` nodes."""

    # ------------------------------------------------------------ expressions
    def integer(self, c):
        (tok,) = c
        try:
            value = int(tok.value)
        except ValueError:  # longer than Python converts (4300 digits by default)
            raise SyntaxProblem(
                f"expected a number of at most {getattr(sys, 'get_int_max_str_digits', lambda: 4300)()} digits; "
                f"received one of {len(tok.value)} digits", tspan(tok),
                code="number-too-long",
            ) from None
        return ast.Number(value=value, span=tspan(tok))

    def float(self, c):
        (tok,) = c
        value = float(tok.value)
        if value == _INF:
            raise SyntaxProblem(f"expected a finite number; received {tok.value}, which is too large for a float", tspan(tok),
                                code="number-too-long", hint="the largest float is about 1.8e308")
        return ast.Number(value=value, span=tspan(tok))

    def string(self, c):
        (tok,) = c
        span = tspan(tok)
        return ast.String(value=unescape(str(tok), span), span=span)

    def true(self, c):
        return ast.Bool(value=True, span=tspan(c[0]))

    def false(self, c):
        return ast.Bool(value=False, span=tspan(c[0]))

    def none(self, c):
        return ast.NoneLit(span=tspan(c[0]))

    def name(self, c):
        (tok,) = c
        return ast.Name(id=str(tok), span=tspan(tok))

    def paren(self, c):
        # Parentheses only group; the formatter puts them back where precedence needs them.
        return c[1]

    def binop(self, c):
        left, op, right = c
        return _nested(ast.BinOp(op=str(op), left=left, right=right, span=left.span.combine(right.span)), (left, right))

    def unaryop(self, c):
        op, operand = c
        span = tspan(op).combine(operand.span)
        if isinstance(operand, ast.Number) and op.value == "-" and operand.span.start == tspan(op).end:
            return ast.Number(value=-operand.value, span=span)
        return _nested(ast.UnaryOp(op=str(op), operand=operand, span=span), (operand,))

    def tuple(self, c):
        return ast.Tuple(items=tuple(c[1:-1]), span=_cover(c))

    def list(self, c):
        return ast.List(items=tuple(x for x in c[1:-1] if x is not None), span=_cover(c))

    def pair(self, c):
        key, value = c
        return ast.Pair(key=key, value=value, span=key.span.combine(value.span))

    def dict(self, c):
        return ast.Dict(items=tuple(x for x in c[1:-1] if x is not None), span=_cover(c))

    def kwarg(self, c):
        name, value = c
        ns = tspan(name)
        return ast.Keyword(name=name.value, value=value, span=ns.combine(value.span), name_span=ns)

    def call(self, c):
        callee = c[0]
        cs = tspan(callee)
        name_span = Span(cs.start, cs.end - 1, cs.line, cs.column, cs.end_line, cs.end_column - 1)
        args, kwargs = [], []
        for a in c[1:-1]:
            if a is None:
                continue
            if isinstance(a, ast.Keyword):
                kwargs.append(a)
            else:
                if kwargs:
                    raise SyntaxProblem(
                        "expected a keyword argument (name=value) after a keyword argument; received a positional argument",
                        a.span,
                        hint="put positional arguments before keyword arguments",
                    )
                args.append(a)
        return ast.Call(
            name=str(callee)[:-1], args=tuple(args), kwargs=tuple(kwargs), span=_cover(c), name_span=name_span
        )

    # ------------------------------------------------------------ bodies
    def body(self, c):
        return tuple(c)

    def layer(self, c):
        (call,) = c
        return ast.Layer(call=call, span=call.span)

    def repeat(self, c):
        kw, count, _open, body, close = c
        return ast.Repeat(count=count, body=body, span=tspan(kw).combine(tspan(close)))

    def property(self, c):
        name, value = c
        ns = tspan(name)
        return ast.Property(name=str(name), value=value, span=ns.combine(value.span), name_span=ns)

    # ------------------------------------------------------------ statements
    def let(self, c):
        kw, name, value = c
        return ast.Let(name=str(name), value=value, span=tspan(kw).combine(value.span), name_span=tspan(name))

    def data(self, c):
        kw, name, source = c
        return ast.DataDecl(name=str(name), source=source, span=tspan(kw).combine(source.span), name_span=tspan(name))

    def model(self, c):
        kw, name, _open, body, close = c
        return ast.ModelDecl(name=str(name), body=body, span=tspan(kw).combine(tspan(close)), name_span=tspan(name))

    def param(self, c):
        name = c[0]
        default = c[1] if len(c) > 1 else None
        span = tspan(name) if default is None else tspan(name).combine(default.span)
        return ast.Param(name=str(name), default=default, span=span)

    def params(self, c):
        return tuple(c)

    def block(self, c):
        kw, callee, params, _rpar, _open, body, close = c
        cs = tspan(callee)
        ns = Span(cs.start, cs.end - 1, cs.line, cs.column, cs.end_line, cs.end_column - 1)
        return ast.BlockDecl(name=str(callee)[:-1], params=params, body=body, span=tspan(kw).combine(tspan(close)), name_span=ns)

    def on(self, c):
        return ("on", c[1], tspan(c[0]))

    def to(self, c):
        return ("to", c[1], tspan(c[0]))

    def from_(self, c):
        return ("from_", c[1], tspan(c[0]))

    def command(self, c):
        verb = c[0]
        vs = tspan(verb)
        rest = list(c[1:])
        target = None
        if rest and not isinstance(rest[0], (tuple, ast.Keyword)):
            target = rest.pop(0)
        span = _cover([verb, target] + [r[1] if isinstance(r, tuple) else r for r in rest])
        if str(verb) in SETTINGS:
            if target is None:
                raise SyntaxProblem(f"expected a value after '{verb}'; received nothing", vs, hint=f"for example: {verb} 42" if str(verb) == "seed" else None)
            if rest:
                extra = rest[0][2] if isinstance(rest[0], tuple) else rest[0].span
                raise SyntaxProblem(f"expected the end of the line after '{verb} value'; received more", extra)
            return ast.Setting(name=str(verb), value=target, span=span, name_span=vs)
        if target is not None and not isinstance(target, ast.Name):
            raise SyntaxProblem(
                f"expected a model name after '{verb}'; received {describe(target)}", target.span,
                hint=f"steps are written: {verb} MODEL [on DATA] [to PATH] [from PATH] [key=value ...]",
            )
        clauses: dict = {}
        kwargs = []
        for r in rest:
            if isinstance(r, ast.Keyword):
                kwargs.append(r)
                continue
            key, value, kspan = r
            if key in clauses:
                word = key.rstrip("_")
                raise SyntaxProblem(f"expected at most one '{word}' clause; received a second one", kspan, code="duplicate-clause")
            if kwargs:
                word = key.rstrip("_")
                raise SyntaxProblem(
                    f"expected '{word}' before the key=value options; received it after them", kspan,
                    hint=f"write: {verb} MODEL on DATA to PATH key=value",
                )
            clauses[key] = value
        return ast.Step(verb=str(verb), target=target, kwargs=tuple(kwargs), span=span, verb_span=vs, **clauses)

    def start(self, c):
        return tuple(c)


# lark looks transformer methods up by rule name; `from` is a Python keyword.
setattr(Builder, "from", Builder.from_)


def describe(e) -> str:
    """A short human description of an expression, for "received ..." messages."""
    if isinstance(e, ast.Number):
        return f"the number {e.value!r}"
    if isinstance(e, ast.String):
        return f'the string "{e.value}"'
    if isinstance(e, ast.Bool):
        return "true" if e.value else "false"
    if isinstance(e, ast.NoneLit):
        return "none"
    if isinstance(e, ast.Name):
        return f"'{e.id}'"
    if isinstance(e, ast.Call):
        return f"the call {e.name}(...)"
    if isinstance(e, ast.Tuple):
        return "a tuple"
    if isinstance(e, ast.List):
        return "a list"
    if isinstance(e, ast.Dict):
        return "a dict"
    return "an expression"


def make_diagnostic(problem: SyntaxProblem, source: Source) -> Diagnostic:
    return Diagnostic(code=problem.code, message=problem.message, span=problem.span, source=source, hint=problem.hint)


def raise_problem(problem: SyntaxProblem, source: Source):
    raise NndslSyntaxError(diagnostics=[make_diagnostic(problem, source)])
