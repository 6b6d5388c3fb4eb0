"""CSV files read in record batches, for a table streamed over the memory budget (the
``parquet`` and ``json`` sources open theirs in their own modules, with these batch sizes).

``open_part(part, first, fail)`` returns the file's roles (checked against the first file's,
as :mod:`nndsl.data.parts` does) and an iterator of ``(first row, Block)``: the rows of one
record batch as training arrays, with a bad cell located at its row in the file. Nothing is
read until the iterator is: a streamed table opens each file once per pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

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


def open_csv_part(part: Part, args: dict, delimiter: str, first: Roles | None, fail,
                  labelled: set | None = None) -> tuple[Roles, Iterator[tuple[int, Block]]]:
    """``labelled``, shared by the opens of one table: the files found to hold class labels in
    their single target, whose every record batch is then read with the target as text."""
    from .csv_scan import read_header

    raw, header = read_header(part.path, delimiter, fail)
    roles = part_roles(args, header, first, fail, delimiter=delimiter)
    labels = _Labels(part, roles, raw, delimiter, set() if labelled is None else labelled)
    return roles, _csv_batches(part, raw, roles, delimiter, allowed_columns(roles, args), fail, labels)


def read_blocks(batches: Iterator, roles: Roles, missing_ok, fail, row_of: Callable[[int], int], refused: Callable,
                errors: tuple[type[BaseException], ...]) -> Iterator[tuple[int, Block]]:
    """``(first row, Block)`` of each record batch of ``batches`` (a Parquet reader).

    Args:
        fail: builds a located error (see :func:`nndsl.data.parts.part_failure`).
        row_of: the row (or line) of the file that its 0-based row ``row`` is, as errors name it;
            each block carries it for its own rows.
        refused: ``refused(exc)`` words the error for a batch the reader could not read, one of ``errors``.
    """
    import pyarrow as pa

    start = 0
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except errors as exc:
            raise refused(exc) from None
        table = pa.Table.from_batches([batch])
        block = table_to_block(table, roles, lambda p, at=start: problem_error(p, fail, row_of(at + p.row)), missing_ok)
        block.row_of = lambda row, at=start: row_of(at + row)
        yield start, block
        start += table.num_rows


class _TextTarget(Exception):
    """A target cell the file's text makes a class label: the batch is read again with its target as text."""


class _Labels:
    """Whether a file's single target holds class labels, decided for the whole file as the
    in-memory readers decide it: text in any of its cells. Until a record batch shows text, a
    batch's target is numbers; an empty or non-finite cell in it asks the rest of the file."""

    def __init__(self, part: Part, roles: Roles, raw_header: list[str], delimiter: str, labelled: set) -> None:
        self.path = part.path
        self.single = roles.targets if len(roles.targets) == 1 else ()
        self.column = list(roles.header).index(roles.targets[0]) if self.single else -1
        self.delimiter = delimiter
        self.labelled = labelled
        self.text_roles = (Roles(roles.header, roles.features, (), roles.ids + roles.targets, roles.categorical)
                           if self.single else roles)

    @property
    def forced(self) -> bool:
        return bool(self.single) and self.path in self.labelled

    def block(self, table, roles: Roles, problem, missing_ok, read_numbers) -> Block | None:
        """The batch's block, its target read as labels where the file holds them."""
        if not self.forced:
            def target_problem(p):
                if p.column in self.single and self.holds_text():
                    return _TextTarget()
                return problem(p)

            try:
                block = _block(read_numbers(table), roles, target_problem, missing_ok)
            except _TextTarget:
                self.labelled.add(self.path)
            else:
                if block is not None and block.labels:
                    self.labelled.add(self.path)  # the rest of the file's targets are labels too
                return block
        block = _block(table, self.text_roles, problem, missing_ok)
        return None if block is None else Block(block.x, None, block.texts, self.single, block.row_of)

    def holds_text(self) -> bool:
        """Whether the file's target has a cell of text anywhere (read through, on the error path only)."""
        from .csv_scan import holds_text

        return holds_text(self.path, self.delimiter, self.column)



def _csv_batches(part: Part, raw_header: list[str], roles: Roles, delimiter: str, missing_ok, fail, labels: _Labels):
    """The file's record batches: its numbers parsed by Arrow, or (from the first batch Arrow
    refuses on) every column read as text and its numbers read as the row-by-row reader reads
    them (``true``/``false`` as 1/0, ``1_000``), or the first bad cell located."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    raw = dict(zip(roles.header, raw_header))
    types = {raw[c]: pa.float64() for c in roles.features}
    types.update({raw[c]: pa.string() for c in (*roles.text, *roles.targets)})  # as csv.py reads them
    file_row = _file_rows(part.path, delimiter)
    start = 0
    try:
        reader = pacsv.open_csv(
            part.path,
            read_options=pacsv.ReadOptions(use_threads=True, block_size=BATCH_BYTES),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(column_types=types, null_values=[""], strings_can_be_null=False,
                                                 quoted_strings_can_be_null=False),
        )
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            table = pa.Table.from_batches([batch]).rename_columns(list(roles.header))
            at = start
            # targets are read as text (one may hold class labels): as numbers here, as the row-by-row reader reads them
            block = labels.block(table, roles, lambda p, at=at: _csv_problem(p, fail, file_row(at + p.row), missing_ok),
                                 missing_ok, lambda t: _read_numbers(t, roles.targets, labels.single))
            if block is not None:
                yield start, _in_file(block, at, file_row)
            start += table.num_rows
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # Arrow refused a number of this batch (or a line): the rest of the file is read as text
    yield from _text_batches(part, raw_header, roles, delimiter, missing_ok, fail, start, labels)


def _file_rows(path, delimiter: str):
    """The file row of a 0-based row among those Arrow reads (it skips empty lines), found only
    when an error needs it."""
    from .csv_scan import file_row

    return lambda row: file_row(path, delimiter, row, arrow=True)


def _in_file(block: Block, at: int, file_row) -> Block:
    """``block`` (a batch's rows from row ``at`` of Arrow's, some perhaps left out) placing its rows in the file."""
    in_batch = block.row_of or (lambda row: row)
    block.row_of = lambda row: file_row(at + in_batch(row))
    return block


def _block(table, roles: Roles, problem, missing_ok) -> Block | None:
    """``table_to_block`` of the batch's rows that are not all empty (the in-memory readers skip
    a line of empty cells); None where none is left. A problem's row stays the row in ``table``."""
    empty = empty_rows(table)
    if empty is None:
        return table_to_block(table, roles, problem, missing_ok)
    import numpy as np
    import pyarrow as pa

    kept = np.flatnonzero(~empty)
    if not len(kept):
        return None
    rows = table.take(pa.array(kept))
    block = table_to_block(rows, roles, lambda p: problem(_moved(p, int(kept[p.row]))), missing_ok)
    block.row_of = lambda row: int(kept[row])  # its row in the batch
    return block


def _moved(p, row: int):
    from dataclasses import replace

    return replace(p, row=row)


def empty_rows(table):
    """A boolean NumPy mask of the rows whose every cell is empty (a missing number or blank
    text), or None where there is none: a column of numbers without a missing one rules them out."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if not table.num_rows:
        return None
    columns = [table.column(c) for c in table.column_names]
    if any(not pa.types.is_string(c.type) and not c.null_count for c in columns):
        return None
    empty = None
    for col in columns:
        if pa.types.is_string(col.type):
            blank = pc.or_kleene(pc.is_null(col), pc.equal(pc.utf8_trim_whitespace(col), ""))
        else:
            blank = pc.is_null(col)
        empty = blank if empty is None else pc.and_(empty, blank)
    mask = np.asarray(pc.fill_null(empty, False).to_numpy(zero_copy_only=False), dtype=bool)
    return mask if mask.any() else None


def _text_batches(part: Part, raw_header: list[str], roles: Roles, delimiter: str, missing_ok, fail, start: int,
                  labels: _Labels):
    """The file's record batches from row ``start`` on, every column read as text, then each
    number column as the row-by-row reader reads it (:func:`_numbers`); the first bad cell
    located, worded as that reader words it; Arrow's own words where no cell is to blame (a
    ragged row)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    file_row = _file_rows(part.path, delimiter)

    def problem(p, at):
        return _csv_problem(p, fail, file_row(at + p.row), missing_ok)

    at = 0
    try:
        reader = pacsv.open_csv(
            part.path, read_options=pacsv.ReadOptions(use_threads=True, block_size=BATCH_BYTES),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in raw_header}, strings_can_be_null=False))
        for batch in reader:
            table = pa.Table.from_batches([batch]).rename_columns(list(roles.header))
            n = table.num_rows
            if at + n <= start:  # yielded before Arrow refused the file's numbers
                at += n
                continue
            if at < start:
                table, at = table.slice(start - at), start
            table = _read_numbers(table, roles.features, ())
            block = labels.block(table, roles, lambda p, at=at: problem(p, at), missing_ok,
                                 lambda t: _read_numbers(t, roles.targets, labels.single))
            if block is not None:
                yield at, _in_file(block, at, file_row)
            at += table.num_rows
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise fail(f"expected CSV text Arrow can read; received {_first_line(exc)}", where_row=max(at, start) + 2) from None


def _csv_problem(p, fail, row: int, missing_ok) -> Exception:
    """The located error for a bad cell at ``row`` of a CSV file, worded as the row-by-row reader words it."""
    from .blocks import MISSING_HINT, TARGET_HINT

    if p.kind == "missing":
        return fail("expected a number; received an empty cell", where_row=row, column=p.column,
                    hint=TARGET_HINT if p.target and missing_ok else MISSING_HINT)
    return problem_error(p, fail, row)


def _read_numbers(table, names, labels):
    """``table`` with its text columns ``names`` read by :func:`_numbers`; ``labels`` (a single
    target, which may hold class labels) without ``true``/``false`` as numbers."""
    for name in names:
        table = table.set_column(table.column_names.index(name), name,
                                 _numbers(table.column(name), booleans=name not in labels))
    return table


def _numbers(col, *, booleans: bool):
    """A text column read as the row-by-row reader reads a number column: float64 with a blank
    cell missing, ``true``/``false`` as 1/0 (``booleans``, a feature's), any number Python reads.

    A column with a cell that is no number is returned as text (``true``/``false`` as ``1``/``0``),
    for ``table_to_block`` to report its first bad cell, or (a single target) to read as class labels.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        return pc.cast(col, pa.float64())  # numbers only, as most columns are
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    trimmed = pc.utf8_trim_whitespace(col)
    if booleans:
        lower = pc.utf8_lower(trimmed)
        col = pc.if_else(pc.equal(lower, "true"), "1", pc.if_else(pc.equal(lower, "false"), "0", col))
    blank = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), col)
    try:
        return pc.cast(blank, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    values = []
    for v in blank.to_pylist():  # Arrow refuses some numbers Python reads ("1_000")
        if v is None:
            values.append(None)
            continue
        try:
            values.append(float(v))
        except ValueError:
            return col
    return pa.chunked_array([pa.array(values, pa.float64())])


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
