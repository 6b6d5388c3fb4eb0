"""Builds the typed AST while the LALR parser runs: one method per grammar rule.

Called by :class:`~nndsl.syntax.engine.Engine` on every reduction, so no intermediate parse tree
is made. Each method gets the rule's children (named tokens and already-built nodes) and
computes its span from them.
"""

from __future__ import annotations

import re
import sys

from .. import ast
from ..errors import Diagnostic
from ..source import Source, Span
from ..vocabulary import SETTINGS

# File-wide settings written `name value`; every other command is a step.
_SETTINGS = frozenset(SETTINGS)

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", '"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f"}
_ESCAPE_PAIRS = tuple(("\\" + ch, value) for ch, value in _ESCAPES.items() if ch != "\\")


# Nesting limits. Every later stage (evaluation, formatting, JSON) walks expressions recursively,
# so nesting deep enough to exhaust Python's stack is refused here; no real program comes near.
# Brackets (calls, tuples, lists, dicts, bodies) are counted by the parser as it opens them;
# operators, which nest without brackets (`1 + 1 + ... + 1`, `- - x`), are counted here. A path
# from the root of an expression to a leaf then holds at most about 2 * MAX_BRACKETS + MAX_NESTING nodes.
MAX_BRACKETS = 32
MAX_NESTING = 64

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


def _nested(node, children, depths: dict):
    """Record an operator node's depth (one more than its deepest child) in ``depths``; refuse too deep a nesting."""
    d = 1 + max(_subtree_depth(child, depths) for child in children)
    if d > MAX_NESTING:
        raise SyntaxProblem(
            f"expected an expression nested at most {MAX_NESTING} deep; received a deeper one", node.span,
            code="too-deep", hint="split the expression with let variables",
        )
    depths[id(node)] = d
    return node


_INF = float("inf")

# The parser makes a span for nearly every node: tuple.__new__ skips the Python-level Span.__new__.
_new_span = tuple.__new__


class SyntaxProblem(Exception):
    """Raised inside the builder; the parser turns it into a diagnostic."""

    def __init__(self, message: str, span: Span, code: str = "syntax", hint: str | None = None) -> None:
        super().__init__(message)
        self.message, self.span, self.code, self.hint = message, span, code, hint


def tspan(tok) -> Span:
    """The span of a token: ``(value, start, end, line, column)``, always on one line."""
    _value, start, end, line, column = tok
    return _new_span(Span, (start, end, line, column, line, column + end - start))


def _from_to(first, last) -> Span:
    """The span from the start of token ``first`` to the end of token ``last``, which follows it.

    What ``tspan(first).combine(tspan(last))`` gives for two tokens in source order, without
    making either span.
    """
    _value, start, _end, line, column = first
    _value, last_start, end, last_line, last_column = last
    return _new_span(Span, (start, end, line, column, last_line, last_column + end - last_start))


def _token_to(tok, span: Span) -> Span:
    """The span from the start of token ``tok`` to the end of ``span``, which follows it.

    What ``tspan(tok).combine(span)`` gives when ``span`` comes after the token.
    """
    _value, start, _end, line, column = tok
    return _new_span(Span, (start, span[1], line, column, span[4], span[5]))


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


_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
# Characters from the private use area, one of which stands for an escaped backslash while the
# other escapes are replaced; a literal that holds all of them is decoded escape by escape.
_PLACEHOLDERS = "\ue000\ue001\ue002\ue003"


def unescape(raw: str, span: Span) -> str:
    """The value of a string literal token (quotes included in ``raw``).

    Each kind of escape is replaced throughout the literal by one ``str.replace``, so a long
    literal costs a few passes in C rather than a step in Python per character or per escape.
    Backslashes pair from the left, as the token's pattern reads them: ``\\\\`` first (held
    by a placeholder character the literal does not contain), then every other backslash starts
    one escape. A backslash left over is a bad escape, reported by :func:`_unescape_stepwise`.
    """
    body = raw[1:-1]
    if "\\" not in body:
        return body
    placeholder = next((c for c in _PLACEHOLDERS if c not in body), None)
    if placeholder is None:
        return _unescape_stepwise(body, span)
    text = body.replace("\\\\", placeholder)
    for escape, value in _ESCAPE_PAIRS:
        if escape in text:
            text = text.replace(escape, value)
    if "\\" not in text:
        return text.replace(placeholder, "\\")
    if "\\" in _UNICODE_ESCAPE.sub("", text):
        return _unescape_stepwise(body, span)  # raises at the first bad escape
    # \uXXXX decoded around the placeholders, as it may stand for the placeholder's own character
    return "\\".join(_UNICODE_ESCAPE.sub(_code_point, piece) for piece in text.split(placeholder))


def _code_point(match) -> str:
    return chr(int(match[1], 16))


def _unescape_stepwise(body: str, span: Span) -> str:
    """:func:`unescape` one escape at a time; raises at the first bad one."""
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


# Fast node constructors (see ast.constructor): same nodes, about half the cost of ast.X(...).
_Number = ast.constructor(ast.Number)
_String = ast.constructor(ast.String)
_Bool = ast.constructor(ast.Bool)
_NoneLit = ast.constructor(ast.NoneLit)
_Name = ast.constructor(ast.Name)
_Tuple = ast.constructor(ast.Tuple)
_List = ast.constructor(ast.List)
_Pair = ast.constructor(ast.Pair)
_Dict = ast.constructor(ast.Dict)
_Keyword = ast.constructor(ast.Keyword)
_Call = ast.constructor(ast.Call)
_BinOp = ast.constructor(ast.BinOp)
_UnaryOp = ast.constructor(ast.UnaryOp)
_Layer = ast.constructor(ast.Layer)
_Repeat = ast.constructor(ast.Repeat)
_Property = ast.constructor(ast.Property)
_Let = ast.constructor(ast.Let)
_DataDecl = ast.constructor(ast.DataDecl)
_ModelDecl = ast.constructor(ast.ModelDecl)
_Param = ast.constructor(ast.Param)
_BlockDecl = ast.constructor(ast.BlockDecl)
_Setting = ast.constructor(ast.Setting)
_Step = ast.constructor(ast.Step)
_KEYWORD = ast.Keyword
_CALLEES: dict = {}  # "Dense(" -> "Dense"


def one_child(method):
    """Mark a builder method that gets its rule's only child itself, not a list of one.

    Used for rules of one symbol (``?atom: INT -> integer``, ``layer: call``), which are the
    most frequent reductions: the engine then passes the token or node as it is.
    """
    method.one_child = True
    return method


class Builder:
    """Produces :mod:`nndsl.ast` nodes, one method per grammar rule (or alias).

    Each method gets a list of the rule's kept children: built nodes, and tokens as plain
    tuples ``(value, start, end, line, column)`` (see :mod:`nndsl.syntax.engine`); a method
    marked :func:`one_child` gets the one child of its one-symbol rule itself.

    A builder keeps one piece of state for the parse under way, between :meth:`begin` and
    :meth:`end`: the depth of each operator node built so far, so that the depth of a new one
    is found without walking the subtrees below them again. One builder serves one parse at a time.
    """

    def __init__(self) -> None:
        self.depths: dict = {}  # id(operator node) -> depth of its subtree, for the parse under way

    def begin(self) -> None:
        """Start a parse: no depths recorded yet."""
        self.depths = {}

    def end(self) -> None:
        """End a parse: its depths are dropped (an id could be reused by a later object)."""
        self.depths = {}

    # ------------------------------------------------------------ expressions
    # The atoms are the most frequent nodes: their spans are made inline rather than by tspan.
    @one_child
    def integer(self, tok):
        text, start, end, line, column = tok
        try:
            value = int(text)
        except ValueError:  # longer than Python converts (4300 digits by default)
            raise SyntaxProblem(
                f"expected a number of at most {getattr(sys, 'get_int_max_str_digits', lambda: 4300)()} digits; "
                f"received one of {len(text)} digits", tspan(tok),
                code="number-too-long",
            ) from None
        return _Number(value, _new_span(Span, (start, end, line, column, line, column + end - start)))

    @one_child
    def float(self, tok):
        value = float(tok[0])
        if value == _INF:
            raise SyntaxProblem(f"expected a finite number; received {tok[0]}, which is too large for a float", tspan(tok),
                                code="number-too-long", hint="the largest float is about 1.8e308")
        return _Number(value=value, span=tspan(tok))

    @one_child
    def string(self, tok):
        span = tspan(tok)
        return _String(value=unescape(tok[0], span), span=span)

    @one_child
    def true(self, tok):
        return _Bool(value=True, span=tspan(tok))

    @one_child
    def false(self, tok):
        return _Bool(value=False, span=tspan(tok))

    @one_child
    def none(self, tok):
        return _NoneLit(span=tspan(tok))

    @one_child
    def name(self, tok):
        text, start, end, line, column = tok
        return _Name(text, _new_span(Span, (start, end, line, column, line, column + end - start)))

    def paren(self, c):
        # Parentheses only group; the formatter puts them back where precedence needs them.
        return c[1]

    def binop(self, c):
        left, op, right = c
        node = _BinOp(op=op[0], left=left, right=right, span=left.span.combine(right.span))
        return _nested(node, (left, right), self.depths)

    def unaryop(self, c):
        op, operand = c
        op_span = tspan(op)
        span = op_span.combine(operand.span)
        if isinstance(operand, ast.Number) and op[0] == "-" and operand.span.start == op_span.end:
            return _Number(value=-operand.value, span=span)
        return _nested(_UnaryOp(op=op[0], operand=operand, span=span), (operand,), self.depths)

    def tuple(self, c):
        return _Tuple(items=tuple(c[1:-1]), span=_from_to(c[0], c[-1]))

    def list(self, c):
        return _List(items=tuple(c[1:-1]), span=_from_to(c[0], c[-1]))

    def pair(self, c):
        key, value = c
        return _Pair(key=key, value=value, span=key.span.combine(value.span))

    def dict(self, c):
        return _Dict(items=tuple(c[1:-1]), span=_from_to(c[0], c[-1]))

    def kwarg(self, c):
        (text, start, _end, line, column), value = c
        value_span = value.span  # after the name: the keyword's span runs from the name to its end
        return _Keyword(text, value, _new_span(Span, (start, value_span[1], line, column, value_span[4], value_span[5])))

    def call(self, c):
        text, start, _end, line, column = c[0]
        _rpar, _start, last_end, last_line, last_column = c[-1]
        args, kwargs = [], []
        for a in c[1:-1]:
            if a.__class__ is _KEYWORD:
                kwargs.append(a)
            else:
                if kwargs:
                    raise SyntaxProblem(
                        "expected a keyword argument (name=value) after a keyword argument; received a positional argument",
                        a.span,
                        hint="put positional arguments before keyword arguments",
                    )
                args.append(a)
        name = _CALLEES.get(text)
        if name is None:  # one string object per layer name, as for names (see the engine)
            if len(_CALLEES) > 10_000:
                _CALLEES.clear()
            name = _CALLEES[text] = text[:-1]
        return _Call(
            name, tuple(args), tuple(kwargs),
            _new_span(Span, (start, last_end, line, column, last_line, last_column + 1)),  # up to the ')'
        )

    # ------------------------------------------------------------ bodies
    def body(self, c):
        return tuple(c)

    @one_child
    def layer(self, call):
        return _Layer(call, call.span)

    def repeat(self, c):
        kw, count, _open, body, close = c
        return _Repeat(count=count, body=body, span=_from_to(kw, close))

    def property(self, c):
        name, value = c
        return _Property(name=name[0], value=value, span=_token_to(name, value.span), name_span=tspan(name))

    # ------------------------------------------------------------ statements
    def let(self, c):
        kw, name, value = c
        return _Let(name=name[0], value=value, span=_token_to(kw, value.span), name_span=tspan(name))

    def data(self, c):
        kw, name, source = c
        return _DataDecl(name=name[0], source=source, span=_token_to(kw, source.span), name_span=tspan(name))

    def model(self, c):
        kw, name, _open, body, close = c
        return _ModelDecl(name=name[0], body=body, span=_from_to(kw, close), name_span=tspan(name))

    def param(self, c):
        name = c[0]
        default = c[1] if len(c) > 1 else None
        span = tspan(name) if default is None else _token_to(name, default.span)
        return _Param(name=name[0], default=default, span=span)

    def params(self, c):
        return tuple(c)

    def block(self, c):
        kw, callee, params, _rpar, _open, body, close = c
        cs = tspan(callee)
        ns = Span(cs.start, cs.end - 1, cs.line, cs.column, cs.end_line, cs.end_column - 1)
        return _BlockDecl(name=callee[0][:-1], params=params, body=body, span=_from_to(kw, close), name_span=ns)

    # A clause is a plain tuple (word, value, span of the word): `command` sorts them out.
    def on(self, c):
        return ("on", c[1], tspan(c[0]))

    def to(self, c):
        return ("to", c[1], tspan(c[0]))

    def from_(self, c):
        return ("from_", c[1], tspan(c[0]))

    def command(self, c):
        verb_token = c[0]
        verb = verb_token[0]
        vs = tspan(verb_token)
        rest = list(c[1:])  # nodes (never tokens), clause tuples and keywords
        target = None
        if rest and not isinstance(rest[0], (tuple, ast.Keyword)):
            target = rest.pop(0)
        span = _cover([verb_token, target] + [r[1] if isinstance(r, tuple) else r for r in rest])
        if verb in _SETTINGS:
            if target is None:
                hint = f"for example: {verb} 42" if verb == "seed" else None
                raise SyntaxProblem(f"expected a value after '{verb}'; received nothing", vs, hint=hint)
            if rest:
                extra = rest[0][2] if isinstance(rest[0], tuple) else rest[0].span
                raise SyntaxProblem(f"expected the end of the line after '{verb} value'; received more", extra)
            return _Setting(name=verb, value=target, span=span, name_span=vs)
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
        return _Step(verb=verb, target=target, kwargs=tuple(kwargs), span=span, verb_span=vs, **clauses)

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

