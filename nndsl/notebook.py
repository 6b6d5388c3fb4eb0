"""IPython and Jupyter: ``%load_ext nndsl``, then ``%%nn`` cells.

A ``%%nn`` cell holds a program. The magic checks it (diagnostics, with their caret lines,
are shown instead of a traceback), runs its steps with the progress written into the cell's
output, shows what its ``plot`` steps drew, and returns the run's
:class:`~nndsl.run.api.RunResult` (histories, metrics, trained models) as the cell's value,
so the next cell can use ``_`` (or the variable named by ``--out``). Relative paths in the
program are read from and written to the notebook's folder (the kernel's working folder).

Options on the ``%%nn`` line: ``--set NAME=VALUE`` (repeatable), ``--out VARIABLE``,
``--progress rich|plain|json|none``, ``--backend tensorflow|jax``, ``--check`` (check only).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from pathlib import Path

from .errors import NndslError, UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # a wrong %%nn line is shown as one line, not an exit
        raise UsageError(f"%%nn: {message}")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="%%nn", add_help=False)
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a let variable")
    p.add_argument("--out", metavar="VARIABLE", help="also store the run's result in this variable")
    p.add_argument("--progress", choices=("rich", "plain", "json", "none"), default=None)
    p.add_argument("--backend", choices=("tensorflow", "jax"), default=None)
    p.add_argument("--check", action="store_true", help="check the program without running it")
    return p


def _sets(items) -> dict[str, str]:
    out = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            raise UsageError(f"%%nn --set {item}: expected NAME=VALUE")
        out[name.strip()] = value
    return out


def nn_cell(line: str, cell: str, ipython=None):
    """The ``%%nn`` magic: check the cell's program, run it, show its plots; the run's result.

    Returns None (after showing the diagnostics) when the program has a mistake.
    """
    from .semantics.check import check
    from .syntax.parser import parse

    try:
        args = _parser().parse_args(shlex.split(line))
        overrides = _sets(args.set)
        checked = check(parse(cell, filename="<cell>"), overrides=overrides)
    except NndslError as exc:
        _show_error(exc)
        return None
    for warning in checked.warnings:
        print(warning.render(), file=sys.stderr)
    if args.check:
        print("ok")
        return None
    from .run.api import run_file

    with tempfile.TemporaryDirectory(prefix="nndsl-cell-") as tmp:
        program = Path(tmp) / "cell.nn"
        program.write_text(cell, encoding="utf-8")
        try:
            result = run_file(program, set=overrides, progress=args.progress, out=sys.stdout, err=sys.stderr,
                              base_dir=Path.cwd(), backend=args.backend, record_path=Path(tmp) / "cell.run.json")
        except NndslError as exc:
            _show_error(exc, program, cell)
            return None
    _show_plots(result.plots)
    if args.out:
        if ipython is None:
            from IPython import get_ipython

            ipython = get_ipython()
        ipython.user_ns[args.out] = result
    return result


def _show_error(exc: NndslError, program: Path | None = None, cell: str | None = None) -> None:
    """The diagnostics as ``nndsl`` prints them, naming the cell rather than a temporary file."""
    text = exc.render(color=False) if not isinstance(exc, UsageError) else f"error: {exc}"
    if program is not None:
        text = text.replace(str(program), "<cell>")
    print(text, file=sys.stderr)


def _show_plots(paths) -> None:
    from IPython.display import SVG, Image, display

    for path in paths:
        path = Path(path)
        if not path.is_file():
            continue
        if path.suffix.lower() == ".png":
            display(Image(filename=str(path)))
        elif path.suffix.lower() == ".svg":
            display(SVG(filename=str(path)))


def load_ipython_extension(ipython) -> None:
    """Register ``%%nn`` with an IPython shell (``%load_ext nndsl`` calls this)."""

    def nn(line, cell):
        return nn_cell(line, cell, ipython)

    nn.__doc__ = __doc__
    ipython.register_magic_function(nn, magic_kind="cell", magic_name="nn")
