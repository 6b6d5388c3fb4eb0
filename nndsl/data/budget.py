"""The memory budget of a run: how large a table may be and still be read whole into memory.

A table source estimates its size before reading it (:func:`estimate`); one larger than the
budget is streamed in record batches instead (:mod:`nndsl.data.stream`). The budget is a
fraction of the machine's memory unless the program's ``memory_budget`` setting (or
``nndsl run --memory-budget``) says otherwise; sizes are read by :mod:`nndsl.semantics.sizes`,
where the checker reads the setting.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..semantics.sizes import EXAMPLE, parse_size

__all__ = ["EXAMPLE", "default_budget", "estimate", "machine_memory", "parse_size", "shown"]

DEFAULT_FRACTION = 4  # the default budget: a quarter of the machine's memory
FALLBACK = 2 * 2**30  # when the machine's memory cannot be read
def machine_memory() -> int | None:
    """The machine's physical memory in bytes, or None where it cannot be read."""
    try:
        pages, page = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        if pages > 0 and page > 0:
            return int(pages) * int(page)
    except (ValueError, OSError, AttributeError):
        pass
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def default_budget() -> int:
    """A quarter of the machine's memory: room for the model, TensorFlow and a copy or two of the data."""
    total = machine_memory()
    return total // DEFAULT_FRACTION if total else FALLBACK


def shown(size: int) -> str:
    """``512 MB``, ``1.5 GB``: a size for messages."""
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} B"


def estimate(files: list[Path], *, parquet: bool = False) -> int:
    """The bytes a table takes in memory, estimated before reading it.

    Text files (CSV, JSON lines) take about their size: a number written in text is about as long
    as the float32 and the Python text it becomes. A Parquet file is compressed, so its size says
    little: rows x columns x 4 bytes, from its metadata.
    """
    total = 0
    for path in files:
        if parquet:
            try:
                import pyarrow.parquet as pq

                meta = pq.ParquetFile(path).metadata
                total += meta.num_rows * max(meta.num_columns, 1) * 4
                continue
            except Exception:  # noqa: BLE001 - an unreadable file is reported by the reader itself
                pass
        try:
            total += path.stat().st_size
        except OSError:
            pass
    return total
