"""The pictures of an evaluation report, as PNG files.

A classifier gets a confusion matrix, ROC and precision-recall curves (one-vs-rest, one curve per
class, when there are more than two classes) and a calibration plot, each labelled with the
class names; a regression gets predicted-versus-actual and residual plots, in the target's units.

The curves are computed with scikit-learn (the ``reports`` extra): its ``roc_curve`` and
``precision_recall_curve`` handle tied scores and drop redundant thresholds, its
``average_precision_score`` is the step-wise area that does not overstate a curve the way the
trapezoidal rule does, and ``calibration_curve`` bins probabilities the standard way. Writing
those by hand would be more code to get subtly wrong. Drawing is matplotlib's, through
:mod:`nndsl.plots`.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

from ..errors import RunError
from ..plots import RUN_COLORS, figure, save_figure
from ..run.evaluation import REGRESSION, Evaluation

INSTALL = 'pip install "nndsl[reports]"'
SIZE = (640, 520)  # pixels of each picture
MAX_CLASSES_SHOWN = 30  # a confusion matrix of more classes is unreadable: the report says so and draws the first ones


class MissingReportLibrary(RunError):
    """scikit-learn or matplotlib, needed for an evaluation report, is not installed."""


def require() -> None:
    """Raise :class:`MissingReportLibrary` unless scikit-learn and matplotlib can be imported."""
    import importlib.util

    missing = [name for mod, name in (("sklearn", "scikit-learn"), ("matplotlib", "matplotlib")) if importlib.util.find_spec(mod) is None]
    if missing:
        raise MissingReportLibrary(f"expected {' and '.join(missing)} to draw an evaluation report; received an environment without "
                                   + ("it" if len(missing) == 1 else "them"))


def draw_report(ev: Evaluation, folder: Path, prefix: str = "") -> list[Path]:
    """Draw every picture of ``ev``'s report into ``folder``; the paths written, in report order.

    Raises:
        MissingReportLibrary: scikit-learn or matplotlib is not installed.
    """
    require()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    name = (prefix + "-") if prefix else ""
    if ev.kind == REGRESSION:
        drawings = (("predicted-vs-actual", _predicted_vs_actual), ("residuals", _residuals))
    else:
        drawings = (("confusion-matrix", _confusion), ("roc", _roc), ("precision-recall", _pr), ("calibration", _calibration))
    written = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's warnings about a class with no positive rows: the plot says so
        for kind, draw in drawings:
            with figure(*SIZE, layout="constrained") as fig:
                ax = fig.add_subplot(1, 1, 1)
                draw(ax, ev)
                _style(ax)
                written.append(save_figure(fig, folder / f"{name}{kind}.png"))
    return written


def _style(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _title(ax, ev: Evaluation, what: str) -> None:
    ax.set_title(f"{what}\nmodel {ev.model} on {ev.data}", fontsize=12, fontweight="bold")


def _classes(ev: Evaluation) -> list[int]:
    """The classes that get a curve: for two classes only the second (the positive one)."""
    n = len(ev.class_names)
    return [1] if n == 2 else list(range(n))


def _confusion(ax, ev: Evaluation) -> None:
    import numpy as np

    from ..run.evaluation import confusion

    n = min(len(ev.class_names), MAX_CLASSES_SHOWN)
    cm = confusion(ev.labels, ev.scores.argmax(axis=1), len(ev.class_names))[:n, :n]
    share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    names = ev.class_names[:n]
    ax.set_xticks(range(n), names, rotation=45 if max(map(len, names)) > 4 else 0, ha="right" if max(map(len, names)) > 4 else "center")
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if n <= 15:
        for i in range(n):
            for j in range(n):
                ax.text(j, i, f"{cm[i, j]}\n{share[i, j]:.0%}", ha="center", va="center", fontsize=9 if n <= 8 else 7,
                        color="white" if share[i, j] > 0.5 else "#222222")
    shown = "" if n == len(ev.class_names) else f" (first {n} of {len(ev.class_names)} classes)"
    _title(ax, ev, f"confusion matrix{shown}")


def _one_vs_rest(ev: Evaluation, k: int):
    """(true 0/1, score) of class ``k`` against the others; None when the class has no positive or no negative row."""
    truth = (ev.labels == k).astype(int)
    if truth.min() == truth.max():
        return None
    return truth, ev.scores[:, k]


def _curves(ev: Evaluation):
    """(color, class name, truth, score) of each class drawn one-vs-rest: those with both outcomes
    among the rows. A class keeps its color whichever others are left out."""
    for i, k in enumerate(_classes(ev)):
        pair = _one_vs_rest(ev, k)
        if pair is not None:
            yield RUN_COLORS[i % len(RUN_COLORS)], ev.class_names[k], *pair


def _unit_square(ax, xlabel: str, ylabel: str, legend: str) -> None:
    """The axes of a curve between 0 and 1 on both sides (ROC, precision-recall, calibration)."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(loc=legend, fontsize=8.5)


def _roc(ax, ev: Evaluation) -> None:
    from sklearn.metrics import auc, roc_curve

    for color, name, truth, score in _curves(ev):
        fpr, tpr, _ = roc_curve(truth, score)
        ax.plot(fpr, tpr, color=color, linewidth=2, label=f"{name} (AUC {auc(fpr, tpr):.3f})")
    ax.plot([0, 1], [0, 1], linestyle=":", color="#888888", label="chance")
    _unit_square(ax, "false positive rate", "true positive rate", "lower right")
    _title(ax, ev, "ROC curve" + (" (one-vs-rest)" if len(ev.class_names) > 2 else ""))


def _pr(ax, ev: Evaluation) -> None:
    from sklearn.metrics import average_precision_score, precision_recall_curve

    for color, name, truth, score in _curves(ev):
        precision, recall, _ = precision_recall_curve(truth, score)
        ap = average_precision_score(truth, score)
        ax.step(recall, precision, where="post", color=color, linewidth=2, label=f"{name} (AP {ap:.3f})")
    _unit_square(ax, "recall", "precision", "lower left")
    _title(ax, ev, "precision-recall curve" + (" (one-vs-rest)" if len(ev.class_names) > 2 else ""))


def _calibration(ax, ev: Evaluation) -> None:
    from sklearn.calibration import calibration_curve

    for color, name, truth, score in _curves(ev):
        observed, predicted = calibration_curve(truth, score.clip(0, 1), n_bins=10, strategy="uniform")
        ax.plot(predicted, observed, marker="o", markersize=4, color=color, linewidth=2, label=str(name))
    ax.plot([0, 1], [0, 1], linestyle=":", color="#888888", label="perfectly calibrated")
    _unit_square(ax, "predicted probability", "observed frequency", "upper left")
    _title(ax, ev, "calibration (reliability diagram)")


def _target(ev: Evaluation) -> str:
    return ev.target_names[0] if ev.target_names else "target"


def _predicted_vs_actual(ax, ev: Evaluation) -> None:
    actual, predicted = ev.actual[:, 0], ev.predicted[:, 0]
    ax.scatter(actual, predicted, s=12, alpha=0.6, color=RUN_COLORS[0], edgecolors="none")
    lo = float(min(actual.min(), predicted.min()))
    hi = float(max(actual.max(), predicted.max()))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    ax.plot([lo, hi], [lo, hi], linestyle=":", color="#888888", label="predicted = actual")
    s = ev.summary
    ax.legend(loc="upper left", fontsize=8.5, title=f"MAE {s['mae']:.4g}  RMSE {s['rmse']:.4g}  R² {s['r2']:.3f}", title_fontsize=9)
    ax.set_xlabel(f"actual {_target(ev)}")
    ax.set_ylabel(f"predicted {_target(ev)}")
    ax.grid(True, color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    _title(ax, ev, "predicted vs actual" + (f" (first of {ev.actual.shape[1]} targets)" if ev.actual.shape[1] > 1 else ""))


def _residuals(ax, ev: Evaluation) -> None:
    actual, predicted = ev.actual[:, 0], ev.predicted[:, 0]
    ax.scatter(predicted, predicted - actual, s=12, alpha=0.6, color=RUN_COLORS[1], edgecolors="none")
    ax.axhline(0, linestyle=":", color="#888888")
    ax.set_xlabel(f"predicted {_target(ev)}")
    ax.set_ylabel("residual (predicted - actual)")
    ax.grid(True, color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    _title(ax, ev, "residuals")
