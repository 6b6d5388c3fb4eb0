"""``nndsl runs``: the history of runs kept under ``runs/`` beside a ``.nn`` file.

    nndsl runs [FILE]              the runs (of FILE, or every run in this folder) as a table
    nndsl runs show ID             one run: its record, program and artefacts
    nndsl runs compare ID ID ...   what differs in the programs, the metrics side by side, the curves in one picture
    nndsl runs rm ID ...           remove runs from the history

Reads JSON files only: no TensorFlow, and matplotlib only to draw the comparison.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

from ..errors import NndslError, UsageError
from ..run import history
from .output import suggestion

ACTIONS = ("show", "compare", "rm")


def add_parsers(sub) -> None:
    p = sub.add_parser("runs", help="the history of runs: list, show, compare and remove them",
                       description="nndsl runs [FILE] | runs show ID | runs compare ID ID ... | runs rm ID ...")
    p.add_argument("words", nargs="*", metavar="FILE | show ID | compare ID ID ... | rm ID ...",
                   help="a .nn file to list its runs, or show, compare or rm with run ids")
    p.add_argument("--dir", metavar="FOLDER",
                   help="the folder of the .nn file whose runs/ to read (default: FILE's folder, else the current one)")
    p.add_argument("-o", "--output", metavar="PATH",
                   help="compare: where to draw the runs' curves (.png, .svg or .pdf; default: runs/compare-ID-ID.png)")
    p.add_argument("--model", help="compare: which model's curves (default: the first model trained in every run)")
    p.add_argument("--metric", action="append", metavar="NAME", help="compare: a metric to draw (repeatable; default: every one)")
    p.set_defaults(func=cmd_runs)


def cmd_runs(args) -> int:
    """Dispatch ``runs [FILE]``, ``runs show``, ``runs compare`` and ``runs rm``."""
    words = list(args.words)
    action = words[0] if words and words[0] in ACTIONS else None
    if action is None:
        if len(words) > 1:
            raise UsageError(f"expected at most one .nn file, or one of {', '.join(ACTIONS)}; received '{words[0]}' and more"
                             + suggestion(words[0], ACTIONS))
        return list_command(Path(words[0]) if words else None, args.dir)
    ids = words[1:]
    folder = runs_dir(args.dir)
    if action == "show":
        if len(ids) != 1:
            raise UsageError(f"runs show: expected one run ID; received {len(ids)}")
        show(history.find_run(ids[0], folder))
        return 0
    if action == "compare":
        if len(ids) < 2:
            raise UsageError(f"runs compare: expected two or more run IDs; received {len(ids)}")
        return compare([history.find_run(i, folder) for i in ids], args, folder)
    if not ids:
        raise UsageError("runs rm: expected one or more run IDs; received none")
    found = [history.find_run(i, folder) for i in ids]  # every ID checked before anything is removed
    for run in found:
        history.remove(run)
        print(f"removed run {run.id}")
    return 0


def runs_dir(folder: str | None) -> Path:
    base = Path(folder) if folder else Path(".")
    if folder and not base.is_dir():
        raise UsageError(f"--dir {folder}: expected an existing folder; received a path that is not one")
    if base.name == history.RUNS_DIR and not (base / history.RUNS_DIR).is_dir():
        return base  # --dir runs: the history folder itself
    return base / history.RUNS_DIR


# ---------------------------------------------------------------- list


def list_command(file: Path | None, folder: str | None) -> int:
    """Print the runs of ``file`` (or of every file in the folder) as a table, oldest first."""
    if file is not None and file.is_dir():
        raise UsageError(f"cannot read '{file}': expected a .nn file; received a folder (use --dir {file})")
    if file is not None:
        where = Path(folder) / history.RUNS_DIR if folder else history.runs_folder(file)
        runs = history.list_runs(where, file.stem)
    else:
        where = runs_dir(folder)
        runs = history.list_runs(where)
    if not runs:
        print(f"no runs{f' of {file.name}' if file is not None else ''} kept in {where}")
        return 0
    header = ("id", "started (UTC)", "--set", "status", "duration", "last metrics")
    rows = [(r.id, history.when_text(r.record.get("started", "")), history.sets_text(r.overrides), r.status,
             history.duration_text(r.seconds), history.short_metrics(r)) for r in runs]
    table(header, rows, title=f"runs in {where}")
    return 0


def table(header, rows, title: str | None = None) -> None:
    """A table: rich's on a terminal, aligned plain columns elsewhere (for pipes and tests)."""
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        t = Table(title=title)
        for c in header:
            t.add_column(c)
        for row in rows:
            t.add_row(*row)
        Console().print(t)
        return
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    for row in (header, *rows):
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip())


# ---------------------------------------------------------------- show


def show(run: history.Run) -> None:
    """Print one run: when, how it ended, its --set values, data, steps, artefacts, metrics and program."""
    rec = run.record
    print(f"run {run.id} of {rec.get('file', '?')}")
    print(f"  status    {run.status}")
    print(f"  started   {history.when_text(rec.get('started', ''))} UTC, took {history.duration_text(run.seconds)}")
    print(f"  --set     {history.sets_text(run.overrides)}")
    print(f"  seed      {rec.get('seed')}")
    versions = rec.get("versions") or {}
    if versions:
        print("  versions  " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    for name, d in (rec.get("data") or {}).items():
        print(f"  data      {name}: {d.get('path') or d.get('source')} ({d.get('rows')} rows, {d.get('fingerprint')})")
    for art in rec.get("artefacts") or []:
        where = f"{art['path']}" + (f" (copy: {run.folder / art['copy']})" if art.get("copy") else "")
        state = " (no longer there)" if art.get("missing") else ""
        print(f"  {art['kind']:<9} {where}{state}")
    metrics = run.metrics()
    if metrics:
        print("metrics")
        for k, v in metrics.items():
            print(f"  {k} = {v:.6g}")
    print(f"program ({run.folder / history.PROGRAM})")
    for line in run.program.splitlines():
        print(f"  {line}")


# ---------------------------------------------------------------- compare


def compare(runs: list[history.Run], args, runs_dir: Path) -> int:
    """Print what differs in the programs and the metrics side by side; draw the curves in one picture."""
    first = runs[0]
    print("program")
    for other in runs[1:]:
        diff = list(difflib.unified_diff(first.program.splitlines(), other.program.splitlines(),
                                         fromfile=first.id, tofile=other.id, lineterm="", n=1))
        if diff:
            print("\n".join(f"  {line}" for line in diff))
        else:
            print(f"  {first.id} and {other.id} ran the same program")
    print()
    keys: list[str] = []
    for run in runs:
        keys += [k for k in run.metrics() if k not in keys]
    header = ("", *(r.id for r in runs))
    rows = [("--set", *(history.sets_text(r.overrides) for r in runs)),
            ("status", *(r.status for r in runs)),
            ("duration", *(history.duration_text(r.seconds) for r in runs))]
    for key in keys:
        rows.append((key, *(_number(r.metrics().get(key)) for r in runs)))
    table(header, rows, title="runs compared")
    _draw_comparison(runs, args, runs_dir)
    return 0


def _number(value) -> str:
    return "-" if value is None else f"{value:.6g}"


def _draw_comparison(runs: list[history.Run], args, runs_dir: Path) -> None:
    trained = [r for r in runs if r.histories]
    if not trained:
        print("no curves to draw: none of these runs trained a model")
        return
    model = args.model or next((m for m in trained[0].histories if all(m in r.histories for r in trained)), None)
    if model is None:
        print("no curves to draw: no model was trained in every one of these runs (choose one with --model)")
        return
    missing = [r.id for r in trained if model not in r.histories]
    if missing:
        raise UsageError(f"--model {model}: expected a model trained in every run; received one that {', '.join(missing)} did not train"
                         + suggestion(model, trained[0].histories))
    out = Path(args.output) if args.output else runs_dir / ("compare-" + "-".join(r.id for r in trained) + ".png")
    if args.output is None:
        import importlib.util

        if importlib.util.find_spec("matplotlib") is None:  # asked for the tables only: say how to get the picture
            print('no picture of the curves: matplotlib is not installed (pip install "nndsl[plots]")')
            return
    draw_runs({r.id: r.histories[model] for r in trained}, out, title=f"model {model}", metrics=args.metric)
    print(f"wrote the curves of {', '.join(r.id for r in trained)} to {out}")


def draw_runs(histories: dict, out: Path, *, title: str | None, metrics=None, width=None, height=None) -> None:
    """Draw several runs' curves in one picture, with the command line's errors for a bad path or metric."""
    from ..plots import output_format, plot_runs
    from .source import require_folder

    try:
        output_format(out)
    except NndslError:
        raise UsageError(f"-o {out}: expected a path ending in .png, .svg or .pdf; received '{out}'") from None
    require_folder(f"-o {out}", out)
    try:
        plot_runs(histories, out, title=title, metrics=metrics, width=width, height=height)
    except UsageError:
        raise
    except NndslError as exc:
        raise UsageError(f"--metric: {exc}" if getattr(exc, "param", None) == "metrics" else str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot write '{out}': {exc.strerror or exc}") from None
