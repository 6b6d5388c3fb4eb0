"""``parse(text) -> ast.Program``: the LALR parser and the translation of its errors.

The parser runs the committed tables of :mod:`nndsl.syntax.tables` with
:class:`~nndsl.syntax.builder.Builder` reducing as it goes, so no parse tree is materialised.
The engine's exceptions become :class:`~nndsl.errors.NndslSyntaxError` with human labels;
after a syntax error the parser resynchronises at the next top-level statement, so every
broken statement is reported at once.

``parse`` leaves the host's garbage collector as it found it; an application that owns its
process may wrap it in :func:`nndsl.collector.parsing_phase` to parse faster.
"""

from __future__ import annotations

from .. import ast
from ..errors import Diagnostic, NndslSyntaxError
from ..source import Source, Span, read_text
from .builder import Builder
from .engine import Engine
from .messages import translate
from .tables import load_tables

MAX_REPORTED = 50

# Engines not running a parse. An engine's builder keeps state for its parse, so each parse
# takes one for itself, made when none is free: parses in several threads at once never share
# one, and a process that parses in one thread makes one engine. list.pop and list.append are
# atomic, with or without the GIL.
_idle_engines: list[Engine] = []


def parse(text: str, *, filename: str = "<string>") -> ast.Program:
    """Parse ``.nn`` text into an :class:`~nndsl.ast.Program`.

    Safe to call from several threads at once. The garbage collector is left as it was found.

    Args:
        text: the program's text.
        filename: the name used in diagnostics.

    Returns:
        The program's syntax tree; every node carries its source span.

    Raises:
        NndslSyntaxError: with one diagnostic per broken statement, in source order.
    """
    source = Source(filename, text)
    diagnostics: list[Diagnostic] = []
    work = text
    while True:
        try:
            statements, comments = _parse_once(work)
            break
        except NndslSyntaxError:
            raise
        except Exception as exc:  # the engine's errors and the builder's, translated below
            diag, region = translate(exc, source, work)
            if diag is None:
                raise
            diagnostics.append(diag)
            if region is None or len(diagnostics) >= MAX_REPORTED:
                break
            new_work = _blank(work, *region)
            if new_work == work:
                break
            work = new_work
    if diagnostics:
        diagnostics.sort(key=lambda d: (d.span.start if d.span else 0))
        raise NndslSyntaxError(diagnostics=diagnostics)
    comment_nodes = tuple(
        ast.Comment(text=value.rstrip(), span=Span(start, end, line, column, line, column + end - start))
        for value, start, end, line, column in comments
    )
    span = source.span(0, len(text))
    return ast.Program(statements=statements, comments=comment_nodes, source=source, span=span)


def parse_file(path) -> ast.Program:
    """Read and parse a ``.nn`` file; diagnostics name it as given."""
    return parse(read_text(path), filename=str(path))


def _parse_once(text: str):
    try:
        engine = _idle_engines.pop()
    except IndexError:
        engine = Engine(load_tables(), Builder())
    comments: list = []
    try:
        return engine.parse(text, comments), comments
    finally:
        _idle_engines.append(engine)


def _blank(work: str, start: int, end: int) -> str:
    chunk = work[start:end]
    blanked = "".join(ch if ch in "\r\n" else " " for ch in chunk)
    return work[:start] + blanked + work[end:]
