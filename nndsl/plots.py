"""Pictures: training curves (``plot`` step, ``nndsl plot``), a search's history and parameter importance
(``plot`` after ``tune``), and layer diagrams (``nndsl summary --diagram``).

Drawn with matplotlib's Agg canvas, imported only when a picture is made; nothing here imports
TensorFlow. Every figure is drawn at a fixed resolution (:data:`DPI`), so its size in pixels is
exactly the size asked for, and written atomically.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import RunError, UsageError

DPI = 100  # pixels per inch of every figure: sizes below are in pixels
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}

# Training curves: one panel per metric, up to three panels a row.
PANEL_WIDTH = 480
PANEL_HEIGHT = 340
TITLE_HEIGHT = 44

TRAIN_COLOR = "#1f77b4"
VAL_COLOR = "#ff7f0e"

# Metrics for which a larger value is better; every other one (losses, errors) is minimised.
_HIGHER_IS_BETTER = ("acc", "auc", "precision", "recall", "f1", "fbeta", "iou", "r2", "score",
                     "true_positives", "true_negatives", "correlation", "cosine_similarity")


# ---------------------------------------------------------------- matplotlib


def _matplotlib():
    """matplotlib, or a clear error saying how to get it."""
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
        from matplotlib.figure import Figure  # noqa: F401
    except ImportError:
        raise UsageError("drawing a picture needs matplotlib, which is not installed: "
                         "install nndsl[plots] (pip install 'nndsl[plots]')") from None
    return matplotlib


@contextlib.contextmanager
def _figure(width: int, height: int, layout: str | None = None) -> Iterator[Any]:
    """A figure of exactly ``width`` x ``height`` pixels on an Agg canvas, with matplotlib's
    default style whatever the user's matplotlibrc says (no global state is changed)."""
    _matplotlib()  # or a clear error saying how to get it
    import matplotlib.style
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rc = {"savefig.bbox": "standard", "savefig.transparent": False, "savefig.facecolor": "white",
          "figure.facecolor": "white", "font.family": "sans-serif", "axes.unicode_minus": False}
    with matplotlib.style.context("default"), matplotlib.rc_context(rc):
        # A hair over the wanted size: matplotlib truncates to whole pixels.
        fig = Figure(figsize=((width + 0.01) / DPI, (height + 0.01) / DPI), dpi=DPI, layout=layout)
        FigureCanvasAgg(fig)
        yield fig


def figure(width: int, height: int, layout: str | None = None):
    """A figure of exactly ``width`` x ``height`` pixels (a context manager), for other modules' pictures."""
    return _figure(width, height, layout)


def save_figure(fig, path) -> Path:
    """Write ``fig`` to ``path`` (.png, .svg or .pdf) atomically; returns the path."""
    return _save(fig, path)


def output_format(path) -> str:
    """The file format for ``path`` from its extension: png (the default for none), svg or pdf."""
    suffix = Path(path).suffix.lower()
    if suffix == "":
        return "png"
    if suffix not in FORMATS:
        raise RunError(f"expected a picture path ending in .png, .svg or .pdf; received '{path}'")
    return FORMATS[suffix]


def _save(fig, path) -> Path:
    from .run.files import atomic_path

    target = Path(path)
    fmt = output_format(target)
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format=fmt, dpi=DPI, metadata=_metadata(fmt))
    return target


def _metadata(fmt: str) -> dict:
    from .version import __version__

    if fmt in ("png", "svg", "pdf"):
        return {"Software" if fmt == "png" else "Creator": f"nndsl {__version__}"}
    return {}


# ---------------------------------------------------------------- training curves


def _series(values) -> list[float]:
    out = []
    for v in values:
        try:
            f = float(v)
        except (TypeError, ValueError):
            f = math.nan
        out.append(f if math.isfinite(f) else math.nan)
    return out


def history_metrics(history: Mapping[str, Sequence[float]]) -> list[str]:
    """The metrics of a Keras history, loss first: ``{"loss", "mae", "val_loss", "val_mae"}`` gives
    ``["loss", "mae"]``. A ``val_X`` without its ``X`` is a metric of its own name ``X``."""
    names: list[str] = []
    for key in history:
        base = key[4:] if key.startswith("val_") else key
        if base and base not in names:
            names.append(base)
    names.sort(key=lambda n: 0 if n == "loss" else 1)  # stable: the rest keep Keras's order
    return names


def _usable(history) -> dict[str, list[float]]:
    if not isinstance(history, Mapping):
        raise RunError(f"expected a training history (metric name -> one value per epoch); received {type(history).__name__}")
    out = {}
    for key, values in history.items():
        if isinstance(values, (list, tuple)) and values:
            out[str(key)] = _series(values)
    if not out:
        raise RunError("expected a training history with at least one epoch; received an empty one (was the model trained?)")
    return out


def _chosen(metrics, available: list[str], whose: str) -> list[str]:
    """The metrics to draw: those asked for (``val_x`` naming ``x``, each once), or every one available.

    Raises:
        RunError: a metric ``whose`` history (worded for the message) does not have, with a did-you-mean.
    """
    chosen: list[str] = []
    for m in metrics or available:
        base = str(m)[4:] if str(m).startswith("val_") else str(m)
        if base not in available:
            from .errors import did_you_mean

            guess = did_you_mean(base, available)
            raise RunError(f"expected a metric of {whose} ({', '.join(available)}); received '{m}'"
                           + (f"; {guess}" if guess else ""), param="metrics")
        if base not in chosen:
            chosen.append(base)
    return chosen


def _grid(fig, panels: int, title: str | None) -> list:
    """The axes of ``panels`` panels laid out in rows of :func:`_columns`, under ``title``."""
    fig.get_layout_engine().set(w_pad=12 / DPI, h_pad=10 / DPI, wspace=0.06, hspace=0.08)
    cols = _columns(panels)
    rows = math.ceil(panels / cols)
    if title:
        fig.suptitle(title, fontsize=14, fontweight="bold")
    return [fig.add_subplot(rows, cols, i + 1) for i in range(panels)]


def _size(width, height, panels: int) -> tuple[int, int]:
    """The picture's size in pixels: as asked, else :func:`curves_size` of the number of panels."""
    default_w, default_h = curves_size(panels)
    w, h = int(width or default_w), int(height or default_h)
    if w < 50 or h < 50 or w > 20000 or h > 20000:
        raise RunError(f"expected a picture size between 50 and 20000 pixels; received {w} x {h}", param="width")
    return w, h


def curves_size(panels: int) -> tuple[int, int]:
    """Default (width, height) in pixels of a figure of ``panels`` metric panels."""
    cols = _columns(panels)
    rows = math.ceil(panels / cols)
    return cols * PANEL_WIDTH, rows * PANEL_HEIGHT + TITLE_HEIGHT


def _columns(panels: int) -> int:
    return panels if panels <= 3 else 2 if panels == 4 else 3


def _higher_is_better(metric: str) -> bool:
    m = metric.lower()
    return any(word in m for word in _HIGHER_IS_BETTER) and "loss" not in m and "error" not in m


def _epochs_for(values: list[float], epochs: int) -> list[float]:
    """Epoch numbers for a series. A validation series shorter than the training one (Keras's
    ``validation_freq``) is spread over the epochs it was measured at."""
    n = len(values)
    if n >= epochs or n == 0:
        return list(range(1, n + 1))
    step = epochs / n
    return [round((i + 1) * step) for i in range(n)]


def plot_history(history: Mapping[str, Sequence[float]], path, *, title: str | None = None,
                 metrics: Sequence[str] | None = None, width: int | None = None, height: int | None = None,
                 scaled_loss: bool = False) -> Path:
    """Draw training curves: one panel per metric (loss first), the training curve and, when the
    history has it, the validation (``val_``) curve, each epoch along the x axis.

    Args:
        history: Keras's ``History.history``: metric name -> one value per epoch.
        path: where to write the picture (.png, or .svg / .pdf), atomically.
        title: the figure's title (default: none).
        metrics: the metrics to draw, in this order (default: every one, loss first).
        width, height: size in pixels (default: :func:`curves_size` of the number of panels).
        scaled_loss: the loss is that of a scaled target (``scale_target``): its panel says so.

    Returns:
        The path written.

    Raises:
        RunError: an empty history, or a metric it does not have.
        UsageError: matplotlib is not installed.
    """
    hist = _usable(history)
    chosen = _chosen(metrics, history_metrics(hist), "the training history")
    output_format(path)  # a bad extension fails before anything is drawn
    w, h = _size(width, height, len(chosen))
    epochs = max(len(v) for v in hist.values())
    with _figure(w, h, layout="constrained") as fig:
        for ax, metric in zip(_grid(fig, len(chosen), title), chosen):
            _panel(ax, metric, hist.get(metric), hist.get(f"val_{metric}"), epochs,
                   name="loss (scaled target)" if scaled_loss and metric == "loss" else metric)
        return _save(fig, path)


def _panel(ax, metric: str, train: list[float] | None, val: list[float] | None, epochs: int, name: str | None = None) -> None:
    from matplotlib.ticker import MaxNLocator

    many = epochs > 40
    marker = None if many else "o"
    series = [(train, "training", TRAIN_COLOR, "-"), (val, "validation", VAL_COLOR, "--")]
    plotted = [v for v, *_ in series if v]
    for values, label, color, style in series:
        if not values:
            continue
        xs = _epochs_for(values, epochs)
        last = next((v for v in reversed(values) if not math.isnan(v)), math.nan)
        ax.plot(xs, values, linestyle=style, color=color, linewidth=2, marker=marker, markersize=4,
                label=f"{label} (last {_fmt(last)})")
    # The best epoch of the curve that matters: validation when there is one.
    ref = val if val else train
    if ref and any(not math.isnan(v) for v in ref):
        xs = _epochs_for(ref, epochs)
        pairs = [(v, x) for v, x in zip(ref, xs) if not math.isnan(v)]
        best_v, best_x = (max if _higher_is_better(metric) else min)(pairs, key=lambda p: p[0])
        ax.plot([best_x], [best_v], linestyle="none", marker="*", markersize=13, color="#d62728", zorder=5,
                label=f"best {_fmt(best_v)} (epoch {best_x})")
    values = [v for s in plotted for v in s if not math.isnan(v)]
    log = bool(values) and min(values) > 0 and max(values) / min(values) > 100
    if log:
        ax.set_yscale("log")
    name = name or metric
    ax.set_title(name.replace("_", " "), fontsize=12, fontweight="bold")
    ax.set_xlabel("epoch")
    ax.set_ylabel(name + (" (log scale)" if log else ""))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    pad = max(0.5, epochs * 0.025)
    ax.set_xlim(1 - pad, epochs + pad)
    ax.grid(True, which="major", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(loc="best", fontsize=8.5, framealpha=0.9)


# One colour per run when the curves of several runs share a picture (matplotlib's tab10).
RUN_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def plot_runs(histories: Mapping[str, Mapping[str, Sequence[float]]], path, *, title: str | None = None,
              metrics: Sequence[str] | None = None, width: int | None = None, height: int | None = None) -> Path:
    """Draw the training curves of several runs in one picture: one panel per metric (loss first),
    one colour per run, training solid and validation dashed.

    Args:
        histories: run label -> that run's training history (metric name -> one value per epoch).
        path: where to write the picture (.png, .svg or .pdf), atomically.
        title: the figure's title (default: none).
        metrics: the metrics to draw (default: every metric of any run, loss first).
        width, height: size in pixels (default: :func:`curves_size` of the number of panels).

    Returns:
        The path written.

    Raises:
        RunError: no run with a history, or a metric that no run has.
        UsageError: matplotlib is not installed.
    """
    runs = {str(label): _usable(h) for label, h in histories.items()}
    available: list[str] = []
    for hist in runs.values():
        available += [m for m in history_metrics(hist) if m not in available]
    available.sort(key=lambda n: 0 if n == "loss" else 1)
    chosen = _chosen(metrics, available, "the runs' training histories")
    output_format(path)
    w, h = _size(width, height, len(chosen))
    epochs = max(len(v) for hist in runs.values() for v in hist.values())
    from matplotlib.ticker import MaxNLocator

    with _figure(w, h, layout="constrained") as fig:
        for ax, metric in zip(_grid(fig, len(chosen), title), chosen):
            for j, (label, hist) in enumerate(runs.items()):
                color = RUN_COLORS[j % len(RUN_COLORS)]
                for values, style, part in ((hist.get(metric), "-", ""), (hist.get(f"val_{metric}"), "--", " validation")):
                    if not values:
                        continue
                    last = next((v for v in reversed(values) if not math.isnan(v)), math.nan)
                    ax.plot(_epochs_for(values, len(hist.get(metric) or values)), values, linestyle=style, color=color,
                            linewidth=2, marker=None if epochs > 40 else "o", markersize=3, label=f"{label}{part} ({_fmt(last)})")
            ax.set_title(metric.replace("_", " "), fontsize=12, fontweight="bold")
            ax.set_xlabel("epoch")
            ax.set_ylabel(metric)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(True, which="major", color="#dddddd", linewidth=0.8)
            ax.set_axisbelow(True)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            if ax.lines:
                ax.legend(loc="best", fontsize=8, framealpha=0.9)
        return _save(fig, path)


def _fmt(v: float) -> str:
    if math.isnan(v):
        return "nan"
    return f"{v:.4g}"


# ---------------------------------------------------------------- layer diagram

DIAGRAM_WIDTH = 720
BOX_HEIGHT = 62
BOX_GAP = 34
DIAGRAM_TOP = 84
DIAGRAM_BOTTOM = 58
MAX_BOXES = 61  # longer models show their first and last layers around a "more layers" box

# (match, fill, edge) by layer class name, first match wins
_CATEGORIES = (
    (("Input", "InputLayer"), "#eceff1", "#546e7a"),
    (("LSTM", "GRU", "RNN", "Bidirectional", "TimeDistributed"), "#ffebee", "#e53935"),
    (("Conv", "Separable", "Depthwise"), "#fff3e0", "#ef6c00"),
    (("Pooling",), "#e8f5e9", "#43a047"),
    (("Dropout", "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization"), "#f5f5f5", "#9e9e9e"),
    (("Normalization", "Rescaling", "Discretization", "CenterCrop", "Resizing"), "#f3e5f5", "#8e24aa"),
    (("Embedding",), "#e0f2f1", "#00897b"),
    (("Activation", "ReLU", "Softmax", "ELU", "PReLU"), "#fffde7", "#f9a825"),
    (("Flatten", "Reshape", "Permute", "RepeatVector", "UpSampling", "ZeroPadding", "Cropping"), "#e0f7fa", "#00838f"),
    (("Dense", "Attention"), "#e3f2fd", "#1e88e5"),
)
_OTHER = ("#fafafa", "#757575")


def _colors(layer: str) -> tuple[str, str]:
    for words, fill, edge in _CATEGORIES:
        if any(w in layer for w in words):
            return fill, edge
    return _OTHER


def diagram_size(boxes: int) -> tuple[int, int]:
    """(width, height) in pixels of a layer diagram of ``boxes`` boxes (the input's included)."""
    boxes = min(boxes, MAX_BOXES)
    return DIAGRAM_WIDTH, DIAGRAM_TOP + boxes * BOX_HEIGHT + max(0, boxes - 1) * BOX_GAP + DIAGRAM_BOTTOM


def _source_text(checked, node) -> str:
    source = checked.source
    if source is None or node is None or getattr(node, "span", None) is None:
        return ""
    return " ".join(source.text[node.span.start:node.span.end].split())


def _args_text(layer) -> str:
    from .semantics.evaluate import render_value

    parts = [render_value(a) for a in layer.args] + [f"{k}={render_value(v)}" for k, v in layer.kwargs.items()]
    return ", ".join(parts)


def _clip(text: str, chars: int) -> str:
    chars = max(4, chars)
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"


def diagram_rows(checked, model_name: str) -> list[dict]:
    """What the diagram shows, one dict per box from top to bottom: ``name``, ``args``,
    ``shape``, ``params`` (text), ``group`` (the block use it came from, or None), ``kind``."""
    from .semantics.shapes import format_shape

    model = checked.models[model_name]
    rows: list[dict] = []
    resolved = list(model.resolved)
    if not resolved or resolved[0].name not in ("Input", "InputLayer"):
        first = resolved[0] if resolved else None
        shape = format_shape(first.input_shape) if first is not None and first.input_shape is not None else "unknown"
        rows.append({"name": "input", "args": "", "shape": shape, "params": "", "group": None, "kind": "Input"})
    group_id = 0
    last_key = None
    first_call = None
    for rl in resolved:
        via = rl.layer.via
        key = id(via[0]) if via else None
        if key is None:
            last_key = None
            group = None
        else:
            # The same block use again (a repeat) starts a new group when its first layer comes back.
            if key != last_key or rl.layer.call is first_call:
                group_id += 1
                first_call = rl.layer.call
            last_key = key
            group = (group_id, _source_text(checked, via[0]) or via[0].name)
        kind = "Input" if rl.name in ("Input", "InputLayer") else rl.name
        params = "" if rl.params in (None, 0) else f"{rl.params:,} params"
        if rl.params is None:
            params = "params unknown"
        rows.append({
            "name": rl.name,
            "args": _args_text(rl.layer),
            "shape": format_shape(rl.output_shape) if rl.output_shape is not None else "unknown until built",
            "params": params,
            "group": group,
            "kind": kind,
        })
    if len(rows) > MAX_BOXES:
        head = (MAX_BOXES - 1) // 2
        tail = MAX_BOXES - 1 - head
        hidden = len(rows) - head - tail
        gap = {"name": f"⋮  {hidden:,} more layers", "args": "", "shape": "", "params": "", "group": None, "kind": "more"}
        rows = rows[:head] + [gap] + rows[-tail:]
    return rows


def draw_model(checked, model_name: str, path) -> Path:
    """Draw a model's layer stack as boxes from the input down, with each layer's arguments,
    output shape and parameter count, from static inference (``nndsl.check``; no TensorFlow).

    Args:
        checked: a :class:`~nndsl.semantics.check.CheckedProgram` (from ``nndsl.check``).
        model_name: the model to draw.
        path: where to write the picture (.png, or .svg / .pdf), atomically.

    Returns:
        The path written; its size in pixels is :func:`diagram_size` of the number of boxes.
    """
    _matplotlib()
    from matplotlib.patches import FancyBboxPatch

    if model_name not in checked.models:
        raise RunError(f"expected a model of the program ({', '.join(checked.models) or 'none'}); received '{model_name}'")
    output_format(path)
    model = checked.models[model_name]
    rows = diagram_rows(checked, model_name)
    width, height = diagram_size(len(rows))
    px = 1 / DPI  # one pixel, in inches
    has_groups = any(r["group"] for r in rows)
    left = (64 if has_groups else 28) * px
    right = 28 * px
    box_w = width * px - left - right
    with _figure(width, height) as fig:
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, width * px)
        ax.set_ylim(height * px, 0)
        ax.axis("off")
        total = None if any(rl.params is None for rl in model.resolved) else sum(rl.params for rl in model.resolved)
        count = sum(1 for rl in model.resolved if rl.name not in ("Input", "InputLayer"))
        ax.text(left, 30 * px, f"model {model_name}", fontsize=15, fontweight="bold", va="center", ha="left", color="#212121")
        sub = (f"{count} layer{'s' if count != 1 else ''} · "
               + ("parameters unknown until built" if total is None else f"{total:,} parameters"))
        ax.text(left, 58 * px, sub, fontsize=10, va="center", ha="left", color="#616161")
        tops = [(DIAGRAM_TOP + i * (BOX_HEIGHT + BOX_GAP)) * px for i in range(len(rows))]
        bh = BOX_HEIGHT * px
        for i, (row, top) in enumerate(zip(rows, tops)):
            if row["kind"] == "more":
                ax.add_patch(FancyBboxPatch((left, top), box_w, bh, boxstyle=f"round,pad=0,rounding_size={8 * px}",
                                            facecolor="white", edgecolor="#9e9e9e", linestyle="--", linewidth=1.2))
                ax.text(left + box_w / 2, top + bh / 2, row["name"], fontsize=11, ha="center", va="center", color="#616161")
            else:
                fill, edge = _colors(row["kind"])
                box = ax.add_patch(FancyBboxPatch((left, top), box_w, bh, boxstyle=f"round,pad=0,rounding_size={8 * px}",
                                                  facecolor=fill, edgecolor=edge, linewidth=1.6))
                strip = ax.add_patch(FancyBboxPatch((left, top), 7 * px, bh, boxstyle="square,pad=0", facecolor=edge, edgecolor="none"))
                strip.set_clip_path(box)
                x0 = left + 18 * px
                x1 = left + box_w - 14 * px
                ax.text(x0, top + 21 * px, row["name"], fontsize=11.5, fontweight="bold", ha="left", va="center", color="#212121")
                ax.text(x1, top + 21 * px, row["shape"], fontsize=10.5, family="monospace", ha="right", va="center", color="#212121")
                # the arguments share the second line with the parameter count
                room = box_w / px - 36 - 7.2 * len(row["params"]) - 20
                if row["args"]:
                    ax.text(x0, top + 44 * px, _clip(row["args"], int(room / 6.6)), fontsize=9, ha="left", va="center", color="#424242")
                if row["params"]:
                    ax.text(x1, top + 44 * px, row["params"], fontsize=8.5, ha="right", va="center", color="#757575")
            if i + 1 < len(rows):
                ax.annotate("", xy=(left + box_w / 2, tops[i + 1]), xytext=(left + box_w / 2, top + bh),
                            arrowprops=dict(arrowstyle="-|>", color="#616161", lw=1.4, shrinkA=0, shrinkB=1,
                                            mutation_scale=14))
        _draw_groups(ax, rows, tops, bh, left, px)
        footer = _compile_text(checked, model, chars=int((width - 56) / 7.6))
        for j, line in enumerate(footer):
            ax.text(left, (height - DIAGRAM_BOTTOM + 20 + 17 * j) * px, line, fontsize=9,
                    ha="left", va="center", color="#424242", family="monospace")
        return _save(fig, path)


def _draw_groups(ax, rows, tops, bh, left, px) -> None:
    """A bracket with the block use's text beside the layers each block use put in the model."""
    spans: list[tuple[tuple, int, int]] = []
    for i, row in enumerate(rows):
        g = row["group"]
        if g is None:
            continue
        if spans and spans[-1][0] == g and spans[-1][2] == i - 1:
            spans[-1] = (g, spans[-1][1], i)
        else:
            spans.append((g, i, i))
    for (_gid, label), first, last in spans:
        y0, y1 = tops[first] + 4 * px, tops[last] + bh - 4 * px
        x = left - 22 * px
        ax.plot([x + 8 * px, x, x, x + 8 * px], [y0, y0, y1, y1], color="#5c6bc0", linewidth=1.6, solid_capstyle="round")
        chars = int((y1 - y0) / px / 7.5)
        if chars >= 4:
            ax.text(x - 8 * px, (y0 + y1) / 2, _clip(label, chars), rotation=90, fontsize=9, ha="center", va="center",
                    color="#3949ab", fontstyle="italic")


def _compile_text(checked, model, chars: int) -> list[str]:
    """The model's compile properties as at most two lines of ``chars`` characters."""
    parts = []
    for name in ("loss", "optimizer", "metrics", "scale_features", "scale_target"):
        entry = model.properties.get(name)
        if entry is None:
            continue
        _value, prop = entry
        text = _source_text(checked, getattr(prop, "value", None))
        if text:
            parts.append(f"{name} {text}")
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1]) + 4 + len(part) <= chars:
            lines[-1] += "  ·  " + part
        else:
            lines.append(part)
    if len(lines) > 2:
        lines = [lines[0], "  ·  ".join(lines[1:])]
    return [_clip(line, chars) for line in lines]


# ---------------------------------------------------------------- the plot step


def plot_step(state, step) -> None:
    """``plot MODEL to "curves.png"``: the model's training curves so far in this run."""
    name = step.target
    ms = state.models.get(name)
    span_to = step.node.to.span if step.node.to is not None else step.node.span
    if ms is None or not ms.history:
        loaded = (ms is not None and ms.loaded) or name in state.checked.loaded_models
        how = "loaded from a file, which keeps no training history" if loaded else "that has not been trained"
        raise state.error(f"expected model '{name}' to be trained earlier in this run before 'plot'; received a model {how}",
                          step, code="not-trained", hint=f"add 'train {name} on DATA' before this step")
    try:
        output_format(step.to)
    except RunError as exc:
        raise state.error(str(exc), step, code="bad-output", span=span_to,
                          hint='write to "curves.png" (or .svg, .pdf)') from None
    from .run.steps import output_path

    target = output_path(state, step, step.to)
    kw = step.kwargs
    metrics = kw.get("metrics")
    if isinstance(metrics, str):
        metrics = [metrics]
    try:
        plot_history(ms.history, target, title=kw.get("title") if kw.get("title") is not None else f"model {name}",
                     metrics=metrics, width=kw.get("width"), height=kw.get("height"),
                     scaled_loss=bool(state.record.data["preprocessing"].get(name, {}).get("scaled_loss")))
    except UsageError:
        raise
    except RunError as exc:
        # a picture size names both width= and height=: point at whichever is written first
        option = exc.param
        node = next((k for k in step.node.kwargs if k.name == option or (option == "width" and k.name == "height")), None)
        span = node.span if node is not None else step.node.span
        raise state.error(str(exc), step, code="bad-argument" if node is not None else "run-error", span=span) from None
    except OSError as exc:
        raise state.error(f"expected to write '{step.to}'; received {exc.strerror or exc}", step,
                          code="write-failed", span=span_to) from None
    state.events.line(f"wrote training curves of {name} to {step.to}")
    state.record.add_step(step="plot", model=name, path=step.to)
    search = getattr(state, "tune_studies", {}).get(name)
    if search is not None:
        try:
            written, note = plot_search(search.study, target)
        except OSError as exc:
            raise state.error(f"expected to write the search's pictures beside '{step.to}'; received {exc.strerror or exc}", step,
                              code="write-failed", span=span_to) from None
        for path in written:
            state.events.line(f"wrote the search of {name} to {path.name}")
            state.record.add_step(step="plot", model=name, path=str(path.name))
        if note:
            state.events.line(note)


def search_paths(target) -> tuple[Path, Path]:
    """Where ``plot`` after ``tune`` draws the search, beside the curves: ``X-history.png``, ``X-importance.png``."""
    target = Path(target)
    return (target.with_name(f"{target.stem}-history{target.suffix or '.png'}"),
            target.with_name(f"{target.stem}-importance{target.suffix or '.png'}"))


def plot_search(study, target) -> tuple[list[Path], str | None]:
    """Optuna's matplotlib plots of a study: the optimisation history and the importance of each parameter.

    Returns:
        The pictures written, and a note when the importance could not be drawn (it needs two
        complete trials whose values differ).
    """
    _matplotlib()
    import warnings

    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as optuna_plots

    history_path, importance_path = search_paths(target)
    written, note = [], None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
        ax = optuna_plots.plot_optimization_history(study)
        try:
            _save(ax.figure, history_path)
            written.append(history_path)
        finally:
            plt.close(ax.figure)
        try:
            ax = optuna_plots.plot_param_importances(study)
        except (RuntimeError, ValueError) as exc:
            note = f"note: no parameter importance drawn ({exc})"
        else:
            try:
                _save(ax.figure, importance_path)
                written.append(importance_path)
            finally:
                plt.close(ax.figure)
    return written, note
