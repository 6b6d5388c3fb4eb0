"""A table larger than the memory budget, read in record batches instead of whole.

A streamed table holds no rows. When it is loaded, one pass over its record batches (each
format's ``open_part``: :mod:`nndsl.data.batches` for CSV) checks every cell as the in-memory reader does and gathers what
fitting needs (:class:`Summary`): the rows kept, the missing cells of each column, the mean,
variance, minimum and maximum of each numeric column, the count of each category, the class
labels. The schema (:mod:`nndsl.data.schema`) and the feature scaling are fitted on that
summary; then every epoch reads the batches again, encodes each with the schema and hands them
on in batches of rows (:func:`batches`): the parts in a new seeded order each epoch and the
rows shuffled within a buffer, so memory holds a buffer of rows, never the table.

What a single pass cannot fit is fitted exactly by further passes: the ``median`` of a numeric
column by a selection over histograms of its values, its ``most_frequent`` value by counting
them, up to a bound (:mod:`nndsl.data.select`); a category's most frequent value is counted in
the one pass.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from .blocks import number_labels
from .budget import shown
from .missing import OWN, settle, unknown_columns
from .rows import RowOrigin, counted_from, first_row, located
from .table import Dataset, data_error

SHUFFLE_ROWS = 1 << 16  # rows shuffled together in the buffer (with the batch in flight, about 2 buffers of memory)
SHUFFLE_BYTES = 32 << 20  # ...or fewer, for wide rows (many one-hot slots): the buffer's encoded floats at most
MAX_TARGET_VALUES = 1 << 16  # distinct whole numbers of a numeric target kept as its classes: more is a located error


class ColumnsFoundLater(Exception):
    """Raised by a format's record batches when the table's first file, opened with the columns
    its first rows show (JSON lines: the keys of its first piece), holds another further on: the
    table is opened again, the format then knowing every column (see :func:`open_table`)."""


class Moments:
    """The count, mean, sum of squared deviations, minimum and maximum of each column, merged
    batch by batch in float64 (Chan et al.'s pairwise update); a NaN cell is not counted."""

    def __init__(self, width: int) -> None:
        import numpy as np

        self.count = np.zeros(width)
        self.mean = np.zeros(width)
        self.m2 = np.zeros(width)
        self.lo = np.full(width, np.inf)
        self.hi = np.full(width, -np.inf)

    def add(self, a) -> None:
        import numpy as np

        if a is None or not len(a):
            return
        a = a.reshape(len(a), -1).astype(np.float64)
        present = ~np.isnan(a)
        n = present.sum(axis=0).astype(np.float64)
        values = np.where(present, a, 0.0)
        mean = np.divide(values.sum(axis=0), n, out=np.zeros_like(n), where=n > 0)
        m2 = (np.where(present, a - mean, 0.0) ** 2).sum(axis=0)
        self.merge(n, mean, m2)
        self.lo = np.minimum(self.lo, np.where(present, a, np.inf).min(axis=0))
        self.hi = np.maximum(self.hi, np.where(present, a, -np.inf).max(axis=0))

    def merge(self, n, mean, m2) -> None:
        import numpy as np

        total = self.count + n
        share = np.divide(n, total, out=np.zeros_like(total), where=total > 0)
        delta = mean - self.mean
        self.mean = self.mean + delta * share
        self.m2 = self.m2 + m2 + delta**2 * self.count * share
        self.count = total


class Summary:
    """What fitting asks of the training data (see ``schema._Arrays``), gathered in one pass."""

    def __init__(self, ds: Dataset) -> None:
        self.feature_names = list(ds.feature_names)
        self.policies = ds.policies
        self.rows = 0
        self.features = Moments(len(ds.feature_names))
        self.targets = Moments(len(ds.target_names))
        self.counts: dict[str, Counter] = {c: Counter() for c in ds.categorical}
        self.label_sets: dict[str, set] = {}
        self.values: set | None = set()  # distinct values of the first numeric target; None past MAX_TARGET_VALUES
        self.whole = True  # every value of that target is a whole number (it can be classes)
        self.numeric_target = False
        self.table: StreamedTable | None = None  # read again for what one pass cannot fit (a median)

    def add(self, ds: Dataset) -> None:
        """One settled record batch."""
        import numpy as np

        from .schema import category_counts

        self.rows += ds.rows
        self.features.add(ds.x)
        for name, counter in self.counts.items():
            for value, n in zip(*category_counts(ds.columns[name])):
                counter[value] += int(n)
        for name in ds.labels:
            self.label_sets.setdefault(name, set()).update(v.strip() for v in ds.columns[name])
        if ds.y is not None:
            self.numeric_target = True
            self.targets.add(ds.y)
            if self.whole and len(ds.target_names) == 1:
                found = np.unique(ds.y[:, 0])
                if not np.all(found == np.round(found)):
                    self.whole, self.values = False, None  # soft labels or quantities: numbers, whatever the loss
                elif self.values is not None:
                    self.values.update(found.tolist())
                    if len(self.values) > MAX_TARGET_VALUES:
                        self.values = None  # too many to be classes: refused if the loss asks for classes

    # ------------------------------------------------ the questions schema.fit asks
    def missing(self, name: str) -> bool:
        return bool(self.features.count[self.feature_names.index(name)] < self.rows)

    def statistic(self, name: str, policy: str, fail: Callable[..., Exception]) -> float | None:
        """The ``mean`` of a numeric column from the pass that gathered the summary; its ``median``
        or ``most_frequent`` value exactly, from further passes (:mod:`nndsl.data.select`)."""
        import numpy as np

        from . import select

        j = self.feature_names.index(name)
        count = int(self.features.count[j])
        if count == 0:
            return None
        if policy == "mean":
            return float(self.features.mean[j])
        dtype = np.float32  # the in-memory table's dtype (blocks.py): its median is taken in it

        def chunks():
            return (ds.x[:, j] for ds, _ in self.table.datasets())

        if policy == "median":
            return select.median(chunks, count, dtype)
        try:
            return select.most_frequent(chunks, dtype)
        except select.TooManyValues:
            raise at_argument(fail(
                f"expected at most {select.MAX_DISTINCT:,} distinct values in the numeric column '{name}' to count its most "
                "frequent value in a table streamed in record batches; received more", column=name,
                hint=f"fill it with the median or the mean (missing={{\"{name}\": \"median\"}}) or a number, or raise the "
                "memory budget (memory_budget \"8GB\") to read the table whole"), self.table.decl, "missing") from None

    def categories(self, name: str):
        import numpy as np

        counter = self.counts[name]
        values = list(counter)
        return values, np.array([counter[v] for v in values], dtype=np.int64)

    def labels(self, name: str) -> set[str]:
        return self.label_sets.get(name, set())

    def target_values(self, name: str, fail: Callable[..., Exception]):
        """The distinct values of the one numeric target, asked when the loss is a classification
        one: None without one or when some value is not whole (then it holds numbers, as in memory)."""
        import numpy as np

        if not self.numeric_target or not self.whole:
            return None
        if self.values is None:
            # read whole, every distinct whole number would be a class; streamed, they are not kept past the bound
            raise at_argument(fail(
                f"expected at most {MAX_TARGET_VALUES:,} classes in the target column '{name}' of a table streamed in record "
                "batches; received more distinct whole numbers under a classification loss", column=name,
                hint="for numbers to predict, use a regression loss (loss mse); for classes, fewer of them"),
                self.table.decl if self.table is not None else None, "target")
        return np.array(sorted(self.values))


class StreamedTable:
    """The files of a table read as record batches, with what one pass over them found."""

    def __init__(self, *, parts, open_part, failure, args: dict, template: Dataset, decl, source, row_word: str) -> None:
        self.parts = parts
        self.failure = failure  # failure(shown, decl, source, row_word): a file's located errors (parts.part_failure)
        self.open_part = open_part  # open_part(part, first roles, fail) -> (roles, iterator of (first row, Block))
        self.args = args
        self.template = template  # the table's Dataset without rows: names, roles and policies
        self.decl = decl
        self.source = source
        self.row_word = row_word
        self.roles = None
        self.summary: Summary | None = None
        self.rows = 0
        self.dropped = 0
        self.label = False  # the target holds text class labels (some record batch had text in it)
        self.settling = False  # the error being raised is a policy's (settle), not a bad cell's
        self.label_blocks = self.number_blocks = 0  # record batches read with a target of text labels, of numbers
        self.schema = None  # set on the encoded copy (see encoded_with)
        self.missing: dict[str, int] = {}
        self.size = self.budget = 0  # the estimated size in memory, and the budget it is over

    # ------------------------------------------------ reading
    def datasets(self, order=None) -> Iterator[tuple[Dataset, Callable[..., Exception]]]:
        """Each record batch as a small settled Dataset (rows dropped under ``drop``), with the
        ``fail(message, row=None, column=None, hint=None)`` that locates its rows in their file."""
        files = self.parts.files
        for i in (range(len(files)) if order is None else order):
            part = files[i]
            fail = self.failure(part.shown, self.decl, self.source, self.row_word)
            roles, batches = self.open_part(part, self.roles, fail)
            self.roles = self.roles or roles
            first = first_row(part.path, self.row_word)
            for start, block in batches:
                origin = RowOrigin((part.shown,), (block.rows,), (block.row_of or counted_from(start + first),), self.row_word,
                                   self.parts.single)
                try:
                    settled = settle(self._dataset(block, origin), self.args, located(origin, lambda _, fail=fail: fail))
                except Exception:
                    self.settling = True
                    raise
                # the rows left after a drop are placed in the file by the settled batch's origin
                yield settled, located(settled.origin, lambda _, fail=fail: fail)

    def _read_all(self) -> None:
        """Every record batch read, unsettled: a bad cell of any file raised. A table read whole
        reports such a cell before what its policies refuse (an empty class label), wherever it is."""
        files = self.parts.files
        for part in files:
            fail = self.failure(part.shown, self.decl, self.source, self.row_word)
            for _ in self.open_part(part, self.roles, fail)[1]:
                pass

    def _dataset(self, block, origin=None) -> Dataset:
        t = self.template
        texts = dict(block.texts)
        y = block.y
        labels = list(block.labels)
        self.label_blocks += bool(block.labels)
        self.number_blocks += block.y is not None
        if block.labels:
            self.label = True
        elif self.label and t.target_names:
            # a record batch read its target as numbers where an earlier one had text: labels too (as concat_blocks does)
            texts[t.target_names[0]] = number_labels(block.y[:, 0])
            labels, y = [t.target_names[0]], None
        return Dataset(name=t.name, x=block.x, y=y, feature_names=t.feature_names, target_names=t.target_names,
                       ids={c: texts[c] for c in t.ids}, columns=texts, path=t.path, categorical=t.categorical, as_text=t.as_text,
                       labels=labels,
                       policies=t.policies, unknown=t.unknown, table=True, origin=origin)

    def scan(self) -> None:
        """The one pass: every cell checked, the summary gathered, the rows counted."""
        import numpy as np

        summary = Summary(self.template)
        summary.table = self
        missing: Counter = Counter()
        self.settling = False
        single = self.template.target_names[0] if len(self.template.target_names) == 1 else None
        values: set | None = set()  # the targets read as numbers before any text, of files without text
        numbers_only: list[int] = []  # those files
        try:
            for i in range(len(self.parts.files)):
                before = set(summary.label_sets.get(single, ()))
                unlabelled = not self.label
                numbers, labels = self.number_blocks, self.label_blocks
                found: set | None = set()
                for ds, _ in self.datasets([i]):
                    summary.add(ds)
                    self.dropped += ds.dropped
                    missing.update(ds.missing)
                    if single and ds.y is not None and found is not None:
                        found.update(np.unique(ds.y[:, 0]).tolist())
                        found = found if len(found) <= MAX_TARGET_VALUES else None
                if self.label_blocks == labels:
                    if unlabelled:  # (a file read after the first label has its numbers read as labels)
                        numbers_only.append(i)
                    values = None if values is None or found is None else values | found
                    values = values if values is None or len(values) <= MAX_TARGET_VALUES else None
                elif self.number_blocks > numbers:
                    # the file read its target as numbers before its first text: it holds labels as written
                    # (a table read whole reads each file's labels as text), so its labels are read again
                    texts = {v.strip() for ds, _ in self.datasets([i]) for v in ds.columns[single]}
                    summary.label_sets[single] = before | texts
        except Exception:
            if self.settling:
                self._read_all()
            raise
        if self.label and values:
            # files of numbers, read before the first text label: their values are labels too
            summary.label_sets.setdefault(single, set()).update(f"{v:.9g}" for v in values)
        elif self.label and values is None:
            # too many values to keep on the way: those files are read again, now as labels (see _dataset)
            found_labels = summary.label_sets.setdefault(single, set())
            for ds, _ in self.datasets(numbers_only):
                found_labels.update(v.strip() for v in ds.columns[single])
        summary.numeric_target = summary.numeric_target and not self.label
        self.summary = summary
        self.rows = summary.rows
        self.missing = dict(missing)

    # ------------------------------------------------ encoded batches
    def encoded_with(self, schema) -> StreamedTable:
        """A copy whose batches come encoded with ``schema`` (:func:`nndsl.data.schema.encode`)."""
        import copy

        out = copy.copy(self)
        out.schema = schema
        return out

    def arrays(self, *, order=None, with_targets: bool = True) -> Iterator[tuple[Any, Any, Dataset]]:
        """``(x, y, the raw batch)`` for each record batch, encoded with the schema."""
        from .schema import encode

        for ds, fail in self.datasets(order):
            if ds.rows == 0:
                continue
            enc = encode(ds, self.schema, fail, with_targets=with_targets)
            yield enc.x, enc.y, ds

    def encoded_moments(self) -> tuple[Moments, Moments | None]:
        """The moments of the encoded features (and of the numeric targets), from the summary:
        a numeric column is its values plus its missing cells at the fill, a one-hot column is
        1 on the rows of its category; the same figures as over the encoded arrays."""
        import numpy as np

        s = self.summary
        parts = []
        for f in self.schema.features:
            if f.kind == "numeric":
                j = s.feature_names.index(f.name)
                m = _one(s.features, j)
                holes = s.rows - s.features.count[j]
                if holes and f.fill is not None:
                    fill = float(np.float32(f.fill))
                    m.merge(np.array([holes]), np.array([fill]), np.zeros(1))
                    m.lo, m.hi = np.minimum(m.lo, fill), np.maximum(m.hi, fill)
                parts.append(m)
                continue
            slots = np.zeros(f.width)
            shift = 1 if f.unknown == "oov" else 0
            place = {c: i + shift for i, c in enumerate(f.categories)}
            for value, n in s.counts[f.name].items():
                value = f.fill if value == OWN and f.fill is not None else value
                slots[place.get(value, 0)] += n
            m = Moments(f.width)
            total = float(s.rows)
            p = slots / max(total, 1.0)
            m.count[:] = total
            m.mean = p
            m.m2 = slots * (total - slots) / max(total, 1.0)
            m.lo = np.where(slots < total, 0.0, 1.0)
            m.hi = np.where(slots > 0, 1.0, 0.0)
            parts.append(m)
        features = Moments(0)
        for name in ("count", "mean", "m2", "lo", "hi"):
            setattr(features, name, np.concatenate([getattr(m, name) for m in parts]) if parts else np.zeros(0))
        targets = s.targets if s.numeric_target and not self.schema.classes else None
        return features, targets


def at_argument(exc: Exception, decl, name: str) -> Exception:
    """``exc``, a located data error, pointed at the ``name=`` argument of the ``data`` line ``decl``
    that asks for what failed (``missing=``), where the line writes one."""
    import dataclasses

    from ..errors import RunError

    call = getattr(decl, "source", None)  # the data line's source call: csv("t.csv", missing=...)
    keyword = next((k for k in getattr(call, "kwargs", ()) if k.name == name), None)
    if keyword is None or not isinstance(exc, RunError) or not exc.diagnostics:
        return exc
    first = dataclasses.replace(exc.diagnostics[0], span=keyword.span)
    return type(exc)(diagnostics=[first, *exc.diagnostics[1:]])


def _one(m: Moments, j: int) -> Moments:
    out = Moments(1)
    for name in ("count", "mean", "m2", "lo", "hi"):
        setattr(out, name, getattr(m, name)[j : j + 1].copy())
    return out


def open_table(args: dict, *, parts, open_part, failure, name: str, decl, source, row_word: str, fingerprint, size: int,
               budget: int) -> Dataset:
    """A table source over the memory budget as a streamed :class:`Dataset`, after its one pass.

    ``failure(shown, decl, source, row_word)`` gives a file's ``fail`` (:func:`nndsl.data.parts.part_failure`).
    """
    from functools import partial

    opened = partial(_opened, args, parts=parts, open_part=open_part, failure=failure, name=name, decl=decl, source=source,
                     row_word=row_word, fingerprint=fingerprint, size=size, budget=budget)
    try:
        return opened()
    except ColumnsFoundLater:
        # the first file's columns were guessed from its first rows, and it has more: opened again,
        # the format knows them all (a second guess would be a bug, and raises)
        return opened()


def _opened(args: dict, *, parts, open_part, failure, name: str, decl, source, row_word: str, fingerprint, size: int,
            budget: int) -> Dataset:
    files = parts.files
    # the first file's roles name the columns before anything is read
    fail = failure(files[0].shown, decl, source, row_word)
    roles, _ = open_part(files[0], None, fail)
    unknown = unknown_columns(args, roles.header)
    if unknown:
        raise data_error(f"expected columns of the table in missing=; received '{unknown[0]}'", where=args["path"], decl=decl,
                         source=source, hint=f"the columns are: {', '.join(roles.header)}")
    from .missing import policy_for

    features = [*roles.features, *roles.categorical]
    template = Dataset(name=name, feature_names=list(roles.features), target_names=list(roles.targets),
                       ids={c: [] for c in roles.ids}, path=parts.path, categorical=list(roles.categorical), as_text=list(roles.as_text),
                       policies={c: policy_for(args, c) for c in features}, unknown=args.get("unknown") or "oov", table=True)
    table = StreamedTable(parts=parts, open_part=open_part, failure=failure, args=args, template=template, decl=decl, source=source,
                          row_word=row_word)
    table.roles = roles
    table.scan()
    if table.rows == 0 and not table.dropped:
        if parts.single:  # worded as for the table read whole (parts.read_parts)
            raise data_error("expected data rows after the header; received the header only", where=args["path"], decl=decl,
                             source=source)
        raise data_error(f"expected data rows; received none in {len(files)} files", where=args["path"], decl=decl, source=source)
    if table.rows == 0:
        raise data_error(f"expected rows without missing values; received none (missing=\"drop\" dropped all {table.dropped})",
                         where=args["path"], decl=decl, source=source)
    labels = [template.target_names[0]] if table.label else []
    table.size, table.budget = size, budget
    return replace(template, ids={}, fingerprint=fingerprint(), labels=labels, missing=table.missing, dropped=table.dropped,
                   stream=table)


def buffer_rows(width: int, batch_size: int) -> int:
    """Rows shuffled together for rows of ``width`` float32 values: SHUFFLE_ROWS, fewer for wide rows, a batch at least."""
    return max(batch_size, min(SHUFFLE_ROWS, SHUFFLE_BYTES // max(4 * width, 1)))


def batches(chunks, *, batch_size: int, rng=None, buffer_rows: int = SHUFFLE_ROWS):
    """Batches of ``batch_size`` rows from ``(x, y)`` chunks, in order, or (with ``rng``) shuffled
    within a buffer of ``buffer_rows`` rows; the rows left over from one buffer join the next.

    In order, the batches are those of the rows read whole: the same training steps as in memory.
    """
    import numpy as np

    buffer_rows = max(buffer_rows, batch_size)
    xs: list = []
    ys: list = []
    held = 0

    def drain(final: bool):
        x = np.concatenate(xs) if len(xs) > 1 else xs[0]
        y = None if ys[0] is None else (np.concatenate(ys) if len(ys) > 1 else ys[0])
        if rng is not None:
            index = rng.permutation(len(x))
            x = x[index]
            y = None if y is None else y[index]
        end = len(x) if final else len(x) - len(x) % batch_size
        out = [(x[s : min(s + batch_size, end)], None if y is None else y[s : min(s + batch_size, end)])
               for s in range(0, end, batch_size)]
        xs.clear()
        ys.clear()
        if end < len(x):
            xs.append(x[end:])
            ys.append(None if y is None else y[end:])
        return out

    for x, y in chunks:
        xs.append(x)
        ys.append(y)
        held += len(x)
        if held >= (buffer_rows if rng is not None else batch_size):
            yield from drain(False)
            held = len(xs[0]) if xs else 0
    if held:
        yield from drain(True)


def over_budget_line(ds: Dataset) -> str:
    """The line the run prints for a streamed table."""
    t = ds.stream
    return (f"{ds.name}: about {shown(t.size)}, over the memory budget of {shown(t.budget)}: "
            f"streamed in record batches ({t.rows} rows)")

