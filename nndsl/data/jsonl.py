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

from ..errors import RunError
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
    labelled: dict[Path, bool] = {}  # streamed: whether a file's single target holds class labels, once asked
    guessed: set[Path] = set()  # streamed: the first file, while its keys are those of its first piece
    return read_parts(args, name=name, base=base, decl=decl, source=source, what="JSON lines", suffixes=SUFFIXES,
                      read_part=lambda part, first, fail: _read_part(part, args, first, fail), row_word="line",
                      budget=memory_budget,
                      open_part=lambda part, first, fail: open_json_part(part, args, first, fail, labelled, guessed))


def _read_part(part: Part, args: dict, first: Roles | None, fail) -> tuple[Roles, Block]:
    import pyarrow as pa

    try:
        table = _read_whole(part.path)
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


def _read_whole(path: Path):
    """The file as one Arrow table, its blocks grown (up to the file's size) while a line is longer than one."""
    import pyarrow as pa
    import pyarrow.json as pajson

    block = 1 << 20  # Arrow's default
    while True:
        try:
            return pajson.read_json(path, read_options=pajson.ReadOptions(use_threads=True, block_size=block))
        except pa.ArrowInvalid as exc:
            if "straddling" not in str(exc) or block >= path.stat().st_size:
                raise
            block *= 4


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


def open_json_part(part: Part, args: dict, first: Roles | None, fail, labelled: dict | None = None,
                   guessed: set | None = None) -> tuple[Roles, Iterator[tuple[int, Block]]]:
    """The file's roles and its record batches, read as the table read whole reads the file.

    Arrow's streaming JSON reader fixes each column's type and the file's keys from its first
    block: a key without a value there, or first met later, or a number after whole numbers, or a
    line longer than a block is refused. Here each piece of about ``BATCH_BYTES`` (whole lines,
    longer for a longer line) is read on its own and made to agree with the others: a key it lacks
    is a column of missing values, a column of nulls takes the file's type, and a column whose
    values change kind between pieces (numbers, then text) is located as when read whole. The
    file's keys, in the order the table read whole has them, are those of the whole file. The
    table's first file is opened with the keys of its first piece, as a guess, which machine-written
    files bear out: its path goes into ``guessed``, and a key first met in a later piece raises
    :class:`nndsl.data.stream.ColumnsFoundLater`, after the file was looked through for every key,
    for the table to be opened again with them. (A file looked through already, by ``nndsl
    predict`` choosing a model's columns, say, is opened with its keys.) A later file is looked
    through only where its first piece lacks one of the first file's keys.

    ``labelled``, shared by the opens of one table: whether a file's single target holds class
    labels (text that is not a number in any line), asked of the whole file the first time a piece
    of it cannot tell (a missing or bad target); a file of labels then reads every piece's target
    as labels, as the table read whole does.
    """
    guessed = set() if guessed is None else guessed
    if first is None:
        header = _surveyed_keys(part.path)
        if header is None:
            header = _first_keys(part.path, fail)
            guessed.add(part.path)
        if part.path in guessed and not _named(args) <= set(header):  # a column the arguments name is met further on
            guessed.discard(part.path)
            header = _keys(part.path, fail)
    else:
        header = _first_keys(part.path, fail)
        if set(header) != set(first.header):
            header = _keys(part.path, fail)
    if not header:
        raise fail("expected JSON objects, one per line; received an empty file")
    try:
        roles = part_roles(args, header, first, fail)
    except RunError:
        if part.path not in guessed:
            raise
        # a column the arguments name may be met further on, and the error lists the columns: with every key
        guessed.discard(part.path)
        roles = part_roles(args, _keys(part.path, fail), first, fail)
    return roles, _json_batches(part, roles, allowed_columns(roles, args), fail, _LineNumbers(part.path),
                                {} if labelled is None else labelled, guessed)


# Pieces parsed ahead of the one being used, on two threads: Arrow's parse releases the GIL, so
# this reads as fast as Arrow's own streaming reader, holding a few pieces of text at a time.
PIECES_AHEAD = 4


def _pieces(path: Path, size: int) -> Iterator[bytes]:
    """The file's bytes in pieces of whole lines, each about ``size`` bytes (a longer line, longer)."""
    with open(path, "rb") as fh:
        rest = b""
        while True:
            buf = fh.read(size)
            if not buf:
                if rest.strip():
                    yield rest
                return
            buf = rest + buf
            cut = buf.rfind(b"\n") + 1
            if not cut:  # no line ends in it yet: a line longer than a piece
                rest = buf
                continue
            piece, rest = buf[:cut], buf[cut:]
            if piece.strip():
                yield piece


def _parse(piece: bytes):
    import io

    import pyarrow.json as pajson

    # one block of the whole piece: no line straddles blocks, and its columns take one type each
    return pajson.read_json(io.BytesIO(piece), read_options=pajson.ReadOptions(use_threads=False, block_size=len(piece) + 1))


_POOL = None  # the threads that parse pieces ahead, shared by every file read in the process


def _parsing_pool():
    """The process's two threads parsing pieces ahead, started on first use.

    One pool for the process, never shut down by a reader: a reader is a generator that the
    garbage collector may close on any thread (tf.data's own, for one), and a pool shut down
    there would join its threads inside the collector, which can deadlock on the threading
    module's locks. Closing a reader cancels what it asked for, and joins nothing.
    """
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(2, thread_name_prefix="nndsl-json")
    return _POOL


def _tables(path: Path) -> Iterator:
    """Each piece of the file as an Arrow table, parsed a few pieces ahead."""
    from collections import deque

    pool = _parsing_pool()
    pieces = _pieces(path, batches.BATCH_BYTES)
    ahead: deque = deque()
    try:
        for piece in pieces:
            ahead.append(pool.submit(_parse, piece))
            if len(ahead) > PIECES_AHEAD:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()
    finally:
        for future in ahead:
            future.cancel()
        pieces.close()


# The keys of first pieces, by the piece's bytes' hash: a streamed table opens each file again
# every epoch, and reading a piece costs far less than parsing it.
_FIRST_KEYS: dict[bytes, list[str]] = {}


def _first_keys(path: Path, fail) -> list[str]:
    """The keys of the file's first piece."""
    import pyarrow as pa

    from .table import new_hash

    pieces = _pieces(path, batches.BATCH_BYTES)
    try:
        piece = next(pieces, None)
        if piece is None:
            return []
        h = new_hash()
        h.update(piece)
        seen = h.digest()
        if seen not in _FIRST_KEYS:
            if len(_FIRST_KEYS) >= 1024:
                _FIRST_KEYS.clear()
            _FIRST_KEYS[seen] = _parse(piece).column_names
        return list(_FIRST_KEYS[seen])
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise _locate(path, fail, exc) from None
    except OSError as exc:
        raise fail(f"expected a readable file; received {exc.strerror or exc}") from None
    finally:
        pieces.close()


def keys(path: Path) -> list[str]:
    """Every key of a JSON lines file, in the order the table read whole has them as columns; []
    where the file cannot be read (its loader says why). The file is read through once."""

    class Unreadable(Exception):
        pass

    try:
        return _keys(path, lambda *args, **kwargs: Unreadable())
    except Unreadable:
        return []


# The last file's survey, by path, size and modification time: the command line picking a saved
# model's columns and the loader streaming the table read the file through once for it.
_SURVEYED: dict[tuple, tuple[list[str], dict]] = {}


def _named(args: dict) -> set[str]:
    """Every column a source's arguments name (its roles, and the keys of a ``missing=`` dict)."""
    from .columns import as_list

    names = {c for key in ("target", "id", "exclude", "categorical", "text", "numeric", "features")
             for c in as_list(args.get(key)) or ()}
    missing = args.get("missing")
    return names | set(missing) if isinstance(missing, dict) else names


def _surveyed_keys(path: Path) -> list[str] | None:
    """The keys of the file as its last survey found them, if the file has not changed since; else None."""
    try:
        stat = path.stat()
    except OSError:
        return None
    found = _SURVEYED.get((str(path), stat.st_size, stat.st_mtime_ns))
    return None if found is None else list(found[0])


def _keys(path: Path, fail) -> list[str]:
    """Every key of the file, in the order of the first line holding each (as Arrow orders the file read whole)."""
    return list(_survey(path, fail)[0])


def _survey(path: Path, fail) -> tuple[list[str], dict]:
    """The file's keys, and the first type other than null of each (a key of nulls only: absent),
    the file read through: a line Arrow refuses or a key whose values change kind raises, located,
    as when the file is read whole (which refuses those before anything else)."""
    import pyarrow as pa

    types: dict = {}
    try:
        stat = path.stat()
        seen = (str(path), stat.st_size, stat.st_mtime_ns)
        if seen in _SURVEYED:
            return _SURVEYED[seen]
        found: dict[str, None] = {}
        for table in _tables(path):
            found.update(dict.fromkeys(table.column_names))
            for name in table.column_names:
                t = table.column(name).type
                kind = _kind(t)
                if kind is not None and _kind(types.setdefault(name, t)) != kind:
                    raise _locate(path, fail, ValueError(f"Column(/{name}) changed from {_kind(types[name])} to {kind}"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise _locate(path, fail, exc) from None
    except OSError as exc:
        raise fail(f"expected a readable file; received {exc.strerror or exc}") from None
    _SURVEYED.clear()
    _SURVEYED[seen] = (list(found), types)
    return _SURVEYED[seen]


def _kind(t) -> str | None:
    """What a column of Arrow type ``t`` holds, as _locate names it: None for a column of nulls."""
    import pyarrow as pa

    if pa.types.is_null(t):
        return None
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "a number"
    if pa.types.is_boolean(t):
        return "a boolean"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "text"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return "a list"
    return "an object" if pa.types.is_struct(t) else str(t)


class _TextTarget(Exception):
    """A piece's target cannot be numbers: the file's target holds class labels."""


def _holds_labels(path: Path, roles: Roles, fail) -> bool:
    """Whether the file's single target holds class labels somewhere (as :func:`table_to_block` decides them)."""
    import pyarrow as pa

    from .blocks import label_column

    try:
        for table in _tables(path):
            if roles.targets[0] in table.column_names and label_column(table, roles):
                return True
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise _locate(path, fail, exc) from None
    return False


def _json_batches(part: Part, roles: Roles, missing_ok, fail, lines, labelled: dict,
                  guessed: set) -> Iterator[tuple[int, Block]]:
    import numpy as np
    import pyarrow as pa

    from .blocks import Problem

    kinds: dict[str, tuple[str, object]] = {}  # each column's first kind other than null, and its type
    header = set(roles.header)
    single = roles.targets[0] if len(roles.targets) == 1 else None
    # a file of labels: its target read as text, as an id is
    text_roles = Roles(roles.header, roles.features, (), roles.ids + roles.targets, roles.categorical, roles.as_text)

    def labels() -> bool:
        if part.path not in labelled:
            labelled[part.path] = _holds_labels(part.path, roles, fail)
        return labelled[part.path]

    def problem(p: Problem, at: int) -> Exception:
        # read whole, a line Arrow refuses, a change of kind, or a feature or target column without a
        # number anywhere (nulls, lists) is refused before any cell: the rest of the file is looked
        # through for them (on this error path only)
        types = _survey(part.path, fail)[1]
        pending = {c for c in roles.numeric if c not in kinds}
        if pending:
            for k, name in enumerate(roles.numeric):
                t = types.get(name, pa.null())
                if name in pending and _kind(t) not in ("a number", "a boolean", "text") and \
                        (0, k) <= (at + p.row, list(roles.numeric).index(p.column)):
                    return problem_error(Problem(0, name, "type", str(t), target=name in roles.targets), fail, 1)
        return problem_error(p, fail, lines.of(at + p.row))

    start = 0
    tables = _tables(part.path)
    while True:
        try:
            table = next(tables)
        except StopIteration:
            break
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise _locate(part.path, fail, exc) from None
        except OSError as exc:
            raise fail(f"expected a readable file; received {exc.strerror or exc}") from None
        if not header.issuperset(table.column_names):  # a key first met here
            keys = _keys(part.path, fail)  # the file looked through (and a line Arrow refuses reported)
            if part.path in guessed:  # the table's first file, opened with its first piece's keys
                from .stream import ColumnsFoundLater

                guessed.discard(part.path)
                raise ColumnsFoundLater()
            part_roles({}, keys, roles, fail)  # the file's keys differ from the first file's
        for name in table.column_names:
            t = table.column(name).type
            kind = _kind(t)
            if kind is not None and kinds.setdefault(name, (kind, t))[0] != kind:
                raise _locate(part.path, fail, ValueError(f"Column(/{name}) changed from {kinds[name][0]} to {kind}"))
        table = _conformed(table, roles, kinds)
        at = start
        block = None
        if not (single and labelled.get(part.path)):
            def target_problem(p, at=at):
                return _TextTarget() if p.column == single and labels() else problem(p, at)

            try:
                block = table_to_block(table, roles, target_problem, missing_ok)
            except _TextTarget:
                block = None
            else:
                if block.labels:
                    labelled[part.path] = True
                elif single and np.isnan(block.y).any() and labels():  # a missing target: an empty label, read whole
                    block = None
        if block is None:
            table = table.set_column(table.column_names.index(single), single, table.column(single).cast(pa.string()))
            block = table_to_block(table, text_roles, lambda p, at=at: problem(p, at), missing_ok)
            block = Block(block.x, None, block.texts, (single,))
        block.row_of = lambda row, at=at: lines.of(at + row)
        yield start, block
        start += table.num_rows
    guessed.discard(part.path)  # read to its end: its first piece held every key
    for name in roles.numeric:
        if name not in kinds:  # nulls only: a column of type null read whole
            raise problem_error(Problem(0, name, "type", "null", target=name in roles.targets), fail, 1)


def _conformed(table, roles: Roles, kinds: dict):
    """A piece's table with every column of the file, a column of nulls typed as the file's."""
    import pyarrow as pa

    columns = []
    for name in roles.header:
        col = table.column(name) if name in table.column_names else pa.nulls(table.num_rows)
        if pa.types.is_null(col.type):
            if name in kinds:
                t = kinds[name][1]
            else:  # no value yet: numbers in a feature or target, text elsewhere (as a missing value reads in either)
                t = pa.float64() if name in roles.numeric else pa.string()
            col = col.cast(t)
        columns.append(col)
    return pa.Table.from_arrays(columns, names=list(roles.header))
