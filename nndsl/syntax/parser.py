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

import re
from pathlib import Path

from .. import ast
from ..errors import Diagnostic, Note, NndslSyntaxError
from ..source import Source, Span
from .builder import Builder, SyntaxProblem, make_diagnostic
from .engine import Engine, UnexpectedCharacters, UnexpectedToken
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
            diag, region = _translate(exc, source, work)
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
    p = Path(path)
    text = p.read_bytes().decode("utf-8-sig")
    return parse(text, filename=str(path))


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


# ---------------------------------------------------------------- error translation

_HUMAN = {
    "RPAR": "')'", "LPAR": "'('", "RSQB": "']'", "LSQB": "'['", "RBRACE": "'}'", "LBRACE": "'{'",
    "RBODY": "'}'", "LBODY": "'{'", "COMMA": "','", "COLON": "':'", "EQUAL": "'='", "_NL": "a line break",
    "NAME": "a name", "CALLEE": "a call such as Dense(10)", "INT": "a number", "FLOAT": "a number",
    "STRING": "a string", "$END": "the end of the file", "LET": "'let'", "DATA": "'data'", "MODEL": "'model'",
    "BLOCK": "'block'", "REPEAT": "'repeat'", "ON": "'on'", "TO": "'to'", "FROM": "'from'", "TRUE": "true",
    "FALSE": "false", "NONE": "none", "PLUS": "'+'", "MINUS": "'-'", "STAR": "'*'", "SLASH": "'/'",
    "DSLASH": "'//'", "PERCENT": "'%'",
}
_VALUE_STARTS = {"INT", "FLOAT", "STRING", "NAME", "CALLEE", "TRUE", "FALSE", "NONE", "LPAR", "LSQB", "LBRACE", "MINUS"}
_KEYWORDS = {"LET", "DATA", "MODEL", "BLOCK", "REPEAT", "ON", "TO", "FROM"}
_WORDS_BEFORE_VALUES = {"let", "data", "model", "block", "repeat", "on", "to", "from", "true", "false", "none"}
_MATCHING = {")": "(", "]": "[", "}": "{"}
_OPEN_CHAR = {"LPAR": "(", "CALLEE": "(", "LSQB": "[", "dict": "{", "body": "{"}
_CLOSERS = {"LPAR": "')'", "CALLEE": "')'", "LSQB": "']'", "dict": "'}'", "body": "'}'"}


def _received(tok) -> str:
    if tok.type == "$END":
        return "the end of the file"
    if tok.type == "_NL":
        return "a line break"
    if tok.type == "CALLEE":
        return f"'{str(tok)[:-1]}('"
    if tok.type in _KEYWORDS:
        return f"the keyword '{tok}'"
    return f"'{tok}'"


def _expected(names) -> str:
    names = set(names) - {"COMMENT", "WS"}
    parts = []
    if {"LET", "DATA", "MODEL", "BLOCK"} <= names:
        # the start of a top-level line
        parts.append("a statement such as let, data, model, block or a step")
        names -= {"LET", "DATA", "MODEL", "BLOCK", "NAME", "_NL", "$END"}
    elif {"REPEAT", "CALLEE", "NAME"} <= names:
        # the start of a line in a model or block body
        parts += ["a layer such as Dense(10)", "a property such as 'loss mse'", "'repeat'"]
        names -= {"REPEAT", "CALLEE", "NAME", "_NL"}
    if _VALUE_STARTS & names and len(_VALUE_STARTS & names) >= 4:
        parts.append("a value")
        names -= _VALUE_STARTS | {"PLUS"}
    operators = {"PLUS", "MINUS", "STAR", "SLASH", "DSLASH", "PERCENT"}
    if names - operators:
        names -= operators
    human = sorted({_HUMAN.get(n, f"'{n}'") for n in names})
    parts.extend(human)
    if not parts:
        return "something else"
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " or " + parts[-1]


def _token_span(tok, source: Source) -> Span:
    if tok.type == "$END" or getattr(tok, "start_pos", None) is None:
        n = len(source.text)
        return source.span(n, n)
    return Span(tok.start_pos, tok.end_pos, tok.line, tok.column, tok.end_line, tok.end_column)


def _translate(exc, source: Source, work: str):
    """(diagnostic, region to blank) for a parser exception, or (None, None) when it is not ours."""
    if isinstance(exc, SyntaxProblem):
        return make_diagnostic(exc, source), _statement_region(work, exc.span.start)
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream
        ch = work[pos]
        if ch == '"':
            end = work.find("\n", pos)
            end = len(work) if end == -1 else end
            diag = Diagnostic(
                code="syntax", message="expected a closing '\"'; received the end of the line",
                span=source.span(pos, end), source=source, hint="this string is never closed",
            )
        elif ch.isalpha() or ch == "_" or (ord(ch) > 127 and ch.isidentifier()):
            diag = Diagnostic(
                code="syntax", message=f"expected an ASCII name; received '{ch}'", span=source.span(pos, pos + 1),
                source=source, hint="names use the letters a-z and A-Z, digits and '_'; put other text in a string",
            )
        elif ch == "'":
            diag = Diagnostic(
                code="syntax", message=f"expected {_expected(exc.allowed or ())}; received the character \"'\"",
                span=source.span(pos, pos + 1), source=source, hint='strings are written in double quotes: "text"',
            )
        elif ch == "\r":
            diag = Diagnostic(
                code="syntax", message="expected a line break (\\n or \\r\\n); received a lone carriage return (\\r)",
                span=source.span(pos, pos + 1), source=source, hint="save the file with LF or CRLF line endings",
            )
            # Blanking keeps line breaks, so the same character would be reported again: stop here.
            return diag, None
        elif (unquoted := _unquoted_path(work, pos, source)) is not None:
            diag = unquoted
        else:
            diag = Diagnostic(
                code="syntax", message=f"expected {_expected(exc.allowed or ())}; received the character {ch!r}",
                span=source.span(pos, pos + 1), source=source,
            )
        return diag, _statement_region(work, pos)
    if isinstance(exc, UnexpectedToken):
        return _unexpected_token(exc, source, work)
    return None, None


def _unquoted_path(work: str, pos: int, source: Source) -> Diagnostic | None:
    """A step's path written without quotes (``save m to model.keras``), seen at its '.' or '\\'."""
    if work[pos] not in ".\\":
        return None
    line_start = work.rfind("\n", 0, pos) + 1
    m = re.search(r"(?:^|\s)(to|from|on)\s+([A-Za-z0-9_][A-Za-z0-9_/-]*)$", work[line_start:pos])
    if m is None:
        return None
    start = line_start + m.start(2)
    end = pos
    while end < len(work) and not work[end].isspace():
        end += 1
    path = work[start:end].replace("\\", "/")  # forward slashes work everywhere and need no escape
    word = m.group(1)
    if word == "on":
        message = f"expected a data source name or call after 'on'; received the file name {path}"
        hint = f'read the file with a data source: on csv("{path}")'
    else:
        message = f"expected a file path in a string after '{word}'; received {path} without quotes"
        hint = f'put the path in quotes: {word} "{path}"'
    return Diagnostic(code="syntax", message=message, span=source.span(start, end), source=source, hint=hint)


def _unexpected_token(exc, source: Source, work: str):
    tok = exc.token
    expected = set(exc.expected or ())
    span = _token_span(tok, source)
    stack = exc.brackets
    notes: tuple[Note, ...] = ()
    hint = None
    message = None
    if stack and tok.type in ("RPAR", "RSQB", "RBRACE") and stack[-1][0] != "body":
        kind, opener = stack[-1]
        closer = _CLOSERS[kind]
        if closer != f"'{tok}'":
            # `(1, 2]`: the innermost open bracket is closed by the wrong kind
            message = f"missing {closer}: expected {closer}; received {_received(tok)}"
            notes = (Note(f"the unclosed '{_OPEN_CHAR[kind]}' is here", _opener_span(opener)),)
            if tok.line != opener.line:
                hint = f"add {closer} before this"
            else:
                hint = f"a '{tok}' closes only a '{_MATCHING[str(tok)]}'"
    if stack and message is None:
        kind, opener = stack[-1]
        closer = _CLOSERS[kind]
        opener_line = opener.line
        ends_statement = tok.type in ("$END", "RBODY", "LBODY", "LET", "DATA", "MODEL", "BLOCK")
        if closer.strip("'") in "".join(_HUMAN.get(e, "") for e in expected) and (
            ends_statement or tok.line != opener_line
        ) and tok.type not in ("RPAR", "RSQB", "RBRACE"):
            message = f"missing {closer}: expected {closer}; received {_received(tok)}"
            if tok.type == "$END":
                span = _opener_span(opener)
                hint = f"this '{_OPEN_CHAR[kind]}' is never closed"
            else:
                notes = (Note(f"the unclosed '{_OPEN_CHAR[kind]}' is here", _opener_span(opener)),)
                hint = f"add {closer} before this"
                line_start = work.rfind("\n", 0, tok.start_pos) + 1
                if kind == "body" and line_start < tok.start_pos and work[line_start] not in " \t#":
                    # `train m on d` after a body left open: the body ends before this line, not mid-line
                    end = line_start
                    while end < len(work) and (work[end].isalnum() or work[end] == "_"):
                        end += 1
                    if end > line_start:
                        span = source.span(line_start, end)
                        message = f"missing {closer}: expected {closer}; received '{work[line_start:end]}'"
    if message is None and tok.type in ("_NL", "RBODY") and expected & _VALUE_STARTS and "RPAR" not in expected and "RSQB" not in expected:
        prev = _previous_word(work, span.start)
        if prev and prev[0].isupper():
            message = f"expected a layer call such as {prev}(); received '{prev}' alone"
            hint = f"a layer must be a call such as {prev}() or Dense(10)"
            span = source.span(span.start - len(prev) - _gap(work, span.start), span.start - _gap(work, span.start))
        elif prev:
            message = f"expected a value after '{prev}'; received {_received(tok)}"
            hint = "a setting or model property is written 'name value', and a layer as a call such as Dense(10)"
    if message is None and tok.type in ("RPAR", "RSQB", "RBRACE", "RBODY") and not _has_opener(stack, tok.type):
        message = f"expected {_expected(expected)}; received an unmatched {_received(tok)}"
    if message is None and tok.type == "LPAR" and _gap(work, tok.start_pos) > 0 and _previous_word(work, tok.start_pos):
        word = _previous_word(work, tok.start_pos)
        message = f"expected {_expected(expected)}; received '('"
        hint = f"a call has no space before its '(': write {word}(...)"
    if message is None and tok.type == "EQUAL" and stack and stack[-1][0] == "body":
        prev = _previous_word(work, tok.start_pos)
        if prev:
            message = f"expected a layer, a property written 'name value', or 'repeat'; received '{prev} ='"
            hint = f"a property has no '=': write {prev} VALUE; variables are defined at the top level with let"
    if message is None and tok.type == "EQUAL" and not stack:
        prev = _previous_word(work, tok.start_pos)
        if prev and prev not in ("let", "data", "model", "block", "repeat"):
            name_start = tok.start_pos - _gap(work, tok.start_pos) - len(prev)
            if name_start == 0 or work[name_start - 1] == "\n":
                message = f"expected a statement such as 'let {prev} = ...'; received '{prev} =' without 'let'"
                span = source.span(name_start, tok.end_pos)
            hint = f"to define a variable, write: let {prev} = ..."
    if message is None and tok.type == "REPEAT" and "LET" in expected:
        hint = "'repeat' goes inside a model or block body"
    elif message is None and tok.type in _KEYWORDS and (expected & _VALUE_STARTS or "NAME" in expected):
        hint = f"'{tok}' is a reserved word: choose another name, or put text in quotes"
    if message is None and tok.type in _VALUE_STARTS and _gap(work, tok.start_pos) == 0 and work[tok.start_pos - 1 : tok.start_pos] == '"':
        # `csv("a.csv, target="y")`: a string closed by the quote meant to open the next one
        hint = "the string before this ends at the '\"' just before it: is a closing '\"' missing earlier?"
    if hint is None and stack and stack[-1][0] == "LPAR":
        opener = stack[-1][1]
        word = _previous_word(work, opener.start_pos)
        if _gap(work, opener.start_pos) > 0 and word and word not in _WORDS_BEFORE_VALUES:
            hint = f"a call has no space before its '(': write {word}(...)"
    if hint is None and expected == {"LBODY"}:
        hint = "put the '{' at the end of this line"
    if message is None and tok.type == "_NL" and expected <= {"EQUAL"}:
        message = "expected '='; received a line break"
    if message is None:
        message = f"expected {_expected(expected)}; received {_received(tok)}"
    diag = Diagnostic(code="syntax", message=message, span=span, source=source, notes=notes, hint=hint)
    start = min(span.start, _token_span(tok, source).start)
    if stack:
        start = min(start, stack[0][1].start_pos)
    return diag, _statement_region(work, start)


def _opener_span(opener) -> Span:
    s = Span(opener.start_pos, opener.end_pos, opener.line, opener.column, opener.end_line, opener.end_column)
    if opener.type == "CALLEE":
        return Span(s.end - 1, s.end, s.line, s.end_column - 1, s.end_line, s.end_column)
    return s


def _has_opener(stack, closer_type: str) -> bool:
    want = {"RPAR": ("LPAR", "CALLEE"), "RSQB": ("LSQB",), "RBRACE": ("dict",), "RBODY": ("body",)}[closer_type]
    return any(k in want for k, _ in stack)


def _gap(work: str, pos: int) -> int:
    i = pos
    while i > 0 and work[i - 1] in " \t":
        i -= 1
    return pos - i


def _previous_word(work: str, pos: int) -> str | None:
    i = pos - _gap(work, pos)
    j = i
    while j > 0 and (work[j - 1].isalnum() or work[j - 1] == "_"):
        j -= 1
    return work[j:i] or None


def _statement_region(work: str, pos: int):
    """The lines to blank so parsing can resume: from the statement holding ``pos`` to the next one."""
    lines = work.splitlines(keepends=True)
    starts = []
    off = 0
    for ln in lines:
        starts.append(off)
        off += len(ln)
    if not lines:
        return None
    # the line holding pos
    idx = 0
    for i, s in enumerate(starts):
        if s <= pos:
            idx = i
        else:
            break

    def is_stmt_start(line: str) -> bool:
        return bool(line) and not line[0].isspace() and line[0] not in "#{})]"

    first = idx
    while first > 0 and not is_stmt_start(lines[first]):
        first -= 1
    last = idx + 1
    while last < len(lines) and not is_stmt_start(lines[last]):
        last += 1
    end = starts[last] if last < len(lines) else len(work)
    return starts[first], end


def _blank(work: str, start: int, end: int) -> str:
    chunk = work[start:end]
    blanked = "".join(ch if ch in "\r\n" else " " for ch in chunk)
    return work[:start] + blanked + work[end:]
