"""``nndsl evaluate SAVED DATA [--report DIR]``: measure a saved model on labelled data, without a ``.nn`` file.

Prints the per-class table (precision, recall, F1, support) of a classifier, or MAE, RMSE and R²
of a regression; ``--report DIR`` also draws the evaluation pictures.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import RunError, UsageError


def add_parsers(sub) -> None:
    p = sub.add_parser("evaluate", help="measure a saved model on labelled data: per-class table or MAE/RMSE/R², report pictures")
    p.add_argument("model", metavar="SAVED_MODEL", help="a .keras or .h5 file")
    p.add_argument("data", metavar="DATA", help="a CSV file with the feature columns and the target column(s)")
    p.add_argument("--target", action="append", metavar="COLUMN",
                   help="a target column (repeatable; default: the target the model was trained on)")
    p.add_argument("--exclude", action="append", metavar="COLUMN", help="leave a CSV column out of the features")
    p.add_argument("--report", metavar="DIR", help="draw the evaluation pictures into DIR (needs nndsl[reports])")
    p.add_argument("-v", "--verbose", action="store_true", help="show TensorFlow's own messages")
    p.set_defaults(func=cmd_evaluate)


def cmd_evaluate(args) -> int:
    """Evaluate a saved model on a CSV file; print the table, draw the report."""
    model_path, data_path = Path(args.model), Path(args.data)
    for path, what in ((model_path, "a saved .keras or .h5 model file"), (data_path, "a CSV file")):
        if not path.is_file():
            raise UsageError(f"cannot read '{path}': expected {what}")
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

    from ..data.csv import load
    from ..run.evaluation import BINARY, REGRESSION, class_names_for, evaluate, kind_of, print_table
    from ..run.modelmeta import BadMeta, read_checked
    from ..run.steps import predict_array

    try:
        meta = read_checked(model_path)
    except BadMeta as exc:
        raise RunError(f"{args.model}: {exc.refusal()}; {exc.hint}") from None
    try:
        model = keras.models.load_model(model_path, safe_mode=True)
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
    vocab = [f.name for f in schema.features if f.kind == "categorical"] if schema is not None else []
    ds = load({"path": str(data_path), "target": targets, "exclude": args.exclude, "id": None, "categorical": vocab or None},
              name=data_path.stem, base=Path.cwd())
    if schema is not None:
        from ..data.table import data_error

        def fail(message, row=None, column=None, hint=None):
            where = args.data + (f":row {row + 2}, column '{column}'" if row is not None else f":column '{column}'" if column else "")
            return data_error(message, where=where, hint=hint)

        ds = encode(ds, schema, fail)
    want = tuple(model.input_shape[1:])
    if tuple(ds.x.shape[1:]) != want:
        raise RunError(f"{args.data}: expected rows of shape {want} for the model; received {tuple(ds.x.shape[1:])}"
                       + (f" (columns: {', '.join(ds.feature_names)})" if ds.feature_names else ""))
    preds = np.asarray(predict_array(model, ds.x))
    outputs = int(np.prod(preds.shape[1:])) if preds.ndim > 1 else 1
    loss = getattr(model, "loss", None)
    kind = kind_of(str(getattr(loss, "name", None) or loss or ""), outputs)
    names = class_names_for(2 if kind == BINARY else outputs, ds, targets) if kind != REGRESSION else None
    ev = evaluate(kind, ds.y, preds, model=model_path.stem, data=data_path.name, class_names=names, target_names=targets)
    print_table(ev, sys.stdout)
    if report is not None:
        from ..reports.figures import draw_report

        try:
            written = draw_report(ev, report, prefix=model_path.stem)
        except OSError as exc:
            raise UsageError(f"--report {args.report}: cannot write there: {exc.strerror or exc}") from None
        print(f"wrote {len(written)} pictures to {report}: {', '.join(p.name for p in written)}")
    return 0
