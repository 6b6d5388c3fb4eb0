"""One table from one or several files: the steps every table source (csv, parquet, json) shares.

A source resolves its path to files (:mod:`nndsl.data.paths`), reads each into a block of rows
with errors naming that file, checks that later files have the first one's columns, and joins
the blocks into one :class:`Dataset`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .blocks import Block, concat_blocks
from .columns import Roles, assign_roles, unique_header
from .missing import check_policy, policy_for, settle, unknown_columns
from .paths import Part, fingerprint_parts, resolve_parts
from .rows import RowOrigin, counted_from, first_row, located
from .table import Dataset, data_error


def read_parts(args: dict, *, name: str, base: Path, decl, source, what: str, suffixes: tuple[str, ...],
               read_part: Callable[[Part, Roles | None, Callable[..., Exception]], tuple[Roles, Block]],
               row_word: str = "row", budget: int | None = None, open_part: Callable | None = None,
               estimate_rows: bool = False, hashed: dict[Path, str] | None = None) -> Dataset:
    """Read every file of a table source and join them, or stream them when they exceed the budget.

    Args:
        args: the source's arguments; ``args["path"]`` is a file, a folder or a glob pattern.
        what: the format's name for messages ("CSV").
        suffixes: the endings of the part files a folder is read for.
        read_part: ``read_part(part, first_roles, fail)`` reads one file; ``first_roles`` is None
            for the first file and the first file's roles for the others.
        row_word: how a location names a row ("row", or "line" for JSON lines).
        budget: the memory budget in bytes (see :mod:`nndsl.data.budget`); None reads any table whole.
        open_part: ``open_part(part, first_roles, fail)`` opens one file as record batches
            (:mod:`nndsl.data.batches`): a table estimated over ``budget`` is streamed with it
            (:mod:`nndsl.data.stream`).
        estimate_rows: estimate the size from the files' row counts (Parquet), not their bytes.
        hashed: for a source whose ``read_part`` fingerprints a file while reading it, where it
            puts those fingerprints (by path); a file it did not fingerprint is hashed after the
            reading. Without it, the files are hashed on a thread of their own while they are read.
    """
    wrong = check_policy(args.get("missing"))
    if wrong is not None:
        # checked with the program already; a loader called from Python gets the same words
        raise data_error(wrong, where=args["path"], decl=decl, source=source)
    parts = resolve_parts(args["path"], base=base, what=what, suffixes=suffixes, decl=decl, source=source)
    if budget is not None and open_part is not None:
        from .budget import estimate

        size = estimate([p.path for p in parts.files], parquet=estimate_rows)
        if size > budget:
            from .stream import open_table

            streamed = _Background(fingerprint_parts, parts)
            return open_table(args, parts=parts, open_part=open_part, failure=part_failure, name=name, decl=decl, source=source,
                              row_word=row_word, fingerprint=streamed.result, size=size, budget=budget)
    background = _Background(fingerprint_parts, parts) if hashed is None else None
    first: Roles | None = None
    blocks: list[Block] = []
    for part in parts.files:
        roles, block = read_part(part, first, part_failure(part.shown, decl, source, row_word))
        first = first or roles
        blocks.append(block)
    unknown = unknown_columns(args, first.header)
    if unknown:
        raise data_error(f"expected columns of the table in missing=; received '{unknown[0]}'", where=args["path"], decl=decl,
                         source=source, hint=f"the columns are: {', '.join(first.header)}")
    table = concat_blocks(blocks)
    if table.rows == 0:
        if parts.single:
            raise data_error("expected data rows after the header; received the header only", where=args["path"], decl=decl, source=source)
        raise data_error(f"expected data rows; received none in {len(parts.files)} files", where=args["path"], decl=decl, source=source)
    fingerprint = background.result() if background is not None else fingerprint_parts(parts, hashed)
    features = [*first.features, *first.categorical]
    origin = RowOrigin(tuple(p.shown for p in parts.files), tuple(b.rows for b in blocks),
                       tuple(b.row_of or counted_from(first_row(p.path, row_word)) for p, b in zip(parts.files, blocks)),
                       row_word, parts.single)
    ds = settle(Dataset(
        name=name, x=table.x, y=table.y, feature_names=list(first.features), target_names=list(first.targets),
        ids={c: table.texts[c] for c in first.ids}, columns=table.texts, path=parts.path,
        fingerprint=fingerprint, categorical=list(first.categorical), as_text=list(first.as_text), labels=list(table.labels),
        policies={c: policy_for(args, c) for c in features}, unknown=args.get("unknown") or "oov", table=True, origin=origin,
    ), args, located(origin, lambda shown: part_failure(shown, decl, source, row_word)))
    if ds.rows == 0:
        raise data_error(f"expected rows without missing values; received none (missing=\"drop\" dropped all {ds.dropped})",
                         where=args["path"], decl=decl, source=source)
    return ds


class _Background:
    """A function run on a thread of its own while the files are read.

    The fingerprint of a source that does not hash its files while reading them (Parquet, JSON
    lines) hashes every byte of the files; hashing releases the GIL, so it runs beside Arrow's
    reading instead of after it. An exception it raised is raised by ``result()``.
    """

    def __init__(self, fn, *args) -> None:
        import threading

        self._value = self._error = None
        self._thread = threading.Thread(target=self._run, args=(fn, *args), daemon=True)
        self._thread.start()

    def _run(self, fn, *args) -> None:
        try:
            self._value = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller of result()
            self._error = exc

    def result(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def part_failure(shown: str, decl, source, row_word: str = "row") -> Callable[..., Exception]:
    """``fail(message, where_row=None, column=None, hint=None)``: a data error located in one file."""

    def fail(message: str, where_row: int | None = None, column: str | None = None, hint: str | None = None) -> Exception:
        where = shown
        if where_row is not None:
            where += f":{row_word} {where_row}"
            if column is not None:
                where += f", column '{column}'"
        elif column is not None:
            where += f":column '{column}'"
        return data_error(message, where=where, hint=hint, decl=decl, source=source)

    return fail


def part_roles(args: dict, header, first: Roles | None, fail, *, delimiter: str | None = None) -> Roles:
    """The roles of a file's columns: from the arguments for the first file, the first file's for the others."""
    unique_header(header, fail)
    if first is None:
        return assign_roles(args, header, fail, delimiter=delimiter)
    check_same_columns(first, header, fail)
    return Roles(tuple(header), first.features, first.targets, first.ids, first.categorical, first.as_text)


def check_same_columns(first: Roles, header, fail) -> None:
    """A part file whose columns differ from the first file's is an error naming both sets."""
    if set(header) != set(first.header):
        missing = [c for c in first.header if c not in header]
        extra = [c for c in header if c not in first.header]
        what = "; ".join(f"{word} {', '.join(cols)}" for word, cols in (("missing", missing), ("extra", extra)) if cols)
        raise fail(f"expected the same columns as the first file ({', '.join(first.header)}); received columns "
                   f"{', '.join(header)} ({what})", hint="every part file of one table has the same columns")
