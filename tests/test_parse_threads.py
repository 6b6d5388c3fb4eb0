"""``parse`` from several threads at once gives the same trees and errors as one after another."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nndsl

ROOT = Path(__file__).resolve().parents[1]


def _outcome(path: Path):
    """The tree of a file, or the text of its syntax diagnostics."""
    try:
        return nndsl.parse_file(path)
    except nndsl.NndslSyntaxError as exc:
        return [(d.message, d.span, d.hint, tuple(n.message for n in d.notes)) for d in exc.diagnostics]


def test_concurrent_parses_match_serial_ones():
    files = sorted(ROOT.glob("examples/**/*.nn")) + sorted(ROOT.glob("tests/cases/**/*.nn"))
    # deep operator nesting uses the builder's per-parse depth records; brackets the error's stack
    files = [f for f in files if f.stat().st_size < 200_000]
    assert len(files) > 50
    serial = {f: _outcome(f) for f in files}
    assert any(isinstance(v, list) for v in serial.values()) and any(not isinstance(v, list) for v in serial.values())
    start = threading.Barrier(8)

    def work(offset: int) -> dict:
        start.wait()
        order = files[offset:] + files[:offset]  # each thread in its own order: different files at once
        return {f: _outcome(f) for f in order * 3}

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # threads take turns mid-parse, many times per file
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(work, range(0, 8 * 7, 7)))
    finally:
        sys.setswitchinterval(interval)
    for result in results:
        for f in files:
            assert result[f] == serial[f], f
