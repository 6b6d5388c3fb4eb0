"""The ``csv`` data source: a header row, numeric features, optional target column(s).

Files are read by Arrow's multi-threaded CSV reader, with each column's type fixed in advance
(features and targets as numbers, every other column as text). A file Arrow refuses, or one
holding an empty cell, NaN or infinity, is read again row by row (:mod:`nndsl.data.csv_scan`),
which names the file, the row and the column of the first bad cell; so is a small file, for
which importing Arrow would take longer than reading it. The path may be a glob
pattern or a folder of ``.csv`` part files, read as one table. Arrow hashes the file for its
fingerprint as it reads it, so a file is read once.
"""

from __future__ import annotations

from pathlib import Path

from .batches import open_csv_part
from .blocks import Block, Problem, table_to_block
from .columns import Roles
from .csv_scan import file_row, read_header, scan_rows
from .missing import allowed_columns
from .parts import part_roles, read_parts
from .paths import FingerprintingFile, Part
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
    hashed: dict[Path, str] = {}
    labelled: set[Path] = set()  # streamed: the files whose single target holds class labels
    return read_parts(args, name=name, base=base, decl=decl, source=source, what="CSV", suffixes=(".csv",),
                      read_part=lambda part, first, fail: _read_part(part, args, delimiter, first, fail, hashed),
                      hashed=hashed, budget=memory_budget,
                      open_part=lambda part, first, fail: open_csv_part(part, args, delimiter, first, fail, labelled))


def _read_part(part: Part, args: dict, delimiter: str, first: Roles | None, fail,
               hashed: dict[Path, str]) -> tuple[Roles, Block]:
    """One file's roles and rows; ``first`` is the roles of the table's first file, if this is not it.

    The file's fingerprint goes into ``hashed`` when Arrow read the file to the end.
    """
    raw, header = read_header(part.path, delimiter, fail)
    roles = part_roles(args, header, first, fail, delimiter=delimiter)
    missing_ok = allowed_columns(roles, args)
    try:
        if part.path.stat().st_size < SMALL_FILE:
            raise _Refused()
        block = _read_arrow(part.path, raw, roles, delimiter, missing_ok, hashed)
    except _Refused:
        block = scan_rows(part.path, roles, delimiter, fail, missing_ok)
    block.row_of = lambda row: file_row(part.path, delimiter, row)  # for an error of a missing=/label policy
    return roles, block


def _read_arrow(path: Path, raw_header: list[str], roles: Roles, delimiter: str, missing_ok: frozenset[str],
                hashed: dict[Path, str]) -> Block:
    """The file's rows through Arrow; raises _Refused where the row-by-row reader must decide."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    raw = dict(zip(roles.header, raw_header))
    types = {raw[c]: pa.float64() for c in roles.features}
    # a target is read as text, then as numbers: it may hold class labels (see blocks.table_to_block)
    types.update({raw[c]: pa.string() for c in (*roles.text, *roles.targets)})
    try:
        with FingerprintingFile(path) as file:
            table = pacsv.read_csv(
                file,
                read_options=pacsv.ReadOptions(use_threads=True, block_size=BLOCK_SIZE),
                parse_options=pacsv.ParseOptions(delimiter=delimiter),
                convert_options=pacsv.ConvertOptions(column_types=types, null_values=[""], strings_can_be_null=False,
                                                     quoted_strings_can_be_null=False),
            )
            fingerprint = file.fingerprint()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise _Refused() from None
    if fingerprint is not None:
        hashed[path] = fingerprint
    if table.column_names != list(raw_header):
        raise _Refused()  # blank-looking lines before the header: Arrow took one of them for it
    table = table.rename_columns(list(roles.header))
    if missing_ok and _has_empty_rows(table):
        raise _Refused()  # the row-by-row reader skips a line of empty cells; Arrow keeps it

    def refuse(problem: Problem) -> Exception:
        return _Refused()

    return table_to_block(table, roles, refuse, missing_ok)


def _has_empty_rows(table) -> bool:
    """Whether some row has every cell empty (null numbers, blank text)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not any(table.column(c).null_count for c in table.column_names):
        return False
    empty = None
    for name in table.column_names:
        col = table.column(name)
        blank = pc.equal(pc.utf8_trim_whitespace(col), "") if pa.types.is_string(col.type) else pc.is_null(col)
        empty = blank if empty is None else pc.and_(empty, blank)
    return bool(pc.any(empty).as_py())
