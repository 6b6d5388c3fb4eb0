"""Where each ``let``, ``data``, ``model`` and ``block`` name (and each block parameter) is
declared and used: the index behind go to definition, find references and rename.

A block's parameters are names of their own inside its body: ``units`` there is the
parameter even when the file also has ``let units``.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from .. import ast
from ..errors import NndslError
from ..source import Span

_KINDS = {ast.Let: "variable", ast.DataDecl: "data", ast.ModelDecl: "model", ast.BlockDecl: "block"}


@dataclass(frozen=True)
class Occurrence:
    """One place a name is written.

    Attributes:
        name: the name.
        span: where it is written.
        kind: ``"variable"``, ``"data"``, ``"model"``, ``"block"`` or ``"parameter"``.
        scope: the block whose parameter it is, or None for a file-wide name.
        definition: whether this is where the name is declared.
    """

    name: str
    span: Span
    kind: str
    scope: str | None = None
    definition: bool = False

    @property
    def key(self) -> tuple[str, str | None]:
        return self.name, self.scope


def param_span(p: ast.Param) -> Span:
    """Where a block parameter's name is written: its span starts with it."""
    s = p.span
    return Span(s.start, s.start + len(p.name), s.line, s.column, s.line, s.column + len(p.name))


class SymbolIndex:
    """Every occurrence of a declared name in a program, in source order."""

    def __init__(self, program: ast.Program) -> None:
        self.declared: dict[str, tuple[str, object]] = {}
        for stmt in program.statements:
            kind = _KINDS.get(type(stmt))
            if kind is not None and stmt.name not in self.declared:
                self.declared[stmt.name] = (kind, stmt)
        self._new_models = _model_defining_verbs()
        found: list[Occurrence] = []
        for stmt in program.statements:
            self._statement(stmt, found)
        found.sort(key=lambda o: o.span.start)
        self.occurrences = found
        self._starts = [o.span.start for o in found]

    # ------------------------------------------------------------ queries
    def at(self, offset: int) -> Occurrence | None:
        """The occurrence under (or just after) the character ``offset``, or None."""
        i = bisect.bisect_right(self._starts, offset) - 1
        if i >= 0 and self.occurrences[i].span.start <= offset <= self.occurrences[i].span.end:
            return self.occurrences[i]
        return None

    def definition(self, occ: Occurrence) -> Occurrence | None:
        """Where the name ``occ`` refers to is declared (the first declaration), or None."""
        return next((o for o in self.occurrences if o.definition and o.key == occ.key), None)

    def references(self, occ: Occurrence, *, include_declaration: bool = True) -> list[Occurrence]:
        """Every occurrence of the same name in the same scope, in source order."""
        return [o for o in self.occurrences if o.key == occ.key and (include_declaration or not o.definition)]

    # ------------------------------------------------------------ indexing
    def _global(self, name: str, span: Span, out: list, *, definition: bool = False) -> None:
        declared = self.declared.get(name)
        if declared is not None:
            out.append(Occurrence(name, span, declared[0], None, definition))

    def _statement(self, stmt, out: list) -> None:
        if type(stmt) in _KINDS:
            out.append(Occurrence(stmt.name, stmt.name_span, _KINDS[type(stmt)], None, True))
        if isinstance(stmt, ast.Let):
            self._expr(stmt.value, out, {}, None)
        elif isinstance(stmt, ast.DataDecl):
            self._expr(stmt.source, out, {}, None)
        elif isinstance(stmt, ast.ModelDecl):
            self._body(stmt.body, out, {}, None)
        elif isinstance(stmt, ast.BlockDecl):
            params = {}
            for p in stmt.params:
                if p.default is not None:
                    self._expr(p.default, out, {}, None)
                if p.name not in params:
                    params[p.name] = True
                    out.append(Occurrence(p.name, param_span(p), "parameter", stmt.name, True))
            self._body(stmt.body, out, params, stmt.name)
        elif isinstance(stmt, ast.Setting):
            self._expr(stmt.value, out, {}, None)
        elif isinstance(stmt, ast.Step):
            if stmt.target is not None:
                if stmt.verb in self._new_models and stmt.target.id not in self.declared:
                    # `load trained from "m.keras"` declares the model `trained`
                    self.declared[stmt.target.id] = ("model", stmt)
                    out.append(Occurrence(stmt.target.id, stmt.target.span, "model", None, True))
                else:
                    self._global(stmt.target.id, stmt.target.span, out)
            for e in (stmt.on, stmt.to, stmt.from_):
                if e is not None:
                    self._expr(e, out, {}, None)
            for k in stmt.kwargs:
                self._expr(k.value, out, {}, None)

    def _body(self, body, out: list, params: dict, scope: str | None) -> None:
        for item in body:
            if isinstance(item, ast.Layer):
                self._expr(item.call, out, params, scope)
            elif isinstance(item, ast.Repeat):
                self._expr(item.count, out, params, scope)
                self._body(item.body, out, params, scope)
            elif isinstance(item, ast.Property):
                self._expr(item.value, out, params, scope)

    def _expr(self, expr, out: list, params: dict, scope: str | None) -> None:
        stack = [expr]
        while stack:
            e = stack.pop()
            if isinstance(e, ast.Name):
                if e.id in params:
                    out.append(Occurrence(e.id, e.span, "parameter", scope))
                else:
                    self._global(e.id, e.span, out)
            elif isinstance(e, ast.Call):
                declared = self.declared.get(e.name)
                if declared is not None and declared[0] == "block":
                    out.append(Occurrence(e.name, e.name_span, "block"))
                stack.extend(e.args)
                stack.extend(k.value for k in e.kwargs)
            elif isinstance(e, (ast.Tuple, ast.List)):
                stack.extend(e.items)
            elif isinstance(e, ast.Dict):
                for pair in e.items:
                    stack.extend((pair.key, pair.value))
            elif isinstance(e, ast.BinOp):
                stack.extend((e.left, e.right))
            elif isinstance(e, ast.UnaryOp):
                stack.append(e.operand)


def _model_defining_verbs() -> frozenset[str]:
    """The step verbs that declare the model they name (``load``), from the step registry."""
    from ..plugins.registry import registry

    steps = registry("steps")
    verbs = set()
    for name in steps.names():
        try:
            spec = steps.get(name)
        except NndslError:  # a broken plugin: its verb declares nothing here; the check reports it
            spec = None
        if spec is not None and spec.target == "new_model":
            verbs.add(name)
    return frozenset(verbs)
