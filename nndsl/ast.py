"""The typed syntax tree: frozen dataclasses, one per construct, each with a source span.

Spans are excluded from equality, so two trees that differ only in layout compare equal
(the formatter's round-trip property relies on this). Sequences are tuples.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields

from .source import Source, Span

_FAKE = Span.fake()


def _span() -> Span:
    return field(default=_FAKE, compare=False, repr=False)


def _leading(span: Span, length: int) -> Span:
    """The first ``length`` characters of ``span``, on its first line.

    The name of a call or a keyword argument is where its span starts, so its span is not
    stored: the parser makes one call or keyword for about every line.
    """
    return Span(span.start, span.start + length, span.line, span.column, span.line, span.column + length)


node = dataclass(frozen=True, slots=True, kw_only=True)


# ---------------------------------------------------------------- expressions


@node
class Number:
    value: int | float
    span: Span = _span()


@node
class String:
    value: str
    span: Span = _span()


@node
class Bool:
    value: bool
    span: Span = _span()


@node
class NoneLit:
    span: Span = _span()


@node
class Name:
    """A bare identifier: a variable, a data source, a model, or a symbol passed to Keras by name (``relu``)."""

    id: str
    span: Span = _span()


@node
class Tuple:
    items: tuple[Expr, ...]
    span: Span = _span()


@node
class List:
    items: tuple[Expr, ...]
    span: Span = _span()


@node
class Pair:
    key: Expr
    value: Expr
    span: Span = _span()


@node
class Dict:
    items: tuple[Pair, ...]
    span: Span = _span()


@node
class Keyword:
    """``name=value`` inside a call or a step."""

    name: str
    value: Expr
    span: Span = _span()

    @property
    def name_span(self) -> Span:
        """Where the name is written: the keyword starts with it."""
        return _leading(self.span, len(self.name))


@node
class Call:
    """``Name(positional..., keyword=value...)``: a layer, an optimizer, a data source, a callback."""

    name: str
    args: tuple[Expr, ...] = ()
    kwargs: tuple[Keyword, ...] = ()
    span: Span = _span()

    @property
    def name_span(self) -> Span:
        """Where the name is written, without its ``(``: the call starts with it."""
        return _leading(self.span, len(self.name))


@node
class BinOp:
    op: str  # one of + - * / // %
    left: Expr
    right: Expr
    span: Span = _span()


@node
class UnaryOp:
    op: str  # - or +
    operand: Expr
    span: Span = _span()


Expr = Number | String | Bool | NoneLit | Name | Tuple | List | Dict | Call | BinOp | UnaryOp


# ---------------------------------------------------------------- model and block bodies


@node
class Layer:
    """A layer, or a use of a block, inside a model or block body."""

    call: Call
    span: Span = _span()


@node
class Repeat:
    count: Expr
    body: tuple[BodyItem, ...]
    span: Span = _span()


@node
class Property:
    """A ``model.compile`` argument written ``name value`` (``loss mse``, ``optimizer Adam(...)``)."""

    name: str
    value: Expr
    span: Span = _span()
    name_span: Span = _span()


BodyItem = Layer | Repeat | Property


# ---------------------------------------------------------------- statements


@node
class Let:
    name: str
    value: Expr
    span: Span = _span()
    name_span: Span = _span()


@node
class DataDecl:
    name: str
    source: Call
    span: Span = _span()
    name_span: Span = _span()


@node
class ModelDecl:
    name: str
    body: tuple[BodyItem, ...]
    span: Span = _span()
    name_span: Span = _span()


@node
class Param:
    name: str
    default: Expr | None = None
    span: Span = _span()


@node
class BlockDecl:
    name: str
    params: tuple[Param, ...]
    body: tuple[BodyItem, ...]
    span: Span = _span()
    name_span: Span = _span()


@node
class Setting:
    """A file-wide setting such as ``seed 42``."""

    name: str
    value: Expr
    span: Span = _span()
    name_span: Span = _span()


@node
class Step:
    """``VERB [MODEL] [on DATA] [to PATH] [from PATH] [key=value ...]``."""

    verb: str
    target: Name | None = None
    on: Expr | None = None
    to: Expr | None = None
    from_: Expr | None = None
    kwargs: tuple[Keyword, ...] = ()
    span: Span = _span()
    verb_span: Span = _span()


Statement = Let | DataDecl | ModelDecl | BlockDecl | Setting | Step


@node
class Comment:
    text: str  # including the leading '#'
    span: Span = _span()


@node
class Program:
    statements: tuple[Statement, ...]
    comments: tuple[Comment, ...] = field(default=(), compare=False, repr=False)
    source: Source | None = field(default=None, compare=False, repr=False)
    span: Span = _span()

    def find(self, kind: type, name: str):
        """The first statement of type ``kind`` called ``name``, or None."""
        for stmt in self.statements:
            if isinstance(stmt, kind) and getattr(stmt, "name", None) == name:
                return stmt
        return None

    @property
    def models(self) -> tuple[ModelDecl, ...]:
        return tuple(s for s in self.statements if isinstance(s, ModelDecl))


ALL_NODES = (
    Number, String, Bool, NoneLit, Name, Tuple, List, Pair, Dict, Keyword, Call, BinOp, UnaryOp,
    Layer, Repeat, Property, Let, DataDecl, ModelDecl, Param, BlockDecl, Setting, Step, Comment, Program,
)


def constructor(cls: type):
    """A function making ``cls`` nodes from the same arguments as ``cls(...)``, at a fraction of the cost.

    A frozen dataclass's ``__init__`` assigns each field through ``object.__setattr__``, about
    ten times the cost of a plain attribute store; the parser makes a node for nearly every
    token. So the node is filled in the form of a plain class with the same slots, where each
    field is one slot store, and then given its real class: Python allows ``__class__`` to
    change between classes of the same layout. The node is the same object either way: same
    class, fields, equality, hash and repr. Fields become parameters in their declared order,
    so positional calls work too.
    """
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has a __post_init__ that the fast constructor would skip")
    fill = type(f"_{cls.__name__}Fill", (), {"__slots__": cls.__slots__})
    try:
        fill().__class__ = cls
    except TypeError:  # a Python that refuses the change: fill the slots through their descriptors
        fill = None
    namespace = {"_fill": fill, "_cls": cls, "_new": object.__new__}
    params, body = [], []
    for f in fields(cls):
        if f.default_factory is not MISSING:
            raise TypeError(f"{cls.__name__}.{f.name} has a default factory")
        param = f.name
        if f.default is not MISSING:
            namespace[f"_default_{f.name}"] = f.default
            param += f"=_default_{f.name}"
        elif params and "=" in params[-1]:
            raise TypeError(f"{cls.__name__}.{f.name}: a field without a default after one with a default")
        params.append(param)
        if fill is None:
            namespace[f"_set_{f.name}"] = cls.__dict__[f.name].__set__  # the slot's descriptor
            body.append(f"    _set_{f.name}(self, {f.name})")
        else:
            body.append(f"    self.{f.name} = {f.name}")
    if fill is None:
        code = f"def make_{cls.__name__}({', '.join(params)}):\n    self = _new(_cls)\n" + "\n".join(body) + "\n    return self\n"
    else:
        code = (f"def make_{cls.__name__}({', '.join(params)}):\n    self = _fill()\n" + "\n".join(body)
                + "\n    self.__class__ = _cls\n    return self\n")
    exec(code, namespace)
    make = namespace[f"make_{cls.__name__}"]
    make.__doc__ = f"A new :class:`{cls.__name__}` (see :func:`constructor`)."
    return make


def children(n) -> list:
    """The child nodes of ``n`` in source order (generic traversal for passes)."""
    out = []
    for f in fields(n):
        if f.name in ("span", "name_span", "verb_span", "source", "comments"):
            continue
        v = getattr(n, f.name)
        if isinstance(v, tuple):
            out.extend(x for x in v if hasattr(x, "span"))
        elif hasattr(v, "span"):
            out.append(v)
    return out


def walk(n):
    """Every node below and including ``n``, depth-first, in source order."""
    stack = [n]
    while stack:
        cur = stack.pop()
        yield cur
        stack.extend(reversed(children(cur)))
