"""Memory sizes as a program and the command line write them: ``"512MB"``, ``"2GiB"``, ``4096``.

The ``memory_budget`` setting is checked here, where it is written; the run uses the same
reading for ``nndsl run --memory-budget`` (:mod:`nndsl.data.budget`).
"""

from __future__ import annotations

import re

_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
EXAMPLE = '"512MB"'  # how a budget is written, for hints
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*")


def parse_size(value) -> int | str:
    """A budget in bytes from ``"512MB"``, ``"2GiB"``, ``"1.5G"`` or a whole number of bytes;
    the words of the problem (a ``str`` starting ``expected``) when ``value`` is none of them."""
    if isinstance(value, bool):
        return f"expected a memory size such as {EXAMPLE}; received {value!r}"
    if isinstance(value, int):
        return value if value > 0 else f"expected a positive memory size; received {value}"
    if not isinstance(value, str):
        return f"expected a memory size such as {EXAMPLE}; received {value!r}"
    m = _SIZE.fullmatch(value)
    unit = m.group(2).lower() if m else None
    if m is None or unit not in _UNITS:
        return f"expected a memory size such as {EXAMPLE} (units B, KB, MB, GB, TB, KiB, MiB, GiB, TiB); received {value!r}"
    size = int(float(m.group(1)) * _UNITS[unit])
    if size <= 0:
        return f"expected a positive memory size; received {value!r}"
    return size
