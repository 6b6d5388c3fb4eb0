"""The commands that run things: ``run``, ``launch``, ``summary`` and ``predict``."""

from __future__ import annotations

import argparse
import contextlib
import functools
import sys
from pathlib import Path

from ..errors import NndslError, RunError, UsageError
from .output import suggestion
from .source import (
    add_grant_arguments,
    command_target,
    grants,
    output_file,
    parameter_count,
    parse_sets,
    parse_source,
    read_source,
    require_folder,
)

# The options through which `launch` gives each process its place in the group.
GROUP_OPTIONS = ("--num-processes", "--process-id", "--coordinator")


def add_parsers(sub) -> None:
    r = sub.add_parser("run", help="run a .nn file's steps: train, test, save, predict ...")
    r.add_argument("file", metavar="FILE", help="the .nn file to run")
    r.add_argument("--set", action="append", metavar="NAME=VALUE", help="override a let variable")
    r.add_argument("--progress", choices=("auto", "rich", "plain", "none"), default="auto",
                   help="progress display (default: rich on a terminal, plain lines otherwise)")
    r.add_argument("--log-format", choices=("text", "json"), default="text", help="json: one JSON object per event on stdout")
    r.add_argument("--record", metavar="PATH", help="where to write the run record (default: FILE with .run.json)")
    r.add_argument("--max-params", type=parameter_count, default=None, metavar="N", help="refuse models with more parameters (default 1e9)")
    r.add_argument("--resume", action="store_true", help="continue an interrupted run from its last completed epoch")
    r.add_argument("-v", "--verbose", action="store_true", help="show TensorFlow's own messages")
    r.add_argument("--memory-budget", type=memory_size, default=None, metavar="SIZE",
                   help="tables estimated larger than SIZE (512MB, 2GiB) stream in record batches "
                        "(default: the file's `memory_budget` setting, else a quarter of this machine's memory)")
    add_grant_arguments(r)
    r.add_argument("--track", choices=("none", "mlflow", "tensorboard"), default=None,
                   help="track the run with MLflow or TensorBoard (default: the file's `track` setting)")
    r.add_argument("--tracking-uri", metavar="URI", default=None,
                   help="the MLflow store or server (default: mlruns/ beside the .nn file)")
    t = r.add_argument_group("tune steps")
    t.add_argument("--workers", type=int, default=1, metavar="N", help="search with N processes on this machine sharing the study")
    t.add_argument("--storage", default=None, metavar="URL",
                   help="the Optuna storage of the study (default: sqlite beside FILE, FILE.tune.db); "
                        "postgresql://..., mysql://... or journal:PATH to share it between hosts")
    t.add_argument("--fresh", action="store_true", help="start the search over instead of resuming its study")
    _add_backend_arguments(r)
    r.set_defaults(func=cmd_run)

    la = sub.add_parser("launch", help="run a .nn file as N processes on this machine, training together (JAX)")
    la.add_argument("-n", "--num-processes", type=int, required=True, metavar="N", help="how many processes")
    la.add_argument("file", metavar="FILE", help="the .nn file each process runs")
    la.add_argument("--port", type=int, default=0, help="the coordinator's port on 127.0.0.1 (default: a free one)")
    la.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                    help="how long to wait for a process that does not join or stops answering (default 300)")
    la.add_argument("run_args", nargs=argparse.REMAINDER, metavar="RUN_OPTION",
                    help="options after FILE go to each `nndsl run`, such as --set epochs=5 --resume")
    la.set_defaults(func=cmd_launch)

    s = sub.add_parser("summary", help="layers, output shapes and parameter counts")
    s.add_argument("file", metavar="FILE", help="the .nn file whose models to show")
    s.add_argument("--model", help="which model (default: every model)")
    s.add_argument("--keras", action="store_true", help="build the model with Keras and show its own shapes")
    s.add_argument("--data", action="store_true",
                   help="read the tables the models train on (as check --data does): the input width and what each column "
                        "gives, and the shapes of a model without Input")
    s.add_argument("--set", action="append", metavar="NAME=VALUE", help="override a let variable")
    s.add_argument("--diagram", metavar="PATH",
                   help="also draw the layer stack to PATH (.png, .svg or .pdf; needs matplotlib, not TensorFlow); "
                        "with several models and no --model, one file per model, named PATH-MODEL")
    s.set_defaults(func=cmd_summary)

    p = sub.add_parser("predict", help="predict with a saved model, without a .nn file")
    p.add_argument("model", metavar="SAVED_MODEL", help="a .keras or .h5 file")
    p.add_argument("data", metavar="DATA",
                   help="a CSV file (header row, feature columns), a Parquet or JSON lines file, a folder or glob pattern of "
                        "such part files, a .npy file, an .npz archive (its x) or a folder of images")
    p.add_argument("-o", "--output", metavar="OUT", help=".csv or .npy (default: print the first rows)")
    p.add_argument("--keep", action="append", metavar="COLUMN", help="copy an input column into the output CSV")
    p.add_argument("--probabilities", action="store_true",
                   help="for a classifier trained on class labels: a column per class with its probability, after the class")
    p.add_argument("--exclude", action="append", metavar="COLUMN",
                   help="leave a CSV column out of the features (the model's target and the columns it was not trained on "
                        "are left out already)")
    p.add_argument("--memory-budget", type=memory_size, default=None, metavar="SIZE",
                   help="a table (CSV, Parquet, JSON lines) estimated larger than SIZE (512MB, 2GiB) streams in record "
                        "batches, its predictions written as they come (default: a quarter of this machine's memory)")
    p.add_argument("-v", "--verbose", action="store_true", help="show TensorFlow's own messages")
    p.set_defaults(func=cmd_predict)


def _add_backend_arguments(r) -> None:
    from ..run.backend import BACKENDS
    from ..run.distributed import DEFAULT_TIMEOUT

    g = r.add_argument_group("backend and processes")
    g.add_argument("--backend", choices=BACKENDS, default=None,
                   help="the Keras backend (default: the file's `backend` setting, else tensorflow)")
    g.add_argument("--num-processes", type=int, default=None, metavar="N", help="train as one of N processes (JAX backend)")
    g.add_argument("--process-id", type=int, default=None, metavar="I",
                   help="this process's number, 0 to N-1; process 0 writes the files")
    g.add_argument("--coordinator", default=None, metavar="HOST:PORT", help="where process 0 listens for the others")
    g.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"how long to wait for a process that does not join or stops answering (default {DEFAULT_TIMEOUT})")


# ---------------------------------------------------------------- run and launch


def _group(args):
    """The multi-process group the command line asks for, or None."""
    given = [args.num_processes is not None, args.process_id is not None, args.coordinator is not None]
    if not any(given):
        return None
    if not all(given):
        raise UsageError("--num-processes, --process-id and --coordinator: expected all three for a multi-process run; received "
                         + ", ".join(n for n, g in zip(GROUP_OPTIONS, given) if g) + " only")
    from ..run.distributed import Group

    group = Group(args.num_processes, args.process_id, args.coordinator, args.timeout)
    group.validate()
    return group


def memory_size(text: str) -> int:
    """``--memory-budget 512MB``: the size in bytes; argparse reports anything else as a usage error."""
    from ..data.budget import parse_size

    size = parse_size(text)
    if isinstance(size, str):
        raise argparse.ArgumentTypeError(size)
    return size


def cmd_run(args) -> int:
    """Run the file's steps."""
    if args.log_format == "json":
        with errors_as_events():
            return _run(args)
    return _run(args)


def _run(args) -> int:
    from ..run.runner import run

    read_source(args.file)  # a missing, folder or non-UTF-8 file is a usage error before anything starts
    if args.record:
        command_target(f"--record {args.record}", Path(args.record), {Path(args.file): "the .nn file itself"})
    progress = "json" if args.log_format == "json" else (None if args.progress == "auto" else args.progress)
    run(Path(args.file), overrides=parse_sets(args.set), progress=progress, verbose=args.verbose,
        record_path=Path(args.record) if args.record else None, max_params=args.max_params, resume=args.resume,
        backend=args.backend, group=_group(args), track=args.track, tracking_uri=args.tracking_uri, grants=grants(args),
        tune=_tune_options(args), memory_budget=args.memory_budget)
    return 0


@contextlib.contextmanager
def errors_as_events():
    """With ``--log-format json``: a mistake is also an event on stdout (the message stays on stderr)."""
    import json

    try:
        yield
    except (NndslError, KeyboardInterrupt) as exc:
        event = {"event": "error", "exit_code": getattr(exc, "exit_code", 130)}
        if isinstance(exc, UsageError) or not getattr(exc, "diagnostics", None):
            event["message"] = str(exc) or "interrupted"
        else:
            event["errors"] = [{"code": d.code, "message": d.message, **({"line": d.span.line, "column": d.span.column} if d.span else {})}
                               for d in exc.diagnostics]
        print(json.dumps(event), flush=True)
        raise


def _tune_options(args):
    """How the tune steps of the run keep and share their studies."""
    if args.workers < 1:
        raise UsageError(f"--workers: expected a positive number of processes; received {args.workers}")
    from ..run.search import TuneOptions

    return TuneOptions(storage=args.storage, workers=args.workers, fresh=args.fresh,
                       plugins=tuple(getattr(args, "plugin", None) or ()))


def cmd_launch(args) -> int:
    """Run the file as N processes of one group on this machine."""
    from ..run.launch import launch

    read_source(args.file)
    if args.num_processes < 1:
        raise UsageError(f"-n: expected a positive number of processes; received {args.num_processes}")
    return launch(Path(args.file), args.num_processes, _run_options(args.run_args), port=args.port, timeout=args.timeout,
                  plugins=list(args.plugin or []))


def _run_options(run_args) -> list[str]:
    """The options launch passes on to each ``nndsl run``: any but those that place a process in the group."""
    run_args = list(run_args)
    if run_args[:1] == ["--"]:
        run_args = run_args[1:]
    for forbidden in GROUP_OPTIONS:
        if any(a == forbidden or a.startswith(forbidden + "=") for a in run_args):
            raise UsageError(f"{forbidden}: expected launch to choose it for each process; received it among the run options")
    return run_args


# ---------------------------------------------------------------- summary


def cmd_summary(args) -> int:
    """Print each model's layers, shapes and parameter counts; draw them with ``--diagram``."""
    from ..run.summary import print_summary
    from ..semantics.check import check

    text = read_source(args.file)
    run_check = functools.partial(check, parse_source(text, str(Path(args.file))), overrides=parse_sets(args.set))
    facts = {}
    if args.data:
        from ..data.check import check_with_data

        checked, found = check_with_data(run_check)
        facts = {f.model: f for f in found}
    else:
        checked = run_check()
    names = [args.model] if args.model else list(checked.models)
    diagram = _diagram_path(args.diagram, args.file)
    for name in names:
        if name not in checked.models:
            raise UsageError(f"--model {name}: expected a model of the file; received '{name}'" + suggestion(name, checked.models))
        keras_model = _keras_model(checked, name, facts.get(name)) if args.keras else None
        print_summary(checked, name, out=sys.stdout, keras_model=keras_model)
        _say_input(checked, name, facts.get(name))
        if diagram is not None:
            _draw(checked, name, diagram if len(names) == 1 else diagram.with_name(f"{diagram.stem}-{name}{diagram.suffix}"))
    return 0


def _diagram_path(value: str | None, nn_file: str) -> Path | None:
    """The ``--diagram`` path, checked before anything is built."""
    if value is None:
        return None
    from ..plots import output_format

    diagram = Path(value)
    try:
        output_format(diagram)
    except NndslError:
        raise UsageError(f"--diagram {value}: expected a path ending in .png, .svg or .pdf; received '{value}'") from None
    require_folder(f"--diagram {value}", diagram)
    command_target(f"--diagram {value}", diagram, {Path(nn_file): "the .nn file itself"})
    return diagram


def _say_input(checked, name: str, facts) -> None:
    """Where the input of a model trained on a table comes from: the table's columns (``--data``),
    or a pointer to ``--data`` when the model takes the table's width unread."""
    from ..data.check import takes_table_width
    from ..semantics.keras_check import fed_by_table

    if facts is not None:
        print(facts.line())
    elif takes_table_width(checked.models[name]) and fed_by_table(checked, name):
        print(f"model {name}: input from the table it trains on, its width unknown until read (nndsl summary --data reads it)")


def _keras_model(checked, name: str, facts=None):
    from ..compile.keras import build_model
    from ..data.check import takes_table_width
    from ..run.quiet import prepare

    prepare(False)
    # a model without Input takes the width of its table, as the run builds it
    width = facts.width if facts is not None and takes_table_width(checked.models[name]) else None
    return build_model(checked, name, input_width=width)


def _draw(checked, name: str, target: Path) -> None:
    from ..plots import draw_model

    try:
        draw_model(checked, name, target)
    except OSError as exc:
        raise UsageError(f"cannot write '{target}': {exc.strerror or exc}") from None
    print(f"wrote the layer diagram of model {name} to {target}")


# ---------------------------------------------------------------- predict


def cmd_predict(args) -> int:
    """Predict with a saved model on a table (CSV, Parquet, JSON lines), a ``.npy`` file or a folder of
    images; print the first rows or write them all."""
    model_path = _existing(args.model, "a saved .keras or .h5 model file")
    data_path = Path(args.data)
    from .tables import is_pattern, table_format

    if not data_path.is_dir() and not is_pattern(args.data):
        data_path = _existing(args.data, "a CSV, Parquet, JSON lines, .npy or .npz file, a folder or pattern of part files, "
                                         "or a folder of images")
    out = output_file(args.output, "predictions", reads={model_path: "the model file", data_path: "the data file"})
    from ..run.quiet import prepare

    prepare(args.verbose)
    model, meta = _load_model(model_path, args.model)
    if data_path.is_dir() and table_format(data_path) is None:
        return _predict_images(model, meta, data_path, args, out)
    ds = _load_rows(data_path, args.exclude, meta, args.data, getattr(args, "memory_budget", None))
    if ds.streamed:
        return _predict_streamed(model, meta, ds, args, out)
    want = tuple(model.input_shape[1:])
    if tuple(ds.x.shape[1:]) != want:
        raise RunError(f"{args.data}: expected rows of shape {want} for the model; received {tuple(ds.x.shape[1:])}"
                       + (f" (columns: {', '.join(ds.feature_names)})" if ds.feature_names else ""))
    import numpy as np

    from ..run import predictions
    from ..run.steps import predict_array

    preds = np.asarray(predict_array(model, ds.x))
    keep = list(dict.fromkeys(args.keep or []))
    missing = predictions.unknown_column(ds, keep)
    if missing is not None:
        raise UsageError(f"--keep {missing}: expected a column of {args.data}; received '{missing}'")
    return _emit(ds, keep, meta, preds, out, args.output, getattr(args, "probabilities", False))


def _predict_images(model, meta: dict, folder: Path, args, out: Path | None) -> int:
    """Predictions for a folder of images (one subfolder per class, as ``image_folder`` reads),
    sized as the model's input: one row per file, named by the file, a column per class."""
    import numpy as np

    from ..data.folders import load_images
    from ..run.steps import PREDICT_BATCH

    shape = tuple(model.input_shape[1:])
    if len(shape) != 3 or None in shape[:2] or shape[2] not in (1, 3, 4):
        raise UsageError(f"{args.data}: expected a model that takes images (height, width, channels); "
                         f"received a model with input {shape}")
    color = {1: "grayscale", 3: "rgb", 4: "rgba"}[shape[2]]
    ds = load_images({"path": str(folder), "image_size": shape[:2], "color_mode": color, "label_mode": "none"},
                     name="data", base=Path.cwd())
    preds = np.asarray(model.predict(ds.tf_dataset.batch(PREDICT_BATCH), verbose=0))
    keep = ["file"]
    return _emit(ds, keep, meta, preds, out, args.output)


def _predict_streamed(model, meta: dict, ds, args, out: Path | None) -> int:
    """Predictions on a table over the memory budget, record batch by record batch: written to
    ``out`` as they come (a file that replaces the old one only when every row is written), or
    the first rows printed."""
    import numpy as np

    from ..data.schema import from_meta
    from ..run import predictions
    from ..run.steps import predict_array

    table = ds.stream
    schema = from_meta(meta)
    keep = list(dict.fromkeys(args.keep or []))
    missing = next((c for c in keep if c not in table.roles.header), None)
    if missing is not None:
        raise UsageError(f"--keep {missing}: expected a column of {args.data}; received '{missing}'")
    want = tuple(model.input_shape[1:])
    if schema is not None and ds.table:
        batches = ((x, raw) for x, _, raw in table.encoded_with(schema).arrays(with_targets=False))
    else:
        batches = ((raw.x, raw) for raw, _ in table.datasets() if raw.rows)
    probabilities = getattr(args, "probabilities", False)
    with predictions.IncrementalWriter(out, table.rows) if out is not None else _NoFile() as written:
        for x, raw in batches:
            if tuple(x.shape[1:]) != want:
                raise RunError(f"{args.data}: expected rows of shape {want} for the model; received {tuple(x.shape[1:])}"
                               + (f" (columns: {', '.join(ds.feature_names)})" if ds.feature_names else ""))
            preds = np.asarray(predict_array(model, x))
            names, labels, values = _outputs(meta, preds, keep, probabilities)
            if out is None:
                print(",".join(keep + names))
                for row in predictions.shown_rows(raw, keep, values, 10, labels):
                    print(",".join(row))
                return 0
            written.add(raw, keep, names, preds, labels, values)
    print(f"wrote {predictions.count(written.written)} to {args.output}")
    return 0


class _NoFile:
    """The ``with`` of predictions printed, not written."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        return False


def _outputs(meta: dict, preds, keep: list, probabilities: bool):
    """(column names, the class of each row or None, the values of each row) of a model's predictions."""
    from ..data.schema import from_meta
    from ..run import predictions

    flat = preds.reshape(len(preds), -1)
    schema = from_meta(meta)
    return predictions.outputs(flat, target_names=meta.get("target_names") or (), class_names=meta.get("class_names") or (),
                               classes=schema.classes if schema is not None else (), probabilities=probabilities, keep=keep)


def _emit(ds, keep: list, meta: dict, preds, out: Path | None, shown: str | None, probabilities: bool = False) -> int:
    """The predictions written to ``out``, or their first rows printed: columns named by the
    model's targets or classes (the class of each row, for a model trained on class labels), after the kept columns."""
    from ..run import predictions

    flat = preds.reshape(len(preds), -1)
    names, labels, values = _outputs(meta, preds, keep, probabilities)
    if out is not None:
        predictions.write(out, ds, keep, names, preds, labels, values)
        print(f"wrote {predictions.count(len(flat))} to {shown}")
    else:
        print(",".join(keep + names))
        for row in predictions.shown_rows(ds, keep, values, 10, labels):
            print(",".join(row))
    return 0


def _existing(name: str, what: str) -> Path:
    path = Path(name)
    if not path.is_file():
        raise UsageError(f"cannot read '{name}': expected {what}")
    return path


def _load_model(path: Path, name: str):
    """The saved model and the metadata nndsl keeps beside it (target names, categorical vocabularies)."""
    import keras

    from ..run.modelmeta import BadMeta, read_checked
    from ..run.quiet import load_without_tensorflow
    from ..run.tablemodel import core_of

    try:
        meta = read_checked(path)
    except BadMeta as exc:
        raise RunError(f"{name}: {exc.refusal()}; {exc.hint}") from None
    try:
        model = load_without_tensorflow(lambda: keras.models.load_model(path, safe_mode=True))
    except Exception as exc:
        raise RunError(f"{name}: expected a Keras model file; received a file Keras cannot load ({type(exc).__name__})") from None
    # a model trained on a table takes named columns; nndsl encodes the rows itself (with located errors)
    return (core_of(model) if meta.get("table") else model), meta


def _load_rows(path: Path, exclude, meta: dict, shown: str, memory_budget: int | None = None):
    """The rows to predict on: a table's feature columns (those the model was trained on, when it
    knows them, picked by name in any order, others left out and said once; else every column but
    its targets and ``exclude``: :func:`nndsl.cli.tables.model_columns`), their categorical columns
    encoded as the model was trained; a ``.npy`` array or an ``.npz`` archive's ``x`` as it is.

    A table (CSV, Parquet, JSON lines; a file, a folder or a pattern of part files) estimated
    larger than ``memory_budget`` (by default a quarter of the machine's memory) comes back
    streamed (:mod:`nndsl.data.stream`), its rows encoded batch by batch by the caller."""
    from ..data.schema import from_meta
    from . import tables

    schema = from_meta(meta)
    suffix = path.suffix.lower()
    fmt = None
    if suffix == ".npy" and path.is_file():
        from ..data.arrays import load_npy

        ds = load_npy({"path": str(path)}, name="data", base=Path.cwd())
    elif suffix == ".npz" and path.is_file():
        from ..data.arrays import load_npz

        ds = load_npz({"path": str(path)}, name="data", base=Path.cwd())
    else:
        fmt = tables.table_format(path) or "csv"
        args = tables.model_columns(str(path), fmt, meta, exclude, shown)
        ds = tables.load_table(str(path), fmt, args, name="data", memory_budget=memory_budget)
        if ds.streamed:
            return ds
    if schema is not None and ds.table:
        from ..data.schema import encode

        ds = encode(ds, schema, tables.row_failure(shown, fmt or "csv", ds), with_targets=False)
    return ds
