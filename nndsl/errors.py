"""Every error nndsl raises for a user mistake, and their plain-text rendering.

Errors carry :class:`Diagnostic` objects: a stable code, a message written as
"expected X; received Y", the span it points at, optional notes and a hint. They are
rendered mypy-style (``file:line:col: error: message [code]``) with the source line
and a caret under the exact span.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .source import Source, Span


@dataclass(frozen=True)
class Note:
    """Extra information attached to a diagnostic, optionally pointing elsewhere in the source."""

    message: str
    span: Span | None = None


@dataclass(frozen=True)
class Diagnostic:
    """One problem in one place."""

    code: str
    message: str
    span: Span | None
    source: Source | None = field(default=None, compare=False, repr=False)
    notes: tuple[Note, ...] = ()
    hint: str | None = None
    severity: str = "error"

    def render(self, color: bool = False) -> str:
        """The diagnostic as text: header, source line, caret, notes and hint."""
        return render_diagnostic(self, color=color)


def closest(name: str, candidates: Iterable[str], *, normalize=None) -> str | None:
    """The candidate closest to ``name``, or None when nothing is close enough."""
    cands = list(dict.fromkeys(candidates))
    if not cands:
        return None
    key = normalize or (lambda s: s.lower())
    keyed: dict[str, str] = {}
    styled = name[:1].isupper()
    for c in cands:
        k = key(c)
        # Several spellings of one name (MeanSquaredError, mean_squared_error): offer the one
        # written in the same style as the user's.
        if k not in keyed or (keyed[k][:1].isupper() != styled and c[:1].isupper() == styled):
            keyed[k] = c
    target = key(name)
    if target in keyed:
        return keyed[target]
    import difflib  # only when a name is unknown: keeps start-up light

    match = difflib.get_close_matches(target, list(keyed), n=1, cutoff=0.6)
    return keyed[match[0]] if match else None


def did_you_mean(name: str, candidates: Iterable[str], *, normalize=None) -> str | None:
    """A "did you mean 'x'?" hint, or None."""
    best = closest(name, candidates, normalize=normalize)
    return f"did you mean '{best}'?" if best is not None else None


class NndslError(Exception):
    """Base of every error caused by the user's input. The CLI renders it and exits with ``exit_code``."""

    exit_code = 1

    def __init__(self, message: str = "", diagnostics: Sequence[Diagnostic] = (), *, param: str | None = None) -> None:
        self.diagnostics = tuple(diagnostics)
        # The parameter whose value is wrong, when one is: the caller points at where it is written.
        self.param = param
        if not message and self.diagnostics:
            message = self.diagnostics[0].message
        super().__init__(message)

    def render(self, color: bool = False) -> str:
        """Every diagnostic, rendered, or the message when there is none."""
        if not self.diagnostics:
            return f"error: {self}"
        parts = [d.render(color=color) for d in self.diagnostics]
        errors = sum(1 for d in self.diagnostics if d.severity == "error")
        if errors > 1:
            parts.append(f"found {errors} errors")
        return "\n\n".join(parts)


class NndslSyntaxError(NndslError):
    """The text does not follow the grammar."""


class NndslCheckError(NndslError):
    """The program parses but is not valid: unknown names, bad arguments, shape mismatches."""


class PluginError(NndslError):
    """A plugin could not be loaded or collides with another."""


class RunError(NndslError):
    """A step failed at run time because of the user's data, paths or files."""


class UsageError(NndslError):
    """The command line is wrong."""

    exit_code = 2


_COLORS = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "note": "\x1b[1;36m", "bold": "\x1b[1m", "blue": "\x1b[1;34m",
           "reset": "\x1b[0m"}


def _expand(text: str) -> str:
    return text.replace("\t", "    ")


def render_diagnostic(d: Diagnostic, color: bool = False) -> str:
    """Render one diagnostic; see the module docstring for the layout."""
    c = _COLORS if color else {k: "" for k in _COLORS}
    name = d.source.name if d.source is not None else "<input>"
    sev = d.severity
    if d.span is not None:
        where = f"{name}:{d.span.line}:{d.span.column}: "
    else:
        where = f"{name}: " if d.source is not None else ""
    message, hint = _bounded(d.message), _bounded(d.hint)
    lines = [f"{c['bold']}{where}{c['reset']}{c[sev]}{sev}:{c['reset']} {c['bold']}{message}{c['reset']} [{d.code}]"]
    if d.span is not None and d.source is not None:
        lines.extend(_snippet(d.source, d.span, label=hint, color=c, caret_color=c[sev]))
    elif hint:
        lines.append(f"  = hint: {hint}")
    for note in d.notes:
        if note.span is not None and d.source is not None:
            lines.append(f"  = note: {_bounded(note.message)} (line {note.span.line})")
            lines.extend(_snippet(d.source, note.span, label=None, color=c, caret_color=c["note"]))
        else:
            lines.append(f"  = note: {_bounded(note.message)}")
    return "\n".join(lines)


# A source line longer than this many columns is shown as a window around the span: a generated
# or minified file can hold a line of megabytes, which would otherwise be printed twice (the
# line and its caret line) for every diagnostic on it.
WINDOW = 200
_WINDOW_BEFORE = 60  # columns of the line kept before the span, when the line is cut
ELLIPSIS = "\u2026"


# A message quotes what it received: a string literal or file name of megabytes would make the
# message as long. Past this many characters its middle is left out (the start says what was
# expected, the end often holds the reason).
MESSAGE_LIMIT = 2000


def _bounded(text: str | None) -> str | None:
    if text is None or len(text) <= MESSAGE_LIMIT:
        return text
    head, tail = MESSAGE_LIMIT * 3 // 4, MESSAGE_LIMIT // 4
    return f"{text[:head]}{ELLIPSIS} ({len(text) - head - tail} characters left out) {ELLIPSIS}{text[-tail:]}"


def _snippet(source: Source, span: Span, label: str | None, color: dict, caret_color: str) -> list[str]:
    line_no = span.line
    text = source.line_text(line_no)
    gutter = len(str(line_no))
    start = len(_expand(text[: span.column - 1]))
    if span.end_line == span.line:
        width = max(1, len(_expand(text[span.column - 1 : span.end_column - 1])))
    else:
        width = max(1, len(_expand(text[span.column - 1 :])))
    shown = _expand(text)
    if len(shown) > WINDOW:
        shown, start, width = _window(shown, start, width)
    elif color.get("reset"):
        shown = _highlighted(source, line_no, shown)
    caret = " " * start + "^" * width
    out = [
        f"{color['blue']}{line_no} |{color['reset']} {shown}".rstrip(),
        f"{color['blue']}{' ' * gutter} |{color['reset']} {caret_color}{caret}{(' ' + label) if label else ''}{color['reset']}",
    ]
    return out


def _window(line: str, start: int, width: int) -> tuple[str, int, int]:
    """At most :data:`WINDOW` columns of ``line`` around the span at ``start`` (``width`` columns),
    with an ellipsis on each side that was cut; returns the text and the span's place in it.
    A span longer than the window is underlined up to the window's end."""
    lo = max(0, min(start - _WINDOW_BEFORE, len(line) - WINDOW))
    hi = min(len(line), lo + WINDOW)
    left = ELLIPSIS if lo > 0 else ""
    right = ELLIPSIS if hi < len(line) else ""
    width = max(1, min(start + width, hi) - start)
    return left + line[lo:hi] + right, len(left) + start - lo, width


_ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")


def _highlighted(source: Source, line_no: int, plain: str) -> str:
    """The source line with .nn syntax colours for a terminal; ``plain`` when it cannot be."""
    try:
        from .highlight import ansi_line

        coloured = ansi_line(source.text, line_no)
    except Exception:  # colour is a nicety: never let it hide the diagnostic
        return plain
    if coloured is None or _ANSI_CODE.sub("", coloured).rstrip() != plain.rstrip():
        return plain
    return coloured
