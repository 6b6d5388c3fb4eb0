"""One document's analysis: its parse, every check pass's findings, and its diagnostics.

The language server analyses a document on every change, so this is the hot path. Its cost
is dominated by the passes over models (expanding blocks, resolving layers, inferring
shapes), and an edit seldom touches more than one model. So an :class:`Analyser` keeps,
from one version of the document to the next, what the model passes found for each model,
keyed by the model's text and everything a model's check reads from the rest of the file
(variables, blocks, data sources, the declared names). A model whose key is unchanged is
not checked again: its findings are moved to where the model now stands. The other passes
run on the whole program every time, as :func:`nndsl.semantics.check.check` runs them.

Unlike ``check``, the passes' findings are kept when a pass reports an error, so hover can
still show the values and shapes worked out for the rest of the file.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, replace

from .. import ast
from ..errors import Diagnostic, NndslError, NndslSyntaxError, Note
from ..semantics.arguments import check_argument_values
from ..semantics.check import (
    PASSES,
    check_data,
    check_steps,
    declare_names,
    evaluate_variables,
    expand_models,
)
from ..semantics.context import Context
from ..semantics.files import check_files, check_object_files
from ..semantics.keras_check import (
    check_step_objects,
    infer_shapes,
    resolve_compile,
    resolve_layers,
    table_fed_models,
)
from ..semantics.result import CheckedModel
from ..semantics.spaces import check_spaces
from ..source import Source, Span
from ..syntax.parser import parse
from .symbols import SymbolIndex

# The passes split by what they read: the whole file, one model, or the steps and the models'
# findings. Together they are every pass of the checker; a pass added there and not here turns
# the model cache off (see Analyser.update) rather than being skipped.
_FILE_PASSES = (declare_names, evaluate_variables, check_data)
_MODEL_PASSES = (expand_models, resolve_layers, resolve_compile, infer_shapes)
_STEP_PASSES = (check_steps, check_argument_values, check_files, check_step_objects, check_object_files)
_SPLIT = _FILE_PASSES + _MODEL_PASSES + _STEP_PASSES
_SPLIT_COVERS_ALL = sorted(map(id, _SPLIT)) == sorted(map(id, PASSES))


@dataclass
class Analysis:
    """What the server knows of one version of a document.

    Attributes:
        source: the text, with its line index.
        program: the syntax tree, or None when the text does not parse.
        context: what the check passes found (variables, data sources, models and their
            shapes), or None when the text does not parse.
        diagnostics: syntax errors, or every check error and warning, in source order.
        model_shift: for each model whose findings were kept from an earlier version, how
            far (in characters) the model has moved since they were made: the nodes its
            findings point at stand that much earlier.
    """

    source: Source
    program: ast.Program | None
    context: Context | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    model_shift: dict[str, int] = field(default_factory=dict)
    _symbols: SymbolIndex | None = field(default=None, repr=False)

    @property
    def symbols(self) -> SymbolIndex | None:
        """The declarations and uses of names (made on first use), or None when the text does not parse."""
        if self._symbols is None and self.program is not None:
            self._symbols = SymbolIndex(self.program)
        return self._symbols

    @property
    def names(self) -> dict[str, object]:
        """Every declared name and its declaration (empty when the text does not parse)."""
        return self.context.decls if self.context is not None else {}


@dataclass(frozen=True)
class _ModelFindings:
    """What the model passes found for one model, in the coordinates of the version last analysed."""

    model: CheckedModel  # its nodes are those of the version that checked it
    shift: int  # how far the model has moved since that version
    diagnostics: tuple[Diagnostic, ...]


class Analyser:
    """Analyses successive versions of one document, reusing each unchanged model's findings.

    Args:
        name: the name diagnostics give the document.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._findings: dict[tuple, _ModelFindings] = {}
        self._statements: list[tuple[int, int, int, int, str]] = []  # start, end, line, column, text
        self.reused = 0  # models whose findings the latest update kept (the tests read it)

    def update(self, text: str) -> Analysis:
        """Analyse the document's new text; never raises for a mistake in it."""
        try:
            program = parse(text, filename=self.name)
        except NndslSyntaxError as exc:
            first = exc.diagnostics[0].source if exc.diagnostics else None
            return Analysis(first or Source(self.name, text), None, None, _ordered(exc.diagnostics))
        if not _SPLIT_COVERS_ALL:
            return analyse(text, self.name)
        source = program.source
        statements = [(s.span.start, s.span.end, s.span.line, s.span.column, text[s.span.start : s.span.end]) for s in program.statements]
        previous, self._statements = self._statements, statements
        moves = _moves(previous, statements)

        ctx = Context(program, {})
        whole = _run(ctx, _FILE_PASSES)
        world = (_world(program, statements, ctx), ctx.failed)
        findings: dict[tuple, _ModelFindings] = {}
        shifts: dict[str, int] = {}
        diagnostics = list(ctx.diagnostics)
        self.reused = 0
        for stmt, (*_, stmt_text) in zip(program.statements, statements):
            if not whole or not isinstance(stmt, ast.ModelDecl) or ctx.decls.get(stmt.name) is not stmt:
                continue
            key = (stmt_text, world)
            found = _moved(self._findings.get(key), previous, moves, source)
            if found is None:
                models, found_diagnostics = _model_passes(ctx, stmt)
                found = _ModelFindings(models.get(stmt.name) or CheckedModel(stmt, [], {}), 0, tuple(found_diagnostics))
            else:
                self.reused += 1
            findings[key] = found
            ctx.models[stmt.name] = replace(found.model, decl=stmt)
            if found.shift:
                shifts[stmt.name] = found.shift
            diagnostics.extend(found.diagnostics)
        if whole and not findings and ctx.blocks:
            diagnostics.extend(_model_passes(ctx, None)[1])  # blocks no model uses are still checked
        self._findings = findings
        ctx.diagnostics = list(dict.fromkeys(diagnostics))  # a block's problem is found through each model using it
        if whole:
            _run(ctx, _STEP_PASSES)
            check_spaces(ctx, PASSES)
        return Analysis(source, program, ctx, _ordered(ctx.diagnostics), shifts)


def _run(ctx: Context, passes) -> bool:
    """Run ``passes`` in order; False when one stops on a plugin failing to load (reported)."""
    for check_pass in passes:
        try:
            check_pass(ctx)
        except NndslError as exc:
            ctx.diagnostics.extend(exc.diagnostics or [Diagnostic("plugin-error", str(exc), None, ctx.source)])
            return False
    return True


def _model_passes(ctx: Context, model: ast.ModelDecl | None) -> tuple[dict[str, CheckedModel], list[Diagnostic]]:
    """The model passes run on ``model`` alone (None: on the blocks alone): the checked models
    and the diagnostics they reported.

    The passes see the file passes' findings, and the errors those reported, as in a check of
    the whole file: some checks read them ("an empty model" is only reported when nothing else
    is wrong).
    """
    program = ctx.program
    statements = (model,) if model is not None else ()
    sub = Context(ast.Program(statements=statements, source=program.source, span=program.span), {}, max_params=ctx.max_params)
    sub.decls, sub.variables, sub.settings, sub.blocks, sub.data = ctx.decls, ctx.variables, ctx.settings, ctx.blocks, ctx.data
    sub.table_fed = table_fed_models(ctx)  # read from the whole program's steps, which the sub-program lacks
    sub.diagnostics = list(ctx.diagnostics)
    before = len(sub.diagnostics)
    _run(sub, _MODEL_PASSES)
    return sub.models, sub.diagnostics[before:]


def _moves(previous, statements) -> dict[int, tuple[int, int]]:
    """For each statement of the previous version found again, unchanged, in this one: its
    old start -> (characters moved, lines moved)."""
    where: dict[tuple[str, int], list[tuple[int, int]]] = {}
    for start, _end, line, column, text in reversed(statements):
        where.setdefault((text, column), []).append((start, line))
    moves = {}
    for start, _end, line, column, text in previous:
        found = where.get((text, column))
        if found:
            new_start, new_line = found.pop()
            moves[start] = (new_start - start, new_line - line)
    return moves


def _moved(found: _ModelFindings | None, previous, moves: dict, source: Source) -> _ModelFindings | None:
    """A model's findings moved from the previous version to this one, or None when one of the
    places they point at is not found again unchanged."""
    if found is None:
        return None
    starts = [s[0] for s in previous]

    def shifted(span: Span | None):
        if span is None:
            return None
        i = bisect.bisect_right(starts, span.start) - 1
        if i < 0 or span.end > previous[i][1] or starts[i] not in moves:
            return False
        chars, lines = moves[starts[i]]
        return Span(span.start + chars, span.end + chars, span.line + lines, span.column, span.end_line + lines, span.end_column)

    moved = []
    for d in found.diagnostics:
        span = shifted(d.span)
        notes = tuple(Note(n.message, shifted(n.span)) for n in d.notes)
        if span is False or any(n.span is False for n in notes):
            return None
        moved.append(replace(d, span=span, notes=notes, source=source))
    decl = found.model.decl.span
    here = shifted(Span(decl.start + found.shift, decl.end + found.shift, 0, 0, 0, 0))
    if not here:
        return None
    return _ModelFindings(found.model, here.start - decl.start, tuple(moved))


def _world(program: ast.Program, statements, ctx: Context) -> tuple:
    """Everything a model's check reads from the rest of the file: the text of every statement
    that is no model and no step, and the declared names with their kinds."""
    texts = tuple(text for s, (*_, text) in zip(program.statements, statements) if not isinstance(s, (ast.ModelDecl, ast.Step)))
    names = tuple((name, type(decl).__name__) for name, decl in ctx.decls.items())
    return texts, names, tuple(sorted(table_fed_models(ctx)))  # a model trained on a table takes its width


def analyse(text: str, name: str) -> Analysis:
    """Parse and check ``text`` from scratch, every pass over the whole program; never raises
    for a mistake in it.

    Args:
        text: the document's text.
        name: the name diagnostics give the document.
    """
    try:
        program = parse(text, filename=name)
    except NndslSyntaxError as exc:
        source = exc.diagnostics[0].source if exc.diagnostics and exc.diagnostics[0].source else Source(name, text)
        return Analysis(source, None, None, _ordered(exc.diagnostics))
    ctx = Context(program, {})
    if _run(ctx, PASSES):
        check_spaces(ctx, PASSES)
    return Analysis(program.source, program, ctx, _ordered(ctx.diagnostics))


def _ordered(diagnostics) -> list[Diagnostic]:
    return sorted(diagnostics, key=lambda d: d.span.start if d.span is not None else -1)


def span_contains(span: Span, offset: int) -> bool:
    """Whether ``offset`` is inside ``span`` or just after its end (where a cursor after a name stands)."""
    return span.start <= offset <= span.end
