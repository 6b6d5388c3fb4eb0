"""The ``nndsl`` command line: check, fmt, parse, run, launch, summary, predict, export, import, plot, plugins.

``main(argv) -> int``. A user's mistake prints a located diagnostic and exits 1; a wrong
command line exits 2; anything else is a bug in nndsl and shows its traceback.

The domain packages never import this one: it reads files and arguments, calls them, and
turns their errors into output (:mod:`nndsl.cli.output`).
"""

from __future__ import annotations

from .app import build_parser, main

__all__ = ["build_parser", "main"]
