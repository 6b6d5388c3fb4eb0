"""What a ``test`` step measures beyond Keras's metrics: a per-class table for a classifier
(precision, recall, F1, support), and MAE, RMSE and R² in raw units for a regression.

The numbers of the table are counts over the confusion matrix, written here with NumPy: plain
arithmetic that needs no library, so every ``test`` on a classifier prints its table without an
optional dependency. The curves of an evaluation report (ROC, precision-recall, calibration) are
computed with scikit-learn in :mod:`nndsl.reports.figures`, where its care (ties between scores,
step-wise interpolation of precision, average precision) is worth the dependency.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

BINARY, MULTICLASS, REGRESSION = "binary", "multiclass", "regression"


@dataclass
class Evaluation:
    """A model's predictions on a data set with their true values, and the numbers drawn from them.

    For a classifier, ``scores`` holds the predicted probability of each class (rows x classes;
    a binary model's single output becomes two columns) and ``labels`` the true class indices.
    For a regression, ``predicted`` and ``actual`` hold raw values (rows x targets).
    """

    kind: str
    model: str
    data: str
    class_names: list[str] = field(default_factory=list)
    labels: Any = None
    scores: Any = None
    predicted: Any = None
    actual: Any = None
    target_names: list[str] = field(default_factory=list)
    table: list[dict] = field(default_factory=list)
    summary: dict[str, float] = field(default_factory=dict)

    def record(self) -> dict:
        """The numbers, for the run record."""
        return {"kind": self.kind, "classes": self.class_names, "per_class": self.table, **self.summary}


def kind_of(loss_name: str, outputs: int) -> str:
    """binary, multiclass or regression, from the loss and the number of outputs."""
    loss = (loss_name or "").lower()
    if "binary" in loss and outputs == 1:
        return BINARY
    if "categorical" in loss and outputs > 1:
        return MULTICLASS
    return REGRESSION


def class_names_for(classes: int, ds, target_names) -> list[str]:
    """The classes' names from the data: a folder source's class folders, one-hot target columns,
    else the class indices."""
    names = list(getattr(ds, "class_names", None) or [])
    if len(names) == classes:
        return [str(n) for n in names]
    if len(target_names) == classes and classes > 1:
        return [str(n) for n in target_names]
    return [str(i) for i in range(classes)]


def evaluate(kind: str, y, preds, *, model: str, data: str, class_names=None, target_names=()) -> Evaluation:
    """The evaluation of predictions ``preds`` against true values ``y`` (both raw: targets in their units).

    Args:
        kind: :data:`BINARY`, :data:`MULTICLASS` or :data:`REGRESSION` (see :func:`kind_of`).
        y: the true targets: class indices (rows or rows x 1), one-hot rows, or values.
        preds: the model's outputs: probabilities (rows x classes, or rows x 1 for binary), or values.
        model, data: names, for titles and the record.
        class_names: a name per class (default: the indices).
        target_names: the regression targets' column names.
    """
    import numpy as np

    y = np.asarray(y)
    preds = np.asarray(preds, dtype="float64").reshape(len(preds), -1)
    ev = Evaluation(kind=kind, model=model, data=data, target_names=[str(t) for t in target_names])
    if kind == REGRESSION:
        actual = y.reshape(len(y), -1).astype("float64")
        ev.predicted, ev.actual = preds, actual
        err = preds - actual
        mae = float(np.mean(np.abs(err)))
        rmse = float(np.sqrt(np.mean(err ** 2)))
        ss_res = np.sum(err ** 2, axis=0)
        ss_tot = np.sum((actual - actual.mean(axis=0)) ** 2, axis=0)
        # R² of each target, averaged (scikit-learn's "uniform_average"); a constant target has none
        r2 = np.where(ss_tot > 0, 1 - ss_res / np.where(ss_tot > 0, ss_tot, 1), np.nan)
        ev.summary = {"mae": mae, "rmse": rmse, "r2": float(np.nanmean(r2)) if np.any(ss_tot > 0) else float("nan")}
        return ev
    if kind == BINARY:
        p = np.clip(preds[:, 0], 0.0, 1.0)
        scores = np.stack([1 - p, p], axis=1)
    else:
        scores = preds
    classes = scores.shape[1]
    labels = y.reshape(len(y), -1)
    labels = labels.argmax(axis=1) if labels.shape[1] > 1 else labels[:, 0]
    labels = np.rint(labels).astype("int64")
    ev.labels, ev.scores = labels, scores
    ev.class_names = list(class_names or [str(i) for i in range(classes)])
    predicted = scores.argmax(axis=1)
    cm = confusion(labels, predicted, classes)
    ev.table = per_class(cm, ev.class_names)
    ev.summary = {"accuracy": float(np.trace(cm) / max(cm.sum(), 1))}
    for avg in ("macro", "weighted"):
        ev.summary.update({f"{k}_{avg}": v for k, v in averaged(ev.table, avg).items()})
    return ev


def confusion(labels, predicted, classes: int):
    """The confusion matrix: rows are the true classes, columns the predicted ones."""
    import numpy as np

    cm = np.zeros((classes, classes), dtype="int64")
    ok = (labels >= 0) & (labels < classes)
    np.add.at(cm, (labels[ok], predicted[ok]), 1)
    return cm


def per_class(cm, names) -> list[dict]:
    """Precision, recall, F1 and support of each class; 0 where a ratio has nothing to divide by
    (scikit-learn's ``zero_division=0``)."""
    rows = []
    for i, name in enumerate(names):
        tp = int(cm[i, i])
        predicted = int(cm[:, i].sum())
        support = int(cm[i, :].sum())
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append({"class": str(name), "precision": precision, "recall": recall, "f1": f1, "support": support})
    return rows


def averaged(table: list[dict], how: str) -> dict[str, float]:
    """The macro (each class alike) or weighted (by support) average of the table's ratios."""
    total = sum(r["support"] for r in table)
    out = {}
    for key in ("precision", "recall", "f1"):
        if how == "macro":
            out[key] = sum(r[key] for r in table) / len(table) if table else 0.0
        else:
            out[key] = sum(r[key] * r["support"] for r in table) / total if total else 0.0
    return out


def print_table(ev: Evaluation, out, console=None) -> None:
    """The per-class table (classifier) or the error summary (regression), rich on a terminal."""
    if ev.kind == REGRESSION:
        line = f"{ev.model} on {ev.data}: MAE {ev.summary['mae']:.6g}  RMSE {ev.summary['rmse']:.6g}  R² {ev.summary['r2']:.4f}"
        if console is not None:
            console.print(line)
        else:
            out.write(line + "\n")
        return
    header = ("class", "precision", "recall", "f1", "support")
    rows = [(r["class"], f"{r['precision']:.4f}", f"{r['recall']:.4f}", f"{r['f1']:.4f}", str(r["support"])) for r in ev.table]
    total = sum(r["support"] for r in ev.table)
    for avg in ("macro", "weighted"):
        a = averaged(ev.table, avg)
        rows.append((f"{avg} avg", f"{a['precision']:.4f}", f"{a['recall']:.4f}", f"{a['f1']:.4f}", str(total)))
    title = f"{ev.model} on {ev.data}: accuracy {ev.summary['accuracy']:.4f}"
    if console is not None:
        from rich.table import Table

        t = Table(title=title)
        for c in header:
            t.add_column(c, justify="left" if c == "class" else "right")
        for row in rows:
            t.add_row(*row)
        console.print(t)
        return
    widths = [max(len(x) for x in col) for col in zip(header, *rows)]
    out.write(title + "\n")
    for row in (header, *rows):
        out.write("  ".join(x.ljust(w) if i == 0 else x.rjust(w) for i, (x, w) in enumerate(zip(row, widths))) + "\n")


STREAM_BATCH = 256  # rows per prediction of a streamed (folder) source


def evaluate_step(state, step, ms, model, ds, predict) -> Evaluation | None:
    """The evaluation of a ``test`` step: predict on the step's data, measure, print, record.

    ``predict(model, x, batch_size)`` predicts on in-memory rows (the runner's own, passed in).
    Streamed (folder) sources are read once, batch by batch, so each prediction meets its label
    whatever order the source yields them in.
    """
    import numpy as np

    alone = contextlib.nullcontext()
    if state.group is not None:
        from .distributed import local_copy

        # every process copies the weights (as the predict step does); process 0 then predicts and
        # measures alone, on its copy, with Keras's distribution of the data set aside meanwhile
        model = local_copy(model)
        if not state.chief:
            return None
        alone = _without_distribution()
    with alone:
        y, preds = _predictions(step, model, ds, predict)
    if preds is None:
        return None
    outputs = int(np.prod(preds.shape[1:])) if preds.ndim > 1 else 1
    loss = ms.checked.compile.get("loss") if ms.checked is not None else getattr(model, "loss", None)
    loss_name = getattr(loss, "name", None) or (loss if isinstance(loss, str) else type(loss).__name__ if loss is not None else "")
    kind = kind_of(str(loss_name), outputs)
    names = class_names_for(2 if kind == BINARY else outputs, ds, ms.target_names) if kind != REGRESSION else None
    ev = evaluate(kind, y, preds, model=ms.name, data=str(step.on), class_names=names, target_names=ms.target_names)
    if state.events.mode in ("rich", "plain"):
        print_table(ev, state.out, state.console)
    state.events.emit("evaluation", model=ms.name, data=str(step.on), **ev.summary)
    state.record.data.setdefault("evaluation", {})[f"{ms.name}:{step.on}"] = ev.record()
    return ev


def _predictions(step, model, ds, predict):
    """(true targets, predictions) on the step's data; (None, None) when it has no targets."""
    import numpy as np

    if ds.tf_dataset is not None:
        ys, ps = [], []
        # as NumPy arrays: the JAX backend's predict_on_batch takes no TensorFlow tensor
        for xb, yb in ds.tf_dataset.batch(step.kwargs.get("batch_size") or STREAM_BATCH).as_numpy_iterator():
            ps.append(np.asarray(model.predict_on_batch(xb)))
            ys.append(np.asarray(yb))
        if not ps:
            return None, None
        return np.concatenate(ys), np.concatenate(ps)
    if ds.y is None or ds.x is None:
        return None, None
    return ds.y, np.asarray(predict(model, ds.x, step.kwargs.get("batch_size")))


@contextlib.contextmanager
def _without_distribution():
    import keras

    current = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    try:
        yield
    finally:
        keras.distribution.set_distribution(current)
