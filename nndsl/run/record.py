"""The run record: enough to reproduce a run (program after --set, data fingerprints, seed, versions, metrics)."""

from __future__ import annotations

import datetime
import json
import math
import platform
import sys
from pathlib import Path
from typing import Any

from ..version import __version__
from .files import atomic_write_text


def versions() -> dict[str, str]:
    out = {"nndsl": __version__, "python": platform.python_version()}
    for mod in ("keras", "tensorflow", "numpy"):
        m = sys.modules.get(mod)
        if m is not None:
            out[mod] = getattr(m, "__version__", "?")
    return out


class RunRecord:
    def __init__(self, program_text: str, source_name: str, seed: Any, overrides: dict[str, str]) -> None:
        self.data: dict[str, Any] = {
            "format_version": 1,
            "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "file": source_name,
            "program": program_text,
            "overrides": overrides,
            "seed": seed,
            "data": {},
            "steps": [],
            "history": {},
            "metrics": {},
            "preprocessing": {},
        }

    def add_step(self, **fields) -> None:
        self.data["steps"].append(fields)

    def write(self, path: Path) -> None:
        self.data["versions"] = versions()
        self.data["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        # Strict JSON: a diverged loss (NaN, infinity) is written as null, which every reader parses.
        atomic_write_text(path, json.dumps(finite_json(self.data), indent=1, allow_nan=False) + "\n")


def finite_json(v):
    """``v`` as strict JSON values: NumPy scalars as numbers, other unknown objects as text, NaN
    and infinities as None (``json.dumps`` would write them as NaN and Infinity, which are not JSON)."""
    if isinstance(v, dict):
        return {str(k): finite_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [finite_json(x) for x in v]
    if v is None or isinstance(v, (bool, str, int)):
        return v
    if not isinstance(v, float):
        try:
            v = float(v)
        except (TypeError, ValueError):
            return str(v)
    return v if math.isfinite(v) else None
