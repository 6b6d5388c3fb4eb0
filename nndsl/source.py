"""Source text and spans: where every node and diagnostic points in the input."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from itertools import accumulate, count
from operator import add
from pathlib import Path
from typing import NamedTuple


class Span(NamedTuple):
    """A half-open range ``[start, end)`` of character offsets, with 1-based line/column of both ends.

    A named tuple rather than a frozen dataclass: the parser makes one per token and node, and a
    tuple is several times cheaper to create while being just as immutable.
    """

    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int

    def combine(self, other: Span) -> Span:
        """The smallest span covering ``self`` and ``other``."""
        first = self if self.start <= other.start else other
        last = self if self.end >= other.end else other
        return _tuple_new(Span, (first.start, last.end, first.line, first.column, last.end_line, last.end_column))

    @staticmethod
    def fake() -> Span:
        """A span for nodes made by code rather than parsed from text."""
        return Span(0, 0, 1, 1, 1, 1)


# Span(...) goes through the Python-level __new__ namedtuple makes; tuple.__new__(Span, ...) is
# the same tuple at less than half the cost, for code that makes many spans.
_tuple_new = tuple.__new__


@dataclass(frozen=True)
class Source:
    """A named piece of text. The embeddable API carries the text itself; the input need not be a file."""

    name: str
    text: str
    _line_starts: list = field(default=None, repr=False, compare=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        # Line k starts after the lengths of lines 0..k-1 and k line breaks. Computed with split,
        # accumulate and map, which run in C: a find loop costs several times more on long texts.
        lengths = map(len, self.text.split("\n")[:-1])
        starts = list(map(add, accumulate(lengths, initial=0), count()))
        object.__setattr__(self, "_line_starts", starts)

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def span(self, start: int, end: int) -> Span:
        """The span of offsets ``[start, end)``."""
        line, col = self.position(start)
        end_line, end_col = self.position(end)
        return Span(start, end, line, col, end_line, end_col)

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line break."""
        if line < 1 or line > len(self._line_starts):
            return ""
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        text = self.text[start:] if end == -1 else self.text[start:end]
        return text.rstrip("\r")


def read_text(path) -> str:
    """The text of a ``.nn`` file: UTF-8, with or without a byte-order mark.

    The one reader of ``.nn`` files: :func:`nndsl.parse_file` and the command line both use it.

    Raises:
        OSError: the file cannot be read (it does not exist, is a folder, is not readable).
        UnicodeDecodeError: its bytes are not UTF-8.
    """
    return Path(path).read_bytes().decode("utf-8-sig")
