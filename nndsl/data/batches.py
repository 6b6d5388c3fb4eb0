"""CSV files read in record batches, for a table streamed over the memory budget (the
``parquet`` and ``json`` sources open theirs in their own modules, with these batch sizes).

``open_part(part, first, fail)`` returns the file's roles (checked against the first file's,
as :mod:`nndsl.data.parts` does) and an iterator of ``(first row, Block)``: the rows of one
record batch as training arrays, with a bad cell located at its row in the file. Nothing is
read until the iterator is: a streamed table opens each file once per pass.
"""

from __future__ import annotations

from collections.abc import Iterator

from .blocks import Block, problem_error, table_to_block
from .columns import Roles
from .missing import allowed_columns
from .parts import part_roles
from .paths import Part

# Bytes of text per CSV or JSON record batch: Arrow's default. Its streaming readers read about
# 40 blocks ahead, so this holds about 40 MiB in flight (4 MiB blocks held 160 MiB), and reads a
# 727 MiB CSV as fast as 4 MiB blocks do.
BATCH_BYTES = 1 << 20
BATCH_ROWS = 65536  # rows per Parquet record batch


def open_csv_part(part: Part, args: dict, delimiter: str, first: Roles | None, fail) -> tuple[Roles, Iterator[tuple[int, Block]]]:
    from .csv_scan import read_header

    raw, header = read_header(part.path, delimiter, fail)
    roles = part_roles(args, header, first, fail, delimiter=delimiter)
    return roles, _csv_batches(part, raw, roles, delimiter, allowed_columns(roles, args), fail)


def _csv_batches(part: Part, raw_header: list[str], roles: Roles, delimiter: str, missing_ok, fail):
    import pyarrow as pa
    import pyarrow.csv as pacsv

    raw = dict(zip(roles.header, raw_header))
    types = {raw[c]: pa.float64() for c in roles.features}
    types.update({raw[c]: pa.string() for c in (*roles.text, *roles.targets)})  # as csv.py reads them
    try:
        reader = pacsv.open_csv(
            part.path,
            read_options=pacsv.ReadOptions(use_threads=True, block_size=BATCH_BYTES),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(column_types=types, null_values=[""], strings_can_be_null=False,
                                                 quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise _locate_csv(part, raw_header, roles, delimiter, missing_ok, fail, exc, 0) from None
    start = 0
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise _locate_csv(part, raw_header, roles, delimiter, missing_ok, fail, exc, start) from None
        table = pa.Table.from_batches([batch]).rename_columns(list(roles.header))
        at = start
        yield start, table_to_block(table, roles, lambda p, at=at: problem_error(p, fail, at + p.row + 2), missing_ok)
        start += table.num_rows


def _locate_csv(part: Part, raw_header: list[str], roles: Roles, delimiter: str, missing_ok, fail, exc: Exception,
                start: int) -> Exception:
    """The error for a record batch Arrow refused: the file read again with every column as text,
    batch by batch, until the first cell that is not a number (worded as the row-by-row reader
    words it); Arrow's own words where no cell is to blame (a ragged row)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from .blocks import MISSING_HINT, TARGET_HINT

    def problem(p, at):
        if p.kind == "missing":
            return fail("expected a number; received an empty cell", where_row=at + p.row + 2, column=p.column,
                        hint=TARGET_HINT if p.target and missing_ok else MISSING_HINT)
        return problem_error(p, fail, at + p.row + 2)

    try:
        reader = pacsv.open_csv(
            part.path, read_options=pacsv.ReadOptions(use_threads=True, block_size=BATCH_BYTES),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in raw_header}, strings_can_be_null=False))
        at = 0
        for batch in reader:
            table = pa.Table.from_batches([batch]).rename_columns(list(roles.header))
            table_to_block(table, roles, lambda p, at=at: problem(p, at), missing_ok)
            at += table.num_rows
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as again:
        exc = again
    return fail(f"expected CSV text Arrow can read; received {_first_line(exc)}", where_row=start + 2)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
