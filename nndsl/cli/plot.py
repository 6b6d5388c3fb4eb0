"""``nndsl plot RUN_RECORD``: training curves from the record a run leaves (``FILE.run.json``).

Reads the record's ``history`` (per model: loss and metrics, and their ``val_`` versions, one
value per epoch) and draws it with :func:`nndsl.plots.plot_history`. Needs matplotlib, not
TensorFlow.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import RunError, UsageError
from ..run.history import RECORD
from .output import suggestion
from .source import command_target, require_folder

MIN_PIXELS = 50  # the smallest --width or --height worth drawing


def add_parsers(sub) -> None:
    p = sub.add_parser("plot", help="draw the training curves of a run record (FILE.run.json) as a PNG; several runs in one picture")
    p.add_argument("records", nargs="+", metavar="RUN_RECORD",
                   help="the .run.json file that 'nndsl run' wrote, or a run's folder under runs/; with several, "
                        "their curves in one picture (one colour per run)")
    p.add_argument("-o", "--output", metavar="PATH",
                   help=".png, .svg or .pdf (default: the record's name with .curves.png); with several models "
                        "and no --model, one file per model, named PATH-MODEL")
    p.add_argument("--model", help="which model (default: every trained model)")
    p.add_argument("--metric", action="append", metavar="NAME", help="a metric to draw (repeatable; default: every one, loss first)")
    p.add_argument("--title", help="title of the figure (default: the model's name)")
    p.add_argument("--width", type=int, metavar="PIXELS", help="width in pixels (default: 480 per panel)")
    p.add_argument("--height", type=int, metavar="PIXELS", help="height in pixels (default: 340 per row of panels)")
    p.set_defaults(func=cmd_plot)


def default_output(record: Path) -> Path:
    """``sales.run.json`` -> ``sales.curves.png``, beside the record."""
    name = record.name
    for suffix in (".run.json", ".json"):
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return record.with_name(name + ".curves.png")


def read_histories(path: Path) -> dict[str, dict]:
    """The ``history`` of a run record: model name -> metric name -> one value per epoch."""
    if not path.exists():
        raise UsageError(f"cannot read '{path}': expected a run record (FILE.run.json); received a path that does not exist")
    if path.is_dir() and (path / RECORD).is_file():  # a run's folder in the history
        path = path / RECORD
    if path.is_dir():
        raise UsageError(f"cannot read '{path}': expected a run record (FILE.run.json); received a folder")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise UsageError(f"cannot read '{path}': expected a run record (JSON text); received bytes that are not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"cannot read '{path}': expected a run record (JSON); received text that is not JSON "
                         f"(line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    history = data.get("history") if isinstance(data, dict) else None
    if not isinstance(history, dict):
        raise UsageError(f"cannot read '{path}': expected a run record written by 'nndsl run', with a 'history'; received JSON without one")
    histories = {str(k): v for k, v in history.items() if isinstance(v, dict) and any(isinstance(x, list) and x for x in v.values())}
    if not histories:
        raise RunError(f"{path}: expected a run record of a run that trained a model; received one with no training history")
    return histories


def scaled_losses(path: Path) -> set[str]:
    """The models of a run record whose loss is that of a scaled target (``scale_target``)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {name for name, pre in (data.get("preprocessing") or {}).items() if isinstance(pre, dict) and pre.get("scaled_loss")}
    except (OSError, ValueError, AttributeError):
        return set()


def cmd_plot(args) -> int:
    """Draw the training curves of each model of a run record, one file per model."""
    from ..plots import plot_history

    if len(args.records) > 1:
        return _plot_several([Path(r) for r in args.records], args)
    record = Path(args.records[0])
    histories = read_histories(record)
    names = _models(args.model, histories)
    out = _output(Path(args.output) if args.output else default_output(record), args)
    command_target(f"-o {out}", out, {record: "the run record"})
    for name in names:
        _check_metrics(args.metric, name, histories[name])
    for name in names:
        target = out if len(names) == 1 else out.with_name(f"{out.stem}-{name}{out.suffix}")
        try:
            plot_history(histories[name], target, title=args.title if args.title is not None else f"model {name}",
                         metrics=args.metric, width=args.width, height=args.height, scaled_loss=name in scaled_losses(record))
        except RunError as exc:
            raise RunError(f"{record}: model '{name}': {exc}") from None
        except OSError as exc:
            raise UsageError(f"cannot write '{target}': {exc.strerror or exc}") from None
        print(f"wrote training curves of model {name} to {target}")
    return 0


def _plot_several(records: list[Path], args) -> int:
    """Several runs' curves in one picture: one model's (``--model``, else the first each run trained)."""
    from .runs import draw_runs

    runs: dict[str, dict] = {}
    for record in records:
        histories = read_histories(record)
        name = _models(args.model, histories)[0]
        label = _label(record)
        while label in runs:
            label += "'"
        runs[label] = histories[name]
    first = default_output(records[0])
    out = Path(args.output) if args.output else first.with_name(first.name.replace(".curves.", ".compare."))
    _output(out, args)
    draw_runs(runs, out, title=args.title, metrics=args.metric, width=args.width, height=args.height)
    print(f"wrote the training curves of {len(runs)} runs to {out}")
    return 0


def _label(record: Path) -> str:
    """A run's name in a legend: its ID in the history, else the record's file name."""
    folder = record if record.is_dir() else record.parent
    if (folder / RECORD).is_file():
        return folder.name
    return default_output(record).name.removesuffix(".curves.png")


def _models(model: str | None, histories: dict) -> list[str]:
    """The models to draw: ``--model``, else every model trained in the run."""
    if not model:
        return list(histories)
    if model not in histories:
        raise UsageError(f"--model {model}: expected a model trained in the run ({', '.join(histories)}); received '{model}'"
                         + suggestion(model, histories))
    return [model]


def _output(out: Path, args) -> Path:
    """The ``-o`` path and the figure's size, checked before anything is drawn."""
    from ..plots import output_format

    try:
        output_format(out)
    except RunError:
        raise UsageError(f"-o {out}: expected a path ending in .png, .svg or .pdf; received '{out}'") from None
    for option in ("width", "height"):
        value = getattr(args, option)
        if value is not None and value < MIN_PIXELS:
            raise UsageError(f"--{option} {value}: expected at least {MIN_PIXELS} pixels; received {value}")
    require_folder(f"-o {out}", out)
    return out


def _check_metrics(metrics, name: str, history: dict) -> None:
    """A usage error for a ``--metric`` (or its ``val_`` version) that model ``name`` did not record."""
    from ..plots import history_metrics

    available = history_metrics(history)
    for metric in metrics or ():
        base = metric[4:] if metric.startswith("val_") else metric
        if base not in available:
            raise UsageError(f"--metric {metric}: expected a metric of model '{name}' in the run ({', '.join(available)}); "
                             f"received '{metric}'" + suggestion(base, available))
