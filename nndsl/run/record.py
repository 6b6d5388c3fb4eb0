"""The run record: enough to reproduce a run (program after --set, data fingerprints, seed, versions, metrics)."""

from __future__ import annotations

import datetime
import json
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
        atomic_write_text(path, json.dumps(self.data, indent=1, default=_plain) + "\n")


def _plain(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return str(v)
