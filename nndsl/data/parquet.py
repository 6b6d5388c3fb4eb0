"""The ``parquet`` data source: a Parquet file (or a folder or pattern of part files) of typed columns.

Columns keep the types they were written with; features and targets must be numeric (or
boolean) or text that reads as numbers. Rows in messages are counted from 1, the first row of
data (a Parquet file has no header row).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from . import batches
from .blocks import Block, problem_error, table_to_block
from .columns import Roles
from .missing import allowed_columns
from .parts import part_roles, read_parts
from .paths import Part
from .table import Dataset

SUFFIXES = (".parquet", ".pq")


def load(args: dict, *, name: str, base: Path, decl=None, source=None, memory_budget: int | None = None) -> Dataset:
    """Read a Parquet file (or several) into a :class:`Dataset`.

    Errors name the file, and for a bad value its row (1-based) and column: a missing file, a
    file that is not Parquet or is cut short, a missing column, a value that is not a finite
    number, and part files with different columns.

    A table estimated larger than ``memory_budget`` bytes is not kept in memory: it is read once in
    record batches (checked, and what fitting needs gathered) and returned streamed, its rows read
    again when a step needs them (:mod:`nndsl.data.stream`); without a budget every table is read whole.
    """
    return read_parts(args, name=name, base=base, decl=decl, source=source, what="Parquet", suffixes=SUFFIXES,
                      read_part=lambda part, first, fail: _read_part(part, args, first, fail),
                      budget=memory_budget, open_part=lambda part, first, fail: open_parquet_part(part, args, first, fail),
                      estimate_rows=True)


def _read_part(part: Part, args: dict, first: Roles | None, fail) -> tuple[Roles, Block]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(part.path, use_threads=True)
    except (pa.ArrowException, OSError) as exc:
        raise fail(f"expected a Parquet file; received a file Arrow cannot read ({_reason(exc)})") from None
    header = table.column_names
    roles = part_roles(args, header, first, fail)
    return roles, table_to_block(table, roles, lambda p: problem_error(p, fail, p.row + 1), allowed_columns(roles, args))


def _reason(exc: Exception) -> str:
    """Arrow's message without the absolute path it starts with (the error already names the file)."""
    text = str(exc).strip()
    if text.startswith("Could not open Parquet input source") and "': " in text:
        text = text.split("': ", 1)[1]
    return text.splitlines()[0] if text else type(exc).__name__


def open_parquet_part(part: Part, args: dict, first: Roles | None, fail) -> tuple[Roles, Iterator[tuple[int, Block]]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(part.path)
    except (pa.ArrowException, OSError) as exc:
        raise fail(f"expected a Parquet file; received a file Arrow cannot read ({_reason(exc)})") from None
    roles = part_roles(args, file.schema_arrow.names, first, fail)
    return roles, _parquet_batches(file, roles, allowed_columns(roles, args), fail)


def _parquet_batches(file, roles: Roles, missing_ok, fail):
    import pyarrow as pa

    return batches.read_blocks(file.iter_batches(batch_size=batches.BATCH_ROWS, use_threads=True), roles, missing_ok,
                               fail, lambda row: row + 1,
                               lambda exc: fail(f"expected a Parquet file; received a file Arrow cannot read ({_reason(exc)})"),
                               (pa.ArrowException, OSError))
