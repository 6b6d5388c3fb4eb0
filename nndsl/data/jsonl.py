"""The ``json`` data source: JSON lines, one object per line, each key a column.

Arrow reads the file; when it refuses it, the file is read again line by line with Python's
``json`` module to find the first bad line (text that is not JSON, a value that is not an
object, a key whose values change from numbers to text). Lines in messages are the file's
lines, counted from 1.
"""

from __future__ import annotations

import json as _json
from collections.abc import Iterator
from pathlib import Path

from . import batches
from .blocks import Block, problem_error, table_to_block
from .columns import Roles
from .missing import allowed_columns
from .parts import part_roles, read_parts
from .paths import Part
from .table import Dataset

SUFFIXES = (".jsonl", ".ndjson", ".json")


def load(args: dict, *, name: str, base: Path, decl=None, source=None, memory_budget: int | None = None) -> Dataset:
    """Read a JSON lines file (or several) into a :class:`Dataset`.

    Errors name the file, the line and the key: a line that is not a JSON object, a key whose
    values change type, a missing key in a feature or target column, a value that is not a
    finite number, and part files with different keys.

    A table estimated larger than ``memory_budget`` bytes is not kept in memory: it is read once in
    record batches (checked, and what fitting needs gathered) and returned streamed, its rows read
    again when a step needs them (:mod:`nndsl.data.stream`); without a budget every table is read whole.
    """
    return read_parts(args, name=name, base=base, decl=decl, source=source, what="JSON lines", suffixes=SUFFIXES,
                      read_part=lambda part, first, fail: _read_part(part, args, first, fail), row_word="line",
                      budget=memory_budget, open_part=lambda part, first, fail: open_json_part(part, args, first, fail))


def _read_part(part: Part, args: dict, first: Roles | None, fail) -> tuple[Roles, Block]:
    import pyarrow as pa
    import pyarrow.json as pajson

    try:
        table = pajson.read_json(part.path, read_options=pajson.ReadOptions(use_threads=True))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise _locate(part.path, fail, exc) from None
    except OSError as exc:
        raise fail(f"expected a readable file; received {exc.strerror or exc}") from None
    header = table.column_names
    if not header:
        raise fail("expected JSON objects, one per line; received an empty file")
    roles = part_roles(args, header, first, fail)
    lines = _LineNumbers(part.path)
    block = table_to_block(table, roles, lambda p: problem_error(p, fail, lines.of(p.row)), allowed_columns(roles, args))
    block.row_of = lines.of
    return roles, block


class _LineNumbers:
    """The file line of a 0-based row (blank lines hold no row); read only when an error needs it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def of(self, row: int) -> int:
        seen = -1
        with open(self.path, encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, 1):
                if line.strip():
                    seen += 1
                    if seen == row:
                        return number
        return row + 1


_KIND = {bool: "a boolean", int: "a number", float: "a number", str: "text", list: "a list", dict: "an object"}


def _locate(path: Path, fail, exc: Exception) -> Exception:
    """The error for the first line Arrow refused, found by reading the file line by line."""
    kinds: dict[str, tuple[str, int]] = {}
    objects = 0
    try:
        with open(path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                objects += 1
                try:
                    value = _json.loads(line.strip())
                except ValueError as err:
                    return fail(f"expected a JSON object; received text that is not JSON ({err.msg} at column {err.colno})",
                                where_row=number)
                if not isinstance(value, dict):
                    return fail(f"expected a JSON object; received {_KIND.get(type(value), 'a JSON value')}", where_row=number)
                for key, v in value.items():
                    if v is None:
                        continue
                    kind = _KIND.get(type(v), "a JSON value")
                    seen = kinds.setdefault(key, (kind, number))
                    if seen[0] != kind:
                        return fail(f"expected {seen[0]} like line {seen[1]}; received {kind} ({_json.dumps(v)[:40]})",
                                    where_row=number, column=key)
    except UnicodeDecodeError as err:
        return fail(f"expected UTF-8 text; received bytes that are not ({err.reason})")
    if not objects:
        return fail("expected JSON objects, one per line; received an empty file")
    return fail(f"expected JSON lines; received text Arrow cannot read ({str(exc).splitlines()[0]})")


def open_json_part(part: Part, args: dict, first: Roles | None, fail) -> tuple[Roles, Iterator[tuple[int, Block]]]:
    import pyarrow as pa
    import pyarrow.json as pajson

    try:
        reader = pajson.open_json(part.path, read_options=pajson.ReadOptions(use_threads=True, block_size=batches.BATCH_BYTES))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise _locate(part.path, fail, exc) from None
    except OSError as exc:
        raise fail(f"expected a readable file; received {exc.strerror or exc}") from None
    header = reader.schema.names
    if not header:
        raise fail("expected JSON objects, one per line; received an empty file")
    roles = part_roles(args, header, first, fail)
    return roles, _json_batches(part, reader, roles, allowed_columns(roles, args), fail, _LineNumbers(part.path))


def _json_batches(part: Part, reader, roles: Roles, missing_ok, fail, lines):
    import pyarrow as pa

    return batches.read_blocks(iter(reader), roles, missing_ok, fail, lines.of, lambda exc: _locate(part.path, fail, exc),
                               (pa.ArrowInvalid, pa.ArrowNotImplementedError))
