"""``nndsl report RUN [-o report.html]``: one run of the history as a self-contained HTML page."""

from __future__ import annotations

from pathlib import Path

from ..errors import UsageError
from ..run import history
from .runs import runs_dir
from .source import output_file


def add_parsers(sub) -> None:
    p = sub.add_parser("report", help="one run as a single self-contained HTML page: program, summary, curves, evaluation, metrics")
    p.add_argument("run", metavar="RUN", help="a run's ID in runs/ (see nndsl runs), or the path of a run's folder")
    p.add_argument("-o", "--output", metavar="PATH", help="where to write the page (default: report.html in the run's folder)")
    p.add_argument("--dir", metavar="FOLDER", help="the folder of the .nn file whose runs/ to read (default: the current one)")
    p.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    """Write the run's HTML page."""
    from ..reports.html import render
    from ..run.files import atomic_write_text

    run = history.find_run(args.run, runs_dir(args.dir))
    out = output_file(args.output, "HTML page") or run.folder / "report.html"
    if out.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"-o {args.output}: expected a path ending in .html; received '{args.output}'")
    page = render(run)
    try:
        atomic_write_text(Path(out), page)
    except OSError as exc:
        raise UsageError(f"cannot write '{out}': {exc.strerror or exc}") from None
    print(f"wrote the report of run {run.id} to {out}")
    return 0
