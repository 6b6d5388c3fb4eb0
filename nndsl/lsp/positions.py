"""Between nndsl's spans and LSP positions.

nndsl counts columns in characters (code points); LSP counts them in code units of the
encoding the client and server agreed on, UTF-16 unless said otherwise. The two differ on a
line holding characters outside ASCII: ``é`` is one unit in UTF-16 but two in UTF-8, and an
emoji is two UTF-16 units. Every position crossing the protocol goes through here.
"""

from __future__ import annotations

from ..source import Source, Span

UTF16 = "utf-16"
UTF8 = "utf-8"
UTF32 = "utf-32"


def _units(text: str, encoding: str) -> int:
    """How many code units ``text`` takes in ``encoding``."""
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8"))
    return len(text.encode("utf-16-le")) // 2


def _chars(line: str, units: int, encoding: str) -> int:
    """How many characters of ``line`` the first ``units`` code units cover (a position inside
    a character counts as before it)."""
    if encoding == UTF32 or line.isascii():
        return min(units, len(line))
    seen = 0
    for i, ch in enumerate(line):
        width = _units(ch, encoding)
        if seen + width > units:
            return i
        seen += width
    return len(line)


class Positions:
    """Positions in one text, in the code units of ``encoding``.

    Args:
        source: the text, with its line index.
        encoding: ``"utf-16"`` (LSP's default), ``"utf-8"`` or ``"utf-32"``.
    """

    def __init__(self, source: Source, encoding: str = UTF16) -> None:
        self.source = source
        self.encoding = encoding
        self._starts = source._line_starts

    def line_text(self, line0: int) -> str:
        """The text of the 0-based line ``line0``, without its line break."""
        return self.source.line_text(line0 + 1)

    def offset(self, line0: int, units: int) -> int:
        """The character offset of the 0-based LSP position ``(line0, units)``, clamped to the text."""
        if line0 < 0:
            return 0
        if line0 >= len(self._starts):
            return len(self.source.text)
        return self._starts[line0] + _chars(self.line_text(line0), units, self.encoding)

    def position(self, offset: int) -> tuple[int, int]:
        """The 0-based LSP position ``(line, units)`` of a character offset."""
        line, column = self.source.position(offset)
        return self._at(line, column)

    def _at(self, line: int, column: int) -> tuple[int, int]:
        text = self.line_text(line - 1)
        return line - 1, _units(text[: column - 1], self.encoding)

    def range(self, span: Span) -> tuple[tuple[int, int], tuple[int, int]]:
        """The LSP range ``((line, units), (line, units))`` of a span."""
        return self._at(span.line, span.column), self._at(span.end_line, span.end_column)
