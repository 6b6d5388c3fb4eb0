"""One document's analysis: its parse, every check pass's findings, and its diagnostics.

The language server analyses a document on every change, so this is the hot path: the text
is parsed once and every check pass runs once over a shared
:class:`~nndsl.semantics.context.Context`. Unlike :func:`nndsl.semantics.check.check`, the
passes' findings are kept when a pass reports an error, so hover can still show the shapes
and values the passes worked out for the rest of the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import ast
from ..errors import Diagnostic, NndslError, NndslSyntaxError
from ..semantics.check import PASSES
from ..semantics.context import Context
from ..source import Source, Span
from ..syntax.parser import parse
from .symbols import SymbolIndex


@dataclass
class Analysis:
    """What the server knows of one version of a document.

    Attributes:
        source: the text, with its line index.
        program: the syntax tree, or None when the text does not parse.
        context: what the check passes found (variables, data sources, models and their
            shapes), or None when the text does not parse.
        diagnostics: syntax errors, or every check error and warning, in source order.
        symbols: the declarations and uses of names, for navigation and rename.
    """

    source: Source
    program: ast.Program | None
    context: Context | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    symbols: SymbolIndex | None = None

    @property
    def names(self) -> dict[str, object]:
        """Every declared name and its declaration (empty when the text does not parse)."""
        return self.context.decls if self.context is not None else {}


def analyse(text: str, name: str) -> Analysis:
    """Parse and check ``text``; never raises for a mistake in it.

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
    for check_pass in PASSES:
        try:
            check_pass(ctx)
        except NndslError as exc:  # a plugin failing to load: report it, keep what was found
            ctx.diagnostics.extend(exc.diagnostics or [Diagnostic("plugin-error", str(exc), None, program.source)])
            break
    return Analysis(program.source, program, ctx, _ordered(ctx.diagnostics), SymbolIndex(program))


def _ordered(diagnostics) -> list[Diagnostic]:
    return sorted(diagnostics, key=lambda d: d.span.start if d.span is not None else -1)


def span_contains(span: Span, offset: int) -> bool:
    """Whether ``offset`` is inside ``span`` or just after its end (where a cursor after a name stands)."""
    return span.start <= offset <= span.end
