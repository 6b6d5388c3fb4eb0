"""The run record: enough to reproduce a run (program after --set, data fingerprints, seed, versions, metrics)."""

from __future__ import annotations

import datetime
import json
import math
import platform
import sys
import time
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
        self._clock = time.monotonic()
        self.run_folder: Path | None = None  # runs/STEM-N, once made

    def folder(self, nn_file: Path) -> Path:
        """The run's folder in the history, made on first use (a tracker may write there during the run)."""
        if self.run_folder is None:
            from .history import allocate

            self.run_folder = allocate(nn_file)
        return self.run_folder

    def finish(self, status: str) -> None:
        """Close the record: how the run ended (finished, failed, interrupted) and after how long.
        The first call counts: a run that failed stays failed."""
        if "status" in self.data:
            return
        self.data["status"] = status
        self.data["seconds"] = round(time.monotonic() - self._clock, 3)

    def add_step(self, **fields) -> None:
        self.data["steps"].append(fields)

    def write(self, path: Path) -> None:
        self.data["versions"] = versions()
        self.data["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        atomic_write_text(path, encode(self.data))

    def keep(self, nn_file: Path, base: Path | None = None) -> Path:
        """Keep the run in the history beside ``nn_file`` (``runs/STEM-N``); returns its folder."""
        from .history import keep

        self.data["versions"] = versions()
        self.data["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        return keep(self.data, nn_file, encode, folder=self.folder(nn_file), base=base)


def encode(data: dict) -> str:
    """A run record's JSON text: strict JSON, a diverged loss (NaN, infinity) written as null."""
    return json.dumps(finite_json(data), indent=1, allow_nan=False) + "\n"


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
