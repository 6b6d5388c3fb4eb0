"""``nndsl report RUN -o report.html``: one run as a single self-contained HTML page.

The page holds the program as run (highlighted), a summary (when, how it ended, ``--set``
values, data, versions), the training curves (drawn now from the record), the evaluation
pictures the run drew (copied into its folder in the history) and every metric. Pictures are
inlined as ``data:`` URIs and the style sheet is in the page: it can be mailed or attached to an
issue as one file, and opens without a network.
"""

from __future__ import annotations

import base64
import html
import tempfile
from pathlib import Path

from ..run.history import PLOTS, Run, duration_text, sets_text, when_text
from ..version import __version__

IMAGE_TYPES = {".png": "image/png", ".svg": "image/svg+xml"}

STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }
header { background: #24292f; color: #fff; padding: 18px 32px; }
header h1 { margin: 0 0 4px 0; font-size: 22px; }
header p { margin: 0; color: #d0d7de; }
main { max-width: 1180px; margin: 0 auto; padding: 16px 32px 48px 32px; }
section { background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 12px 20px; margin: 16px 0; }
h2 { font-size: 17px; border-bottom: 1px solid #eaeef2; padding-bottom: 6px; }
table { border-collapse: collapse; font-size: 14px; }
td, th { padding: 4px 12px; border-bottom: 1px solid #eaeef2; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.status-finished { color: #1a7f37; font-weight: bold; }
.status-failed { color: #cf222e; font-weight: bold; }
.status-interrupted { color: #9a6700; font-weight: bold; }
figure { display: inline-block; margin: 8px; vertical-align: top; max-width: calc(100% - 16px); }
figure.half { width: calc(50% - 20px); }
figure img { max-width: 100%; border: 1px solid #eaeef2; }
.note { color: #57606a; }
figcaption { font-size: 13px; color: #57606a; text-align: center; }
.program { font-size: 13px; overflow-x: auto; }
footer { color: #57606a; font-size: 12px; text-align: center; }
"""


def render(run: Run) -> str:
    """The HTML page of ``run``, self-contained (no external file, script or font)."""
    rec = run.record
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>nndsl run {e(run.id)}</title><style>{STYLE}</style></head><body>",
        f"<header><h1>run {e(run.id)}</h1><p>{e(str(rec.get('file', '')))} · "
        f"<span class=\"status-{e(run.status)}\">{e(run.status)}</span> · {e(when_text(rec.get('started', '')))} UTC</p></header>",
        "<main>",
        _summary(run),
        _metrics(run),
        _evaluation(run),
        _curves(run),
        _pictures(run),
        _program(run),
        "</main>",
        f"<footer>written by nndsl {e(__version__)}</footer>",
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p)


def _row(cells, numeric=()) -> str:
    tds = (("<td class=\"n\">" if i in numeric else "<td>") + html.escape(str(c)) + "</td>" for i, c in enumerate(cells))
    return "<tr>" + "".join(tds) + "</tr>"


def _summary(run: Run) -> str:
    rec = run.record
    rows = [("status", run.status), ("started (UTC)", when_text(rec.get("started", ""))), ("duration", duration_text(run.seconds)),
            ("--set", sets_text(run.overrides)), ("seed", rec.get("seed")), ("backend", rec.get("backend", "?"))]
    for name, d in (rec.get("data") or {}).items():
        rows.append((f"data {name}", f"{d.get('path') or d.get('source')} ({d.get('rows')} rows, {d.get('fingerprint')})"))
    versions = rec.get("versions") or {}
    if versions:
        rows.append(("versions", ", ".join(f"{k} {v}" for k, v in versions.items())))
    for art in rec.get("artefacts") or []:
        if art.get("kind") in ("model", "predictions"):
            rows.append((art["kind"], art["path"] + (" (no longer there)" if art.get("missing") else "")))
    return "<section><h2>Summary</h2><table>" + "".join(_row(r) for r in rows) + "</table></section>"


def _metrics(run: Run) -> str:
    metrics = run.metrics()
    if not metrics:
        return ""
    rows = "".join(_row((k, f"{v:.6g}"), numeric=(1,)) for k, v in metrics.items())
    return f'<section><h2>Metrics</h2><table><tr><th>metric</th><th class="n">value</th></tr>{rows}</table></section>'


def _evaluation(run: Run) -> str:
    evaluations = run.record.get("evaluation") or {}
    if not evaluations:
        return ""
    out = ["<section><h2>Evaluation</h2>"]
    for key, ev in evaluations.items():
        model, _, data = str(key).partition(":")
        out.append(f"<h3>{html.escape(model)} on {html.escape(data)}</h3>")
        if ev.get("kind") == "regression":
            out.append("<table>" + "".join(_row((k.upper() if k != "r2" else "R²", f"{ev[k]:.6g}"), numeric=(1,))
                                           for k in ("mae", "rmse", "r2") if k in ev) + "</table>")
            continue
        out.append(f"<p>accuracy {ev.get('accuracy', float('nan')):.4f}</p>")
        out.append('<table><tr><th>class</th><th class="n">precision</th><th class="n">recall</th><th class="n">f1</th>'
                   '<th class="n">support</th></tr>')
        for r in ev.get("per_class") or []:
            cells = (r["class"], f"{r['precision']:.4f}", f"{r['recall']:.4f}", f"{r['f1']:.4f}", r["support"])
            out.append(_row(cells, numeric=(1, 2, 3, 4)))
        out.append("</table>")
    out.append("</section>")
    return "".join(out)


def _curves(run: Run) -> str:
    histories = run.histories
    if not histories:
        return ""
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        return ('<section><h2>Training curves</h2><p class="note">matplotlib is not installed: '
                'pip install "nndsl[plots]" to draw the curves here</p></section>')
    from ..plots import plot_history

    out = ["<section><h2>Training curves</h2>"]
    with tempfile.TemporaryDirectory(prefix="nndsl-report-") as tmp:
        for name, history in histories.items():
            path = plot_history(history, Path(tmp) / f"{name}.png", title=f"model {name}")
            out.append(_figure(path, f"model {name}"))
    out.append("</section>")
    return "".join(out)


def _pictures(run: Run) -> str:
    """The pictures the run drew (evaluation reports, plot steps), from the copies in its folder."""
    figures = []
    for art in run.record.get("artefacts") or []:
        copy = art.get("copy")
        if not copy or art.get("kind") not in ("evaluation", "plot"):
            continue
        path = run.folder / copy
        if path.is_file() and path.suffix.lower() in IMAGE_TYPES and path.parent.name == PLOTS:
            figures.append(_figure(path, Path(art["path"]).name, half=True))
    if not figures:
        return ""
    return "<section><h2>Pictures</h2>" + "".join(figures) + "</section>"


def _figure(path: Path, caption: str, half: bool = False) -> str:
    kind = IMAGE_TYPES[path.suffix.lower()]
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    alt = html.escape(caption)
    opening = '<figure class="half">' if half else "<figure>"
    return f'{opening}<img src="data:{kind};base64,{data}" alt="{alt}"><figcaption>{alt}</figcaption></figure>'


def _program(run: Run) -> str:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter

    from ..highlight import NnLexer

    code = highlight(run.program, NnLexer(), HtmlFormatter(noclasses=True, nowrap=False))
    return f'<section><h2>Program as run</h2><div class="program">{code}</div></section>'
