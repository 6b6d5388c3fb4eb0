"""The CLI commands that run things: run, summary, predict, build."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import NndslError, UsageError


def add_parsers(sub) -> None:
    r = sub.add_parser("run", help="run a .nn file's steps: train, test, save, predict ...")
    r.add_argument("file", metavar="FILE")
    r.add_argument("--set", action="append", metavar="NAME=VALUE", help="override a let variable")
    r.add_argument("--progress", choices=("auto", "rich", "plain", "none"), default="auto",
                   help="progress display (default: rich on a terminal, plain lines otherwise)")
    r.add_argument("--log-format", choices=("text", "json"), default="text", help="json: one JSON object per event on stdout")
    r.add_argument("--record", metavar="PATH", help="where to write the run record (default: FILE with .run.json)")
    r.add_argument("--max-params", type=int, default=None, metavar="N", help="refuse models with more parameters (default 1e9)")
    r.add_argument("--resume", action="store_true", help="continue an interrupted run from its last completed epoch")
    r.add_argument("-v", "--verbose", action="store_true", help="show TensorFlow's own messages")
    _add_backend_arguments(r)
    r.set_defaults(func=cmd_run)

    la = sub.add_parser("launch", help="run a .nn file as N processes on this machine, training together (JAX)")
    la.add_argument("-n", "--num-processes", type=int, required=True, metavar="N", help="how many processes")
    la.add_argument("file", metavar="FILE")
    la.add_argument("--port", type=int, default=0, help="the coordinator's port on 127.0.0.1 (default: a free one)")
    la.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                    help="how long to wait for a process that does not join or stops answering (default 300)")
    la.add_argument("run_args", nargs=argparse.REMAINDER, metavar="RUN_OPTION",
                    help="options after FILE go to each `nndsl run`, such as --set epochs=5 --resume")
    la.set_defaults(func=cmd_launch)

    s = sub.add_parser("summary", help="layers, output shapes and parameter counts")
    s.add_argument("file", metavar="FILE")
    s.add_argument("--model", help="which model (default: every model)")
    s.add_argument("--keras", action="store_true", help="build the model with Keras and show its own shapes")
    s.add_argument("--set", action="append", metavar="NAME=VALUE")
    s.add_argument("--diagram", metavar="PATH",
                   help="also draw the layer stack to PATH (.png, .svg or .pdf; needs matplotlib, not TensorFlow); "
                        "with several models and no --model, one file per model, named PATH-MODEL")
    s.set_defaults(func=cmd_summary)

    p = sub.add_parser("predict", help="predict with a saved model, without a .nn file")
    p.add_argument("model", metavar="SAVED_MODEL", help="a .keras or .h5 file")
    p.add_argument("data", metavar="DATA", help="a CSV file (header row, feature columns) or a .npy file")
    p.add_argument("-o", "--output", metavar="OUT", help=".csv or .npy (default: print the first rows)")
    p.add_argument("--keep", action="append", metavar="COLUMN", help="copy an input column into the output CSV")
    p.add_argument("--exclude", action="append", metavar="COLUMN", help="leave a CSV column out of the features")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_predict)


def _add_backend_arguments(r) -> None:
    from .backend import BACKENDS
    from .distributed import DEFAULT_TIMEOUT

    g = r.add_argument_group("backend and processes")
    g.add_argument("--backend", choices=BACKENDS, default=None, help="the Keras backend (default: the file's `backend` setting, else tensorflow)")
    g.add_argument("--num-processes", type=int, default=None, metavar="N", help="train as one of N processes (JAX backend)")
    g.add_argument("--process-id", type=int, default=None, metavar="I", help="this process's number, 0 to N-1; process 0 writes the files")
    g.add_argument("--coordinator", default=None, metavar="HOST:PORT", help="where process 0 listens for the others")
    g.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"how long to wait for a process that does not join or stops answering (default {DEFAULT_TIMEOUT})")


def _group(args):
    """The multi-process group the command line asks for, or None."""
    given = [args.num_processes is not None, args.process_id is not None, args.coordinator is not None]
    if not any(given):
        return None
    if not all(given):
        raise UsageError("--num-processes, --process-id and --coordinator: expected all three for a multi-process run; received "
                         + ", ".join(n for n, g in zip(("--num-processes", "--process-id", "--coordinator"), given) if g) + " only")
    from .distributed import Group

    group = Group(args.num_processes, args.process_id, args.coordinator, args.timeout)
    group.validate()
    return group


def _nn_file(name: str) -> Path:
    """The .nn file a run or a launch reads: a usage error when it is a folder or missing."""
    path = Path(name)
    if not path.is_file():
        raise UsageError(f"cannot read '{name}': expected an existing .nn file; received " + ("a folder" if path.is_dir() else "a path that does not exist"))
    return path


def _sets(items):
    from ..cli import _parse_sets

    return _parse_sets(items)


def cmd_run(args) -> int:
    from .runner import run

    path = _nn_file(args.file)
    progress = "json" if args.log_format == "json" else (None if args.progress == "auto" else args.progress)
    run(path, overrides=_sets(args.set), progress=progress, verbose=args.verbose,
        record_path=Path(args.record) if args.record else None, max_params=args.max_params, resume=args.resume,
        backend=args.backend, group=_group(args))
    return 0


def cmd_launch(args) -> int:
    from .launch import launch

    path = _nn_file(args.file)
    if args.num_processes < 1:
        raise UsageError(f"-n: expected a positive number of processes; received {args.num_processes}")
    run_args = list(args.run_args)
    if run_args[:1] == ["--"]:
        run_args = run_args[1:]
    for forbidden in ("--num-processes", "--process-id", "--coordinator"):
        if any(a == forbidden or a.startswith(forbidden + "=") for a in run_args):
            raise UsageError(f"{forbidden}: expected launch to choose it for each process; received it among the run options")
    return launch(path, args.num_processes, run_args, port=args.port, timeout=args.timeout, plugins=list(args.plugin or []))


def cmd_summary(args) -> int:
    from ..semantics.check import check
    from ..syntax.parser import parse_file

    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"cannot read '{args.file}': expected an existing .nn file")
    checked = check(parse_file(path), overrides=_sets(args.set))
    from .summary import print_summary

    names = [args.model] if args.model else list(checked.models)
    diagram = Path(args.diagram) if args.diagram else None
    if diagram is not None:
        from ..plots import output_format

        try:
            output_format(diagram)
        except NndslError:
            raise UsageError(f"--diagram {args.diagram}: expected a path ending in .png, .svg or .pdf; received '{args.diagram}'") from None
        if str(diagram.parent) and not diagram.parent.is_dir():
            raise UsageError(f"--diagram {args.diagram}: expected a path in an existing folder; received a folder that does not exist ({diagram.parent})")
    for name in names:
        if name not in checked.models:
            from ..errors import closest

            best = closest(name, checked.models)
            raise UsageError(f"--model {name}: expected a model of the file; received '{name}'" + (f"; did you mean '{best}'?" if best else ""))
        km = None
        if args.keras:
            from ..compile.keras import build_model
            from .quiet import prepare

            prepare(False)
            km = build_model(checked, name)
        print_summary(checked, name, out=sys.stdout, keras_model=km)
        if diagram is not None:
            from ..plots import draw_model

            target = diagram if len(names) == 1 else diagram.with_name(f"{diagram.stem}-{name}{diagram.suffix}")
            try:
                draw_model(checked, name, target)
            except OSError as exc:
                raise UsageError(f"cannot write '{target}': {exc.strerror or exc}") from None
            print(f"wrote the layer diagram of model {name} to {target}")
    return 0


def cmd_predict(args) -> int:
    from ..data.table import Dataset
    from .quiet import prepare

    model_path = Path(args.model)
    if not model_path.is_file():
        raise UsageError(f"cannot read '{args.model}': expected a saved .keras or .h5 model file")
    data_path = Path(args.data)
    if not data_path.is_file():
        raise UsageError(f"cannot read '{args.data}': expected a CSV or .npy file")
    prepare(args.verbose)
    import keras
    import numpy as np

    from ..errors import RunError

    try:
        model = keras.models.load_model(model_path, safe_mode=True)
    except Exception as exc:
        raise RunError(f"{args.model}: expected a Keras model file; received a file Keras cannot load ({type(exc).__name__})") from None
    from .modelmeta import read as read_meta

    meta = read_meta(model_path)
    vocab = meta.get("categorical") or {}
    if data_path.suffix.lower() == ".npy":
        from ..data.arrays import load_npy

        ds: Dataset = load_npy({"path": str(data_path)}, name="data", base=Path.cwd())
    else:
        from ..data.csv import load

        ds = load({"path": str(data_path), "exclude": args.exclude, "id": None, "categorical": list(vocab) or None},
                  name="data", base=Path.cwd())
    if vocab:
        from ..data.table import data_error
        from .encode import encode

        ds = encode(ds, vocab, lambda m, where, hint: data_error(m, where=where, hint=hint))
    want = tuple(model.input_shape[1:])
    if tuple(ds.x.shape[1:]) != want:
        raise RunError(f"{args.data}: expected rows of shape {want} for the model; received {tuple(ds.x.shape[1:])}"
                       + (f" (columns: {', '.join(ds.feature_names)})" if ds.feature_names else ""))
    from .steps import predict_array

    preds = np.asarray(predict_array(model, ds.x))
    flat = preds.reshape(len(preds), -1)
    targets = meta.get("target_names") or []
    if len(targets) == flat.shape[1]:
        names = list(targets)
    else:
        names = ["prediction"] if flat.shape[1] == 1 else [f"prediction_{i}" for i in range(flat.shape[1])]
    keep = list(args.keep or [])
    for c in keep:
        if c not in ds.all_columns():
            raise UsageError(f"--keep {c}: expected a column of {args.data}; received '{c}'")
    from .files import atomic_path
    from .steps import _write_csv

    if args.output:
        out = Path(args.output)
        if out.suffix.lower() == ".npy":
            with atomic_path(out) as tmp:
                with open(tmp, "wb") as fh:
                    np.save(fh, preds)
        else:
            with atomic_path(out) as tmp:
                _write_csv(tmp, ds, keep, names, flat)
        print(f"wrote {len(flat)} predictions to {args.output}")
    else:
        print(",".join(keep + names))
        for i in range(min(10, len(flat))):
            print(",".join([ds.column_text(c)[i] for c in keep] + [f"{float(v):.6g}" for v in flat[i]]))
    return 0
