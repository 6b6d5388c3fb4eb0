"""Syntax error messages: the engine's exceptions as diagnostics that say what was expected.

:func:`translate` turns an :class:`~nndsl.syntax.engine.UnexpectedToken`, an
:class:`~nndsl.syntax.engine.UnexpectedCharacters` or a builder's
:class:`~nndsl.syntax.builder.SyntaxProblem` into a :class:`~nndsl.errors.Diagnostic`, and
names the region the parser blanks before it tries again. A refused token is explained by the
first rule below that recognises the mistake (a bracket closed by the wrong kind, one never
closed, a value missing, ...), then given a hint by the first hint rule that applies; the
general "expected X; received Y" is the fallback.

lark's ``UnexpectedInput.match_examples`` (a parser state mapped to an error class through a
file of bad examples) is not used: nearly every message here depends on more than the parser
state (the open brackets and where they opened, the word before the token, the spaces before
it, the characters of the line), and the state alone would merge cases whose messages differ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import Diagnostic, Note
from ..source import Source, Span
from ..vocabulary import CONSTANTS, DECLARATIONS, KEYWORDS, RESERVED, SETTINGS, TERMINALS
from .builder import SyntaxProblem, make_diagnostic
from .engine import UnexpectedCharacters, UnexpectedToken

_PUNCTUATION = {
    "RPAR": "')'", "LPAR": "'('", "RSQB": "']'", "LSQB": "'['", "RBRACE": "'}'", "LBRACE": "'{'",
    "RBODY": "'}'", "LBODY": "'{'", "COMMA": "','", "COLON": "':'", "EQUAL": "'='", "_NL": "a line break",
    "NAME": "a name", "CALLEE": "a call such as Dense(10)", "INT": "a number", "FLOAT": "a number",
    "STRING": "a string", "$END": "the end of the file",
    "PLUS": "'+'", "MINUS": "'-'", "STAR": "'*'", "SLASH": "'/'", "DSLASH": "'//'", "PERCENT": "'%'",
}
# How an expected terminal is named in a message: keywords quoted, constants bare.
_HUMAN = {
    **_PUNCTUATION,
    **{TERMINALS[word]: f"'{word}'" for word in KEYWORDS},
    **{TERMINALS[word]: word for word in CONSTANTS},
}
_CONSTANT_TERMINALS = {TERMINALS[word] for word in CONSTANTS}
_VALUE_STARTS = {"INT", "FLOAT", "STRING", "NAME", "CALLEE", *_CONSTANT_TERMINALS, "LPAR", "LSQB", "LBRACE", "MINUS"}
_KEYWORDS = {TERMINALS[word] for word in KEYWORDS}
_DECLARATIONS = {TERMINALS[word] for word in DECLARATIONS}
_WORDS_BEFORE_VALUES = set(RESERVED)
_CLOSER_TYPES = ("RPAR", "RSQB", "RBRACE")
_MATCHING = {")": "(", "]": "[", "}": "{"}
_OPEN_CHAR = {"LPAR": "(", "CALLEE": "(", "LSQB": "[", "dict": "{", "body": "{"}
_CLOSERS = {"LPAR": "')'", "CALLEE": "')'", "LSQB": "']'", "dict": "'}'", "body": "'}'"}


def translate(exc, source: Source, work: str):
    """The diagnostic for a parser exception, and the region to blank before parsing again.

    Args:
        exc: what the engine or the builder raised.
        source: the file, for spans and the diagnostic's excerpt.
        work: the text that was parsed (the source with earlier broken statements blanked).

    Returns:
        ``(diagnostic, (start, end))``; the region is None when parsing must stop here, and
        ``(None, None)`` when the exception is not a syntax error (a bug, to be re-raised).
    """
    if isinstance(exc, SyntaxProblem):
        return make_diagnostic(exc, source), statement_region(work, exc.span.start)
    if isinstance(exc, UnexpectedCharacters):
        return _unexpected_characters(exc, source, work)
    if isinstance(exc, UnexpectedToken):
        return _unexpected_token(exc, source, work)
    return None, None


# ---------------------------------------------------------------- words for messages


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
    if _DECLARATIONS <= names:
        # the start of a top-level line
        parts.append("a statement such as let, data, model, block or a step")
        names -= _DECLARATIONS | {"NAME", "_NL", "$END"}
    elif {TERMINALS["repeat"], "CALLEE", "NAME"} <= names:
        # the start of a line in a model or block body
        parts += ["a layer such as Dense(10)", "a property such as 'loss mse'", "'repeat'"]
        names -= {TERMINALS["repeat"], "CALLEE", "NAME", "_NL"}
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


# ---------------------------------------------------------------- characters no token starts with


def _unexpected_characters(exc, source: Source, work: str):
    """Text no terminal matches: an unclosed string, a non-ASCII name, a single quote, a lone CR, ..."""
    pos = exc.pos_in_stream
    ch = work[pos]
    one = source.span(pos, pos + 1)
    if ch == '"':
        end = work.find("\n", pos)
        end = len(work) if end == -1 else end
        diag = _syntax("expected a closing '\"'; received the end of the line", source.span(pos, end), source,
                       hint="this string is never closed")
    elif ch.isalpha() or ch == "_" or (ord(ch) > 127 and ch.isidentifier()):
        diag = _syntax(f"expected an ASCII name; received '{ch}'", one, source,
                       hint="names use the letters a-z and A-Z, digits and '_'; put other text in a string")
    elif ch == "'":
        diag = _syntax(f"expected {_expected(exc.allowed or ())}; received the character \"'\"", one, source,
                       hint='strings are written in double quotes: "text"')
    elif ch == "\r":
        diag = _syntax("expected a line break (\\n or \\r\\n); received a lone carriage return (\\r)", one, source,
                       hint="save the file with LF or CRLF line endings")
        # Blanking keeps line breaks, so the same character would be reported again: stop here.
        return diag, None
    elif (unquoted := _unquoted_path(work, pos, source)) is not None:
        diag = unquoted
    else:
        diag = _syntax(f"expected {_expected(exc.allowed or ())}; received the character {ch!r}", one, source)
    return diag, statement_region(work, pos)


def _syntax(message: str, span: Span, source: Source, hint: str | None = None, notes=()) -> Diagnostic:
    return Diagnostic(code="syntax", message=message, span=span, source=source, notes=notes, hint=hint)


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


# ---------------------------------------------------------------- tokens the grammar refuses


@dataclass(frozen=True)
class _Refusal:
    """A refused token and what surrounds it: what every rule below looks at."""

    tok: object  # the engine's Token
    expected: frozenset
    brackets: list  # the open brackets, outermost first: (kind, Token)
    span: Span  # the token's
    source: Source
    work: str

    @property
    def innermost(self):
        return self.brackets[-1] if self.brackets else None


@dataclass(frozen=True)
class _Found:
    """What a rule recognised: its message (None: the general one), and where to point."""

    message: str | None
    span: Span | None = None
    notes: tuple = ()
    hint: str | None = None


def _unexpected_token(exc, source: Source, work: str):
    """A token the grammar refuses: the first message rule that recognises the mistake, then a hint."""
    r = _Refusal(exc.token, frozenset(exc.expected or ()), exc.brackets, _token_span(exc.token, source), source, work)
    found = next((f for rule in _MESSAGE_RULES if (f := rule(r)) is not None), None) or _Found(None)
    message, hint = found.message, found.hint
    span = found.span or r.span
    if message is None and hint is None:
        hint = next((h for rule in _HINTS_FOR_THE_GENERAL_MESSAGE if (h := rule(r)) is not None), None)
    if hint is None:
        hint = next((h for rule in _HINTS if (h := rule(r)) is not None), None)
    if message is None:
        message = f"expected {_expected(r.expected)}; received {_received(r.tok)}"
    diag = _syntax(message, span, source, hint=hint, notes=found.notes)
    start = min(span.start, r.span.start)
    if r.brackets:
        start = min(start, r.brackets[0][1].start_pos)
    return diag, statement_region(work, start)


def _wrong_closer(r: _Refusal) -> _Found | None:
    """``(1, 2]``: the innermost open bracket is closed by the wrong kind."""
    if r.innermost is None or r.tok.type not in _CLOSER_TYPES or r.innermost[0] == "body":
        return None
    kind, opener = r.innermost
    closer = _CLOSERS[kind]
    if closer == f"'{r.tok}'":
        return None
    if r.tok.line != opener.line:
        hint = f"add {closer} before this"
    else:
        hint = f"a '{r.tok}' closes only a '{_MATCHING[str(r.tok)]}'"
    return _Found(f"missing {closer}: expected {closer}; received {_received(r.tok)}",
                  notes=(Note(f"the unclosed '{_OPEN_CHAR[kind]}' is here", _opener_span(opener)),), hint=hint)


def _missing_closer(r: _Refusal) -> _Found | None:
    """A bracket still open where its closer was expected: at a later line, a new statement or the end."""
    if r.innermost is None:
        return None
    tok = r.tok
    kind, opener = r.innermost
    closer = _CLOSERS[kind]
    ends_statement = tok.type in ("$END", "RBODY", "LBODY", *_DECLARATIONS)
    closer_expected = closer.strip("'") in "".join(_HUMAN.get(e, "") for e in r.expected)
    if not closer_expected or not (ends_statement or tok.line != opener.line) or tok.type in _CLOSER_TYPES:
        return None
    message = f"missing {closer}: expected {closer}; received {_received(tok)}"
    if tok.type == "$END":
        return _Found(message, span=_opener_span(opener), hint=f"this '{_OPEN_CHAR[kind]}' is never closed")
    notes = (Note(f"the unclosed '{_OPEN_CHAR[kind]}' is here", _opener_span(opener)),)
    span = r.span
    work = r.work
    line_start = work.rfind("\n", 0, tok.start_pos) + 1
    if kind == "body" and line_start < tok.start_pos and work[line_start] not in " \t#":
        # `train m on d` after a body left open: the body ends before this line, not mid-line
        end = line_start
        while end < len(work) and (work[end].isalnum() or work[end] == "_"):
            end += 1
        if end > line_start:
            span = r.source.span(line_start, end)
            message = f"missing {closer}: expected {closer}; received '{work[line_start:end]}'"
    return _Found(message, span=span, notes=notes, hint=f"add {closer} before this")


def _missing_value(r: _Refusal) -> _Found | None:
    """A line that ends where a value was expected: ``Dense`` alone, or ``loss`` with nothing after it."""
    if r.tok.type not in ("_NL", "RBODY") or not (r.expected & _VALUE_STARTS) or {"RPAR", "RSQB"} & r.expected:
        return None
    start = r.span.start
    prev = _previous_word(r.work, start)
    if not prev:
        return None
    if prev[0].isupper():
        gap = _gap(r.work, start)
        return _Found(f"expected a layer call such as {prev}(); received '{prev}' alone",
                      span=r.source.span(start - len(prev) - gap, start - gap),
                      hint=f"a layer must be a call such as {prev}() or Dense(10)")
    return _Found(f"expected a value after '{prev}'; received {_received(r.tok)}",
                  hint="a setting or model property is written 'name value', and a layer as a call such as Dense(10)")


def _unmatched_closer(r: _Refusal) -> _Found | None:
    """A closing bracket with no open bracket of its kind."""
    if r.tok.type not in (*_CLOSER_TYPES, "RBODY") or _has_opener(r.brackets, r.tok.type):
        return None
    return _Found(f"expected {_expected(r.expected)}; received an unmatched {_received(r.tok)}")


def _space_before_call(r: _Refusal) -> _Found | None:
    """``Dense (10)``: a space between a call's name and its '('."""
    if r.tok.type != "LPAR" or _gap(r.work, r.tok.start_pos) == 0:
        return None
    word = _previous_word(r.work, r.tok.start_pos)
    if not word:
        return None
    return _Found(f"expected {_expected(r.expected)}; received '('",
                  hint=f"a call has no space before its '(': write {word}(...)")


def _property_with_equals(r: _Refusal) -> _Found | None:
    """``loss = mse`` in a body, where a property is written without '='."""
    if r.tok.type != "EQUAL" or r.innermost is None or r.innermost[0] != "body":
        return None
    prev = _previous_word(r.work, r.tok.start_pos)
    if not prev:
        return None
    return _Found(f"expected a layer, a property written 'name value', or 'repeat'; received '{prev} ='",
                  hint=f"a property has no '=': write {prev} VALUE; variables are defined at the top level with let")


def _assignment_without_let(r: _Refusal) -> _Found | None:
    """``x = 1`` at the top level, where a variable is defined with ``let``."""
    if r.tok.type != "EQUAL" or r.brackets:
        return None
    prev = _previous_word(r.work, r.tok.start_pos)
    if not prev or prev in (*DECLARATIONS, "repeat"):
        return None
    hint = f"to define a variable, write: let {prev} = ..."
    name_start = r.tok.start_pos - _gap(r.work, r.tok.start_pos) - len(prev)
    step_line = _step_above(r.work, name_start)
    if step_line is not None:
        # `train m on d` then `    epochs=3` on the next line: an option cut off from its step
        return _Found(None, hint=f"a step and its options are one line: move {prev}=... to the end of line {step_line}")
    if name_start == 0 or r.work[name_start - 1] == "\n":
        return _Found(f"expected a statement such as 'let {prev} = ...'; received '{prev} =' without 'let'",
                      span=r.source.span(name_start, r.tok.end_pos), hint=hint)
    return _Found(None, hint=hint)  # the general message, with the hint


def _step_above(work: str, name_start: int) -> int | None:
    """The line number of the step just above an indented ``name =`` line, or None.

    Only an indented line counts: at the left margin, ``x = 1`` is far more likely a ``let`` without ``let``.
    """
    line_start = work.rfind("\n", 0, name_start) + 1
    if name_start == line_start or work[line_start:name_start].strip():
        return None
    lines = work[:line_start].splitlines()
    for number in range(len(lines), 0, -1):
        text = lines[number - 1].split("#", 1)[0].strip()
        if not text:
            continue
        first = re.match(r"[A-Za-z_][A-Za-z0-9_]*", text)
        if lines[number - 1][:1] in (" ", "\t") or first is None or text.endswith(("{", ",", "(", "[")):
            return None
        if first.group() in (*DECLARATIONS, "repeat", *SETTINGS):
            return None
        return number
    return None


def _line_break_before_equals(r: _Refusal) -> _Found | None:
    """``let x`` with nothing after the name."""
    if r.tok.type == "_NL" and r.expected <= {"EQUAL"}:
        return _Found("expected '='; received a line break")
    return None


# Tried in order; the first that recognises the mistake gives the message.
_MESSAGE_RULES = (
    _wrong_closer, _missing_closer, _missing_value, _unmatched_closer, _space_before_call,
    _property_with_equals, _assignment_without_let, _line_break_before_equals,
)


def _repeat_outside_a_body(r: _Refusal) -> str | None:
    if r.tok.type == TERMINALS["repeat"] and TERMINALS["let"] in r.expected:
        return "'repeat' goes inside a model or block body"
    return None


def _reserved_word_as_name(r: _Refusal) -> str | None:
    if r.tok.type in _KEYWORDS and (r.expected & _VALUE_STARTS or "NAME" in r.expected):
        return f"'{r.tok}' is a reserved word: choose another name, or put text in quotes"
    return None


def _string_closed_early(r: _Refusal) -> str | None:
    """``csv("a.csv, target="y")``: a string closed by the quote meant to open the next one."""
    tok = r.tok
    if tok.type in _VALUE_STARTS and _gap(r.work, tok.start_pos) == 0 and r.work[tok.start_pos - 1 : tok.start_pos] == '"':
        return "the string before this ends at the '\"' just before it: is a closing '\"' missing earlier?"
    return None


def _space_before_open_call(r: _Refusal) -> str | None:
    """Inside ``Dense (10, ...``: the '(' that opened the group was meant as a call's."""
    if r.innermost is None or r.innermost[0] != "LPAR":
        return None
    opener = r.innermost[1]
    word = _previous_word(r.work, opener.start_pos)
    if _gap(r.work, opener.start_pos) > 0 and word and word not in _WORDS_BEFORE_VALUES:
        return f"a call has no space before its '(': write {word}(...)"
    return None


def _brace_on_the_next_line(r: _Refusal) -> str | None:
    if r.expected == {"LBODY"}:
        return "put the '{' at the end of this line"
    return None


# Hints for the general message only (no rule above recognised the mistake); the first that applies.
_HINTS_FOR_THE_GENERAL_MESSAGE = (_repeat_outside_a_body, _reserved_word_as_name, _string_closed_early)
# Hints for any message that has none yet; the first that applies.
_HINTS = (_space_before_open_call, _brace_on_the_next_line)


# ---------------------------------------------------------------- positions


def _token_span(tok, source: Source) -> Span:
    if tok.type == "$END" or getattr(tok, "start_pos", None) is None:
        n = len(source.text)
        return source.span(n, n)
    return Span(tok.start_pos, tok.end_pos, tok.line, tok.column, tok.end_line, tok.end_column)


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


def statement_region(work: str, pos: int):
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
