"""``nndsl evaluate SAVED DATA [--report DIR]``: measure a saved model on labelled data, without a ``.nn`` file.

Prints the per-class table (precision, recall, F1, support) of a classifier, or MAE, RMSE and R²
of a regression; ``--report DIR`` also draws the evaluation pictures. A table estimated larger
than the memory budget streams through the model record batch by record batch: only its targets
and the model's predictions are kept, for the same figures as the table read whole.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import RunError, UsageError
from .running import memory_size


def add_parsers(sub) -> None:
    p = sub.add_parser("evaluate", help="measure a saved model on labelled data: per-class table or MAE/RMSE/R², report pictures")
    p.add_argument("model", metavar="SAVED_MODEL", help="a .keras or .h5 file")
    p.add_argument("data", metavar="DATA",
                   help="a CSV, Parquet or JSON lines file (or a folder or glob pattern of part files) with the feature "
                        "columns and the target column(s)")
    p.add_argument("--target", action="append", metavar="COLUMN",
                   help="a target column (repeatable; default: the target the model was trained on)")
    p.add_argument("--exclude", action="append", metavar="COLUMN",
                   help="leave a column of the table out of the features (the columns the model was not trained on "
                        "are left out already)")
    p.add_argument("--memory-budget", type=memory_size, default=None, metavar="SIZE",
                   help="a table estimated larger than SIZE (512MB, 2GiB) streams through the model in record batches "
                        "(default: a quarter of this machine's memory)")
    p.add_argument("--report", metavar="DIR", help="draw the evaluation pictures into DIR (needs nndsl[reports])")
    p.add_argument("-v", "--verbose", action="store_true", help="show TensorFlow's own messages")
    p.set_defaults(func=cmd_evaluate)


def cmd_evaluate(args) -> int:
    """Evaluate a saved model on a table; print the table of figures, draw the report."""
    from . import tables

    model_path, data_path = Path(args.model), Path(args.data)
    if not model_path.is_file():
        raise UsageError(f"cannot read '{model_path}': expected a saved .keras or .h5 model file")
    fmt = tables.table_format(data_path) if data_path.exists() or tables.is_pattern(args.data) else None
    if fmt is None:
        raise UsageError(f"cannot read '{data_path}': expected a CSV, Parquet or JSON lines file, or a folder or pattern of part files")
    report = Path(args.report) if args.report else None
    if report is not None:
        from ..reports.figures import INSTALL, MissingReportLibrary, require

        if report.exists() and not report.is_dir():
            raise UsageError(f"--report {args.report}: expected a folder; received a file")
        try:
            require()
        except MissingReportLibrary as exc:
            raise UsageError(f"--report: {exc}; install it: {INSTALL}") from None
    from ..run.quiet import prepare

    prepare(args.verbose)
    import keras
    import numpy as np

    from ..run.evaluation import BINARY, REGRESSION, class_names_for, evaluate, kind_of, print_table
    from ..run.modelmeta import BadMeta, read_checked
    from ..run.quiet import load_without_tensorflow
    from ..run.steps import predict_array

    try:
        meta = read_checked(model_path)
    except BadMeta as exc:
        raise RunError(f"{args.model}: {exc.refusal()}; {exc.hint}") from None
    try:
        model = load_without_tensorflow(lambda: keras.models.load_model(model_path, safe_mode=True))
    except Exception as exc:  # Keras raises many types for a bad file; all mean "not a loadable model"
        raise RunError(f"{args.model}: expected a Keras model file; received a file Keras cannot load ({type(exc).__name__})") from None
    from ..data.schema import encode, from_meta
    from ..run.tablemodel import core_of

    schema = from_meta(meta)
    if schema is not None:
        model = core_of(model)  # nndsl encodes the table's rows itself, with located errors
    targets = list(args.target or meta.get("target_names") or [])
    if not targets:
        raise UsageError("--target: expected the target column, which the model does not record; received none")
    # the features picked by name as predict picks them: a table may hold ids and other columns, in any order
    columns = tables.model_columns(str(data_path), fmt, meta, args.exclude, args.data, targets=targets)
    ds = tables.load_table(str(data_path), fmt, columns, name=data_path.stem, memory_budget=args.memory_budget)
    want = tuple(model.input_shape[1:])
    if ds.streamed:
        ds, y, preds = _streamed(model, schema, ds, want, args.data)
    else:
        if schema is not None:
            ds = encode(ds, schema, tables.row_failure(args.data, fmt, ds))
        _check_shape(ds.x, want, ds, args.data)
        y, preds = ds.y, np.asarray(predict_array(model, ds.x))
    outputs = int(np.prod(preds.shape[1:])) if preds.ndim > 1 else 1
    loss = getattr(model, "loss", None)
    kind = kind_of(str(getattr(loss, "name", None) or loss or ""), outputs)
    names = class_names_for(2 if kind == BINARY else outputs, ds, targets) if kind != REGRESSION else None
    ev = evaluate(kind, y, preds, model=model_path.stem, data=data_path.name, class_names=names, target_names=targets)
    print_table(ev, sys.stdout)
    if report is not None:
        from ..reports.figures import draw_report

        try:
            written = draw_report(ev, report, prefix=model_path.stem)
        except OSError as exc:
            raise UsageError(f"--report {args.report}: cannot write there: {exc.strerror or exc}") from None
        print(f"wrote {len(written)} pictures to {report}: {', '.join(p.name for p in written)}")
    return 0


def _check_shape(x, want: tuple, ds, shown: str) -> None:
    if tuple(x.shape[1:]) != want:
        raise RunError(f"{shown}: expected rows of shape {want} for the model; received {tuple(x.shape[1:])}"
                       + (f" (columns: {', '.join(ds.feature_names)})" if ds.feature_names else ""))


def _streamed(model, schema, ds, want: tuple, shown: str):
    """``(ds, targets, predictions)`` of a table streamed in record batches: each batch encoded
    with the model's schema (a bad cell located in its file) and predicted in turn, in the
    table's order, in batches of the prediction size; the targets and predictions kept, the rows not."""
    from dataclasses import replace

    import numpy as np

    from ..data.stream import batches
    from ..run.defaults import PREDICT_BATCH

    table = ds.stream
    if schema is not None:
        chunks = ((x, y) for x, y, _ in table.encoded_with(schema).arrays())
        ds = replace(ds, class_names=list(schema.classes) or ds.class_names)  # as encode names them
    else:
        chunks = ((raw.x, raw.y) for raw, _ in table.datasets() if raw.rows)
    ys, ps = [], []
    for x, y in batches(chunks, batch_size=PREDICT_BATCH):
        _check_shape(x, want, ds, shown)
        if y is None:
            raise RunError(f"{shown}: expected the target column(s) {', '.join(ds.target_names)} as numbers or class labels; "
                           "received none")
        ys.append(y)
        ps.append(np.asarray(model.predict_on_batch(x)))
    return ds, np.concatenate(ys), np.concatenate(ps)
