"""Syntax highlighting of ``.nn`` files: a Pygments lexer, and ANSI colouring of source lines.

``NnLexer`` is registered with Pygments under the names ``nn`` and ``nndsl`` (entry point
``pygments.lexers``), so ``pygmentize -l nn model.nn``, Sphinx/MkDocs code blocks tagged
``nn`` and anything else built on Pygments highlight ``.nn`` text. The token classes follow
the grammar (``grammars/nn.lark``):

==============================  ==========================================================
token                           what
==============================  ==========================================================
``Comment.Single``              ``# ...`` to the end of the line
``String.Double``               ``"..."``; ``String.Escape`` for ``\\n``, ``\\u00e9``...
``Number.Integer``/``.Float``   ``42``, ``0.5``, ``.5``, ``2.``, ``1e-3``
``Keyword.Declaration``         ``let data model block``
``Keyword``                     ``repeat on to from``
``Keyword.Constant``            ``true false none``
``Keyword.Pseudo``              settings at the start of a line: ``seed backend distribute track``
``Name.Builtin``                step verbs at the start of a top-level line: ``train``, ``plot``...
``Name.Class``                  a model's name (where it is defined or a step names it); a
                                capitalised call such as ``Dense(`` or ``Adam(``
``Name.Function``               a block's name; a lower-case call such as ``csv(``
``Name.Variable``               the name a ``let`` or ``data`` defines
``Name.Tag``                    a model property at the start of a body line: ``loss``,
                                ``optimizer``, ``metrics``, ``scale_features``...
``Name.Attribute``              a keyword argument or step option: ``activation=``
``Name``                        any other name (a variable use or a symbol such as ``relu``)
``Operator``                    ``+ - * / // % =``
``Punctuation``                 ``( ) [ ] { } , :``
==============================  ==========================================================

Verbs, properties and settings are recognised by position (a name at the start of a top-level
line is a step or a setting; at the start of a body line, a property), so plugin steps are
highlighted too. Importing this module imports Pygments, not TensorFlow.
"""

from __future__ import annotations

import functools

from pygments.lexer import RegexLexer, bygroups, default, include, words
from pygments.token import (
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Token,
    Whitespace,
)

from .vocabulary import CLAUSES, CONSTANTS, DECLARATIONS, PROPERTIES, REPEAT, RESERVED, SETTINGS

__all__ = ["NnLexer", "ansi_line", "ansi_lines"]

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_NOT_RESERVED = r"(?!(?:" + "|".join(RESERVED) + r")\b)"
_FLOAT = r"(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+"


class NnLexer(RegexLexer):
    """Pygments lexer for nndsl's ``.nn`` files."""

    name = "nndsl"
    aliases = ["nn", "nndsl"]
    filenames = ["*.nn"]
    mimetypes = ["text/x-nndsl"]

    tokens = {
        # ------------------------------------------------------------ shared pieces
        "space": [
            (r"[ \t\f\ufeff]+", Whitespace),
            (r"\r?\n", Whitespace),
            (r"#[^\n]*", Comment.Single),
        ],
        "value": [
            (r'"', String.Double, "string"),
            (_FLOAT, Number.Float),
            (r"\d+", Number.Integer),
            (words(CONSTANTS, suffix=r"\b"), Keyword.Constant),
            # a call: the name directly followed by '('
            (r"([A-Z][A-Za-z0-9_]*)(\()", bygroups(Name.Class, Punctuation), "nested"),
            (r"(" + _NAME + r")(\()", bygroups(Name.Function, Punctuation), "nested"),
            # name=value (a keyword argument or a step option), but not '=='
            (r"(" + _NAME + r")([ \t]*)(=)", bygroups(Name.Attribute, Whitespace, Operator)),
            (words((*CLAUSES, REPEAT), suffix=r"\b"), Keyword),
            (words(DECLARATIONS, suffix=r"\b"), Keyword.Declaration),
            (_NAME, Name),
            (r"//|[-+*/%]", Operator),
            (r"=", Operator),
            (r"[\(\[]", Punctuation, "nested"),
            (r"\{", Punctuation, "nested"),
            (r"[,:]", Punctuation),
        ],
        # ------------------------------------------------------------ top level
        "root": [
            (r"^([ \t]*)(let|data)([ \t]+)(" + _NAME + r")",
             bygroups(Whitespace, Keyword.Declaration, Whitespace, Name.Variable)),
            (r"^([ \t]*)(model)([ \t]+)(" + _NAME + r")",
             bygroups(Whitespace, Keyword.Declaration, Whitespace, Name.Class), "body_open"),
            (r"^([ \t]*)(block)([ \t]+)(" + _NAME + r")(\()",
             bygroups(Whitespace, Keyword.Declaration, Whitespace, Name.Function, Punctuation), "block_params"),
            (r"^([ \t]*)(" + "|".join(SETTINGS) + r")\b(?![(=])", bygroups(Whitespace, Keyword.Pseudo)),
            # a step: its verb, then (usually) the model it acts on
            (r"^([ \t]*)" + _NOT_RESERVED + r"(" + _NAME + r")([ \t]+)" + _NOT_RESERVED + r"(" + _NAME + r")\b(?![(=])",
             bygroups(Whitespace, Name.Builtin, Whitespace, Name.Class)),
            (r"^([ \t]*)" + _NOT_RESERVED + r"(" + _NAME + r")\b(?![(=])", bygroups(Whitespace, Name.Builtin)),
            include("space"),
            (r"\}", Punctuation),  # unbalanced: the parser reports it
            include("value"),
            (r"[)\]]", Punctuation),
        ],
        # after `model NAME`: the body's '{'
        "body_open": [
            (r"[ \t]+", Whitespace),
            (r"\{", Punctuation, ("#pop", "body")),
            (r"#[^\n]*", Comment.Single),
            default("#pop"),
        ],
        # after `block NAME(`: parameters, then ')' and the body
        "block_params": [
            (r"\)", Punctuation, ("#pop", "body_open")),
            include("space"),
            include("value"),
        ],
        # after `repeat`: the count, then the body's '{'
        "repeat_header": [
            (r"\{", Punctuation, ("#pop", "body")),
            (r"\n", Whitespace, "#pop"),
            (r"[ \t\f]+", Whitespace),
            (r"#[^\n]*", Comment.Single),
            include("value"),
        ],
        # a model or block body: layers (calls), properties, repeat
        "body": [
            (r"\}", Punctuation, "#pop"),
            (r"^([ \t]*)(repeat)\b", bygroups(Whitespace, Keyword), "repeat_header"),
            (r"^([ \t]*)(" + "|".join(PROPERTIES) + r")\b(?![(=])", bygroups(Whitespace, Name.Tag)),
            (r"^([ \t]*)" + _NOT_RESERVED + r"(" + _NAME + r")\b(?=[ \t]+[^\s=#(])", bygroups(Whitespace, Name.Tag)),
            include("space"),
            include("value"),
            (r"[)\]]", Punctuation),
        ],
        # inside ( ), [ ] and dict { }: line breaks are free
        "nested": [
            (r"[)\]}]", Punctuation, "#pop"),
            include("space"),
            include("value"),
        ],
        "string": [
            (r'\\(?:u[0-9a-fA-F]{4}|["\\/bfnrt0])', String.Escape),
            (r"\\.", Error),  # an unknown escape: the checker reports it as bad-escape
            (r'[^"\\\n]+', String.Double),
            (r'"', String.Double, "#pop"),
            (r"(?=\n)", String.Double, "#pop"),  # unclosed: the parser reports it
        ],
    }

    def analyse_text(text):  # noqa: N805 - Pygments calls it as a static method
        score = 0.0
        if "\nmodel " in text or text.startswith("model "):
            score += 0.2
        if "Input(shape=" in text:
            score += 0.1
        if "\ntrain " in text:
            score += 0.1
        return min(score, 0.5)


# ---------------------------------------------------------------- ANSI colours for a terminal

_ANSI = (  # most specific first
    (String.Escape, "\x1b[1;32m"),
    (String, "\x1b[32m"),
    (Comment, "\x1b[90m"),
    (Number, "\x1b[36m"),
    (Keyword.Constant, "\x1b[35m"),
    (Keyword.Pseudo, "\x1b[35m"),
    (Keyword, "\x1b[35m"),
    (Name.Builtin, "\x1b[34m"),
    (Name.Class, "\x1b[33m"),
    (Name.Function, "\x1b[33m"),
    (Name.Tag, "\x1b[36m"),
    (Name.Variable, "\x1b[1m"),
    (Error, "\x1b[4;31m"),
)
_RESET = "\x1b[0m"


def _ansi(tok) -> str:
    for kind, code in _ANSI:
        if tok in kind:
            return code
    return ""


@functools.lru_cache(maxsize=8)
def ansi_lines(text: str, tab: str = "    ") -> tuple[str, ...]:
    """Every line of ``text`` coloured for a terminal (tabs shown as ``tab``), lexed as a whole
    file so each token is coloured by its place (a property in a body, a step at top level)."""
    lines: list[str] = [""]
    for _, tok, value in NnLexer(stripnl=False, ensurenl=False).get_tokens_unprocessed(text):
        code = _ansi(tok) if tok is not Token.Text.Whitespace else ""
        parts = value.split("\n")
        for i, part in enumerate(parts):
            if i:
                lines.append("")
            part = part.replace("\r", "").replace("\t", tab)
            if part:
                lines[-1] += f"{code}{part}{_RESET}" if code else part
    return tuple(lines)


def ansi_line(text: str, line: int, tab: str = "    ") -> str | None:
    """Line ``line`` (1-based) of ``text``, coloured; None when there is no such line."""
    lines = ansi_lines(text, tab)
    if line < 1 or line > len(lines):
        return None
    return lines[line - 1]


# ---------------------------------------------------------------- diffs on a terminal


def print_diff(diff: str, file=None) -> None:
    """A unified diff coloured for a terminal (removed lines red, added green, headers bold)."""
    import sys

    from rich.console import Console
    from rich.syntax import Syntax

    console = Console(file=file or sys.stdout, force_terminal=True, highlight=False, soft_wrap=True)
    text = diff if diff.endswith("\n") else diff + "\n"
    console.print(Syntax(text.rstrip("\n"), "diff", theme="ansi_dark", background_color="default", word_wrap=False), soft_wrap=True)
