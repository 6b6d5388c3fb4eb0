"""The ``csv`` data source: a header row, numeric features, optional target column(s).

Files are read by Arrow's multi-threaded CSV reader, with each column's type fixed in advance
(features and targets as numbers, every other column as text). A file Arrow refuses, or one
holding an empty cell, NaN or infinity, is read again row by row (:mod:`nndsl.data.csv_scan`),
which names the file, the row and the column of the first bad cell; so is a small file, for
which importing Arrow would take longer than reading it. The path may be a glob
pattern or a folder of ``.csv`` part files, read as one table. The file's fingerprint is taken
once it is read, from the page cache: that costs less than hashing each block as Arrow reads it.
"""

from __future__ import annotations

import csv as _csv
import itertools
import re
from pathlib import Path

from .batches import empty_rows, open_csv_part
from .blocks import Block, Problem, table_to_block
from .columns import Roles
from .csv_scan import file_row, read_header, scan_rows
from .missing import allowed_columns
from .parts import part_roles, read_parts
from .paths import Part
from .table import Dataset, data_error

# Below this size a file is read row by row: that takes less time than importing Arrow (0.1-0.3 s),
# so a small table, the tutorial's, costs no more than before. Both readers give the same arrays.
SMALL_FILE = 256 * 1024
# The bytes Arrow parses at a time, on each of its threads. Larger blocks measured no faster.
BLOCK_SIZE = 4 << 20


class _Refused(Exception):
    """Arrow could not read the file as declared: the row-by-row reader takes over."""


def load(args: dict, *, name: str, base: Path, decl=None, source=None, memory_budget: int | None = None) -> Dataset:
    """Read a CSV file (or several) into a :class:`Dataset`.

    Errors name the file, the column and the (1-based, header = row 1) row: a missing file, a
    folder without part files, an empty file, a header without rows, a missing column, a
    non-numeric cell, NaN or infinity, ragged rows, and part files with different columns.

    A table estimated larger than ``memory_budget`` bytes is not kept in memory: it is read once in
    record batches (checked, and what fitting needs gathered) and returned streamed, its rows read
    again when a step needs them (:mod:`nndsl.data.stream`); without a budget every table is read whole.
    """
    delimiter = args.get("delimiter") or ","
    if len(delimiter) != 1:
        raise data_error(f"expected a delimiter of one character; received '{delimiter}'", where=args["path"],
                         decl=decl, source=source)
    labelled: set[Path] = set()  # streamed: the files whose single target holds class labels
    return read_parts(args, name=name, base=base, decl=decl, source=source, what="CSV", suffixes=(".csv",),
                      read_part=lambda part, first, fail: _read_part(part, args, delimiter, first, fail),
                      # no file is hashed while it is read: each is hashed after it, not on a thread
                      # of its own that Arrow's reading threads would compete with
                      hashed={}, budget=memory_budget,
                      open_part=lambda part, first, fail: open_csv_part(part, args, delimiter, first, fail, labelled))


def _read_part(part: Part, args: dict, delimiter: str, first: Roles | None, fail) -> tuple[Roles, Block]:
    """One file's roles and rows; ``first`` is the roles of the table's first file, if this is not it."""
    raw, header = read_header(part.path, delimiter, fail)
    roles = part_roles(args, header, first, fail, delimiter=delimiter)
    missing_ok = allowed_columns(roles, args)
    try:
        if part.path.stat().st_size < SMALL_FILE:
            raise _Refused()
        block = _read_arrow(part.path, raw, roles, delimiter, missing_ok)
    except _Refused:
        block = scan_rows(part.path, roles, delimiter, fail, missing_ok)
    block.row_of = lambda row: file_row(part.path, delimiter, row)  # for an error of a missing=/label policy
    return roles, block


def _read_arrow(path: Path, raw_header: list[str], roles: Roles, delimiter: str, missing_ok: frozenset[str]) -> Block:
    """The file's rows through Arrow; raises _Refused where the row-by-row reader must decide.

    The targets are read as numbers when the first rows hold numbers there, as they usually do:
    reading a column as text and then converting it costs more than reading the numbers. Where
    Arrow refuses a target cell, or the first rows hold text, the file is read with the targets as
    text, decided from all of their values (class labels or numbers: see
    :func:`nndsl.data.blocks.table_to_block`). A refused feature cell goes to the row-by-row reader.
    """
    import pyarrow as pa

    if roles.targets and _look_numeric(path, delimiter, [roles.header.index(c) for c in roles.targets]):
        try:
            return _parse(path, raw_header, roles, delimiter, missing_ok, text_targets=False)
        except pa.ArrowInvalid as exc:
            if not _refused_target(str(exc), raw_header, roles):
                raise _Refused() from None
    try:
        return _parse(path, raw_header, roles, delimiter, missing_ok, text_targets=True)
    except pa.ArrowInvalid:
        raise _Refused() from None


def _parse(path: Path, raw_header: list[str], roles: Roles, delimiter: str, missing_ok: frozenset[str], *,
           text_targets: bool) -> Block:
    """The file's rows through Arrow, the targets read as text or as numbers.

    Arrow's ArrowInvalid (a cell it could not convert, a ragged row) passes through; every other
    refusal raises _Refused.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    raw = dict(zip(roles.header, raw_header))
    types = {raw[c]: pa.float64() for c in roles.features}
    # a target read as text is read as numbers afterwards: it may hold class labels (see blocks.table_to_block)
    types.update({raw[c]: pa.string() if text_targets else pa.float64() for c in roles.targets})
    types.update({raw[c]: pa.string() for c in roles.text})
    try:
        # an open file, not its path: Arrow would decompress a file named .gz, which the header was not read from
        with pa.OSFile(str(path)) as file:
            table = pacsv.read_csv(
                file,
                read_options=pacsv.ReadOptions(use_threads=True, block_size=BLOCK_SIZE),
                parse_options=pacsv.ParseOptions(delimiter=delimiter),
                convert_options=pacsv.ConvertOptions(column_types=types, null_values=[""], strings_can_be_null=False,
                                                     quoted_strings_can_be_null=False),
            )
    except pa.ArrowNotImplementedError:
        raise _Refused() from None
    if table.column_names != list(raw_header):
        raise _Refused()  # blank-looking lines before the header: Arrow took one of them for it
    table = table.rename_columns(list(roles.header))
    # the row-by-row reader skips a line of empty cells, Arrow keeps it
    empty = empty_rows(table)
    if empty is not None:
        # the row-by-row reader skips a line of empty cells (a blank line to it) whatever the missing=
        # policy: such lines are left out here too, so that both readers give the same rows (and
        # file_row places them, counting the lines skipped)
        table = table.filter(pa.array(~empty))

    def refuse(problem: Problem) -> Exception:
        return _Refused()

    return table_to_block(table, roles, refuse, missing_ok)


# Arrow's words for a cell it could not convert ("In CSV column #2: CSV conversion error to double:
# invalid value 'yes'"): the column's place in the file, counted from 0.
_REFUSED_COLUMN = re.compile(r"In CSV column #(\d+):")
# How many of the first data rows decide whether the targets are read as numbers (a few KiB).
SNIFF_ROWS = 100


def _refused_target(message: str, raw_header: list[str], roles: Roles) -> bool:
    """Whether Arrow's error ``message`` is about a cell of a target column."""
    refused = _REFUSED_COLUMN.match(message)
    if refused is None or int(refused.group(1)) >= len(raw_header):
        return False
    return roles.header[int(refused.group(1))] in roles.targets


def _look_numeric(path: Path, delimiter: str, columns: list[int]) -> bool:
    """Whether the given columns of the first data rows hold numbers or nothing, as Python reads them.

    Only a guess of how to read the targets: a column that holds text further down is read again
    as text, and one guessed to hold text is decided from all of its values.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = _csv.reader(fh, delimiter=delimiter)
            if next((row for row in rows if any(c.strip() for c in row)), None) is None:  # the header
                return False
            for row in itertools.islice(rows, SNIFF_ROWS):
                for j in columns:
                    if j < len(row) and row[j].strip():
                        float(row[j])
    except (ValueError, _csv.Error, OSError):  # a UnicodeDecodeError is a ValueError
        return False
    return True
