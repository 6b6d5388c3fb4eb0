"""The median and the most frequent value of a numeric column too large to hold, exactly, over
passes of its chunks (a streamed table's record batches, :mod:`nndsl.data.stream`).

The median is an exact selection (a radix select): each float is mapped to an unsigned integer
key that sorts as the floats do, and each pass counts the keys of the values still in question
in a histogram of 65,536 buckets over their next 16 bits, which narrows the rank sought to one
bucket. A float32 column is settled in two such passes, a float64 one in four; a bucket whose
values fit in memory (``GATHER``) is instead gathered in the next pass and sorted, so a table of
fewer rows takes fewer passes. For an even count both middle values are selected, and the
median is taken of them as ``numpy.median`` takes it, so that the fill is the one the table read
whole gets, bit for bit.

The most frequent value is counted exactly, value by value, up to ``MAX_DISTINCT`` distinct
values; ties go to the smallest, as ``numpy.unique`` and ``argmax`` give them in memory.

Memory holds a histogram, a bucket or the distinct values, never the column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

BITS = 16  # bits of the key narrowed by one pass
BUCKETS = 1 << BITS
GATHER = 1 << 20  # values of one bucket gathered and sorted rather than narrowed by another pass
MAX_DISTINCT = 1_000_000  # distinct values counted to find the most frequent one

Chunks = Callable[[], Iterable]  # a new pass over the column: its chunks (1-D float arrays, NaN for a missing cell)


class TooManyValues(Exception):
    """The column has more than ``MAX_DISTINCT`` distinct values."""


def _key_type(dtype):
    import numpy as np

    return {4: np.uint32, 8: np.uint64}[np.dtype(dtype).itemsize]


def keys(a):
    """The float array ``a`` as unsigned integers that sort as its values do (negative floats have
    every bit flipped, the others their sign bit)."""
    import numpy as np

    a = np.ascontiguousarray(a)
    kind = _key_type(a.dtype)
    u = a.view(kind)
    top = kind(1) << kind(8 * a.itemsize - 1)
    return u ^ np.where(u >= top, kind(~kind(0)), top).astype(kind)


def value_of(key: int, dtype):
    """The float whose key (:func:`keys`) is ``key``."""
    import numpy as np

    kind = _key_type(dtype)
    k = kind(key)
    top = kind(1) << kind(8 * np.dtype(dtype).itemsize - 1)
    u = k ^ top if k >= top else ~k
    return np.array([u], dtype=kind).view(dtype)[0]


def _present(chunks: Chunks):
    import numpy as np

    for chunk in chunks():
        chunk = np.asarray(chunk).reshape(-1)
        yield chunk[~np.isnan(chunk)]


class _Sought:
    """One rank being narrowed: the keys whose top ``known`` bits are ``prefix``, the ``rank``-th among them."""

    def __init__(self, rank: int, count: int) -> None:
        self.rank = rank
        self.prefix = 0
        self.known = 0
        self.count = count  # values sharing the prefix
        self.key: int | None = None

    @property
    def state(self) -> tuple[int, int, bool]:
        return self.prefix, self.known, self.count <= GATHER


def order_statistics(chunks: Chunks, ranks: list[int], count: int, dtype) -> list:
    """The values of ``ranks`` (0-based, in ascending order of value) among the ``count`` values
    that are not NaN of the column read by ``chunks``, of float ``dtype``.

    Returns:
        The values, as NumPy scalars of ``dtype``; each pass of ``chunks`` serves every rank at once.
    """
    import numpy as np

    bits = 8 * np.dtype(dtype).itemsize
    sought = [_Sought(r, count) for r in ranks]
    while any(s.key is None for s in sought):
        states = {s.state for s in sought if s.key is None}
        hist = {st: np.zeros(BUCKETS, dtype=np.int64) for st in states if not st[2]}
        held: dict = {st: [] for st in states if st[2]}
        for chunk in _present(chunks):
            k = keys(chunk.astype(dtype, copy=False))
            for prefix, known, gather in states:
                mine = k if known == 0 else k[(k >> np.uint64(bits - known)) == prefix]
                if gather:
                    held[(prefix, known, gather)].append(mine)
                else:
                    shift = np.uint64(bits - known - BITS)
                    digits = ((mine >> shift) & np.uint64(BUCKETS - 1)).astype(np.int64)
                    hist[(prefix, known, gather)] += np.bincount(digits, minlength=BUCKETS)
        for state, parts in held.items():
            found = np.concatenate(parts) if parts else np.zeros(0, dtype=_key_type(dtype))
            for s in sought:
                if s.key is None and s.state == state:
                    s.key = int(np.partition(found, s.rank)[s.rank])
        for state, h in hist.items():
            below = np.cumsum(h)
            for s in sought:
                if s.key is None and s.state == state:
                    bucket = int(np.searchsorted(below, s.rank, side="right"))
                    s.rank -= int(below[bucket - 1]) if bucket else 0
                    s.count = int(h[bucket])
                    s.prefix = (s.prefix << BITS) | bucket
                    s.known += BITS
                    if s.known == bits:
                        s.key = s.prefix
    return [value_of(s.key, dtype) for s in sought]


def median(chunks: Chunks, count: int, dtype) -> float:
    """The median of the ``count`` values (not NaN) of the column read by ``chunks``, as
    ``numpy.median`` gives it for the column read whole into an array of ``dtype``.

    Args:
        chunks: starts a new pass over the column (called once per pass, at most four times).
        count: how many of its values are not NaN (the pass that summarised the table counted them).
        dtype: the float type the table read whole holds the column in (float32).
    """
    import numpy as np

    ranks = [count // 2] if count % 2 else [count // 2 - 1, count // 2]
    middle = np.array(order_statistics(chunks, ranks, count, dtype), dtype=dtype)
    # numpy.median averages its two middle values (np.mean of them, in their dtype): the same call on them alone
    return float(np.median(middle))


def most_frequent(chunks: Chunks, dtype) -> float | None:
    """The most frequent value (not NaN) of the column read by ``chunks``, the smallest of those
    tied; None when it has none.

    Raises:
        TooManyValues: the column has more than ``MAX_DISTINCT`` distinct values.
    """
    import numpy as np

    values = np.zeros(0, dtype=dtype)
    counts = np.zeros(0, dtype=np.int64)
    pending: list = []
    waiting = 0

    def merge(values, counts, pending):
        together, at = np.unique(np.concatenate([values, *(v for v, _ in pending)]), return_inverse=True)
        total = np.bincount(at.reshape(-1), weights=np.concatenate([counts, *(c for _, c in pending)]).astype(np.float64),
                            minlength=len(together))
        if len(together) > MAX_DISTINCT:
            raise TooManyValues
        return together, np.rint(total).astype(np.int64)

    for chunk in _present(chunks):
        v, c = np.unique(chunk.astype(dtype, copy=False), return_counts=True)
        pending.append((v, c))
        waiting += len(v)
        if waiting > MAX_DISTINCT:  # merged when the waiting values could hold as many as the bound
            values, counts = merge(values, counts, pending)
            pending, waiting = [], 0
    if pending:
        values, counts = merge(values, counts, pending)
    if not len(values):
        return None
    return float(values[int(np.argmax(counts))])
