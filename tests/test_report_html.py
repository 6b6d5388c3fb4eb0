"""`nndsl report RUN -o report.html`: one self-contained page, checked as text and in a real browser.

The browser test drives the operating system's Chromium (``apt-get install chromium``) through
Playwright; it is marked ``browser`` and skipped, with the reason, where either is missing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nndsl.cli import main
from nndsl.run.record import RunRecord

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

PROGRAM = 'seed 1\nlet epochs = 3\ndata d = csv("d.csv", target="y")\n'


def _run(folder: Path) -> Path:
    """A kept run with a training history, test metrics, an evaluation and a picture drawn by a plot step."""
    pytest.importorskip("matplotlib")
    from nndsl import plots

    nn = folder / "prog.nn"
    nn.write_text(PROGRAM, encoding="utf-8")
    plots.plot_history({"loss": [1.0, 0.5, 0.25]}, folder / "curves.png", title="model m")
    record = RunRecord(PROGRAM, str(nn), 1, {"epochs": "3"})
    record.data["history"] = {"m": {"loss": [1.0, 0.5, 0.25], "accuracy": [0.5, 0.7, 0.8]}}
    record.data["metrics"] = {"m:test": {"loss": 0.3, "accuracy": 0.75}}
    record.data["evaluation"] = {"m:test": {
        "kind": "multiclass", "classes": ["cat", "dog"], "accuracy": 0.75,
        "per_class": [{"class": "cat <b>", "precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2},
                      {"class": "dog", "precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 2}]}}
    record.add_step(step="plot", model="m", path="curves.png")
    record.finish("finished")
    return record.keep(nn)


def test_the_page_is_self_contained(tmp_path, capsys):
    folder = _run(tmp_path)
    out = tmp_path / "report.html"
    assert main(["report", str(folder), "-o", str(out)]) == 0
    assert f"wrote the report of run prog-1 to {out}" in capsys.readouterr().out
    page = out.read_text(encoding="utf-8")
    # every picture inline: the training curves drawn for the page, and the run's own plot
    assert len(re.findall(r'<img src="data:image/png;base64,', page)) == 2
    assert not re.search(r'(src|href)="(?!data:)', page), "a reference to another file"
    assert "<script" not in page and "<link" not in page
    for text in ("run prog-1", "epochs=3", "test m on test: accuracy", "0.75", "Program as run", "cat &lt;b&gt;", "finished"):
        assert text in page, text


def test_default_output_is_in_the_run_folder(tmp_path, monkeypatch):
    folder = _run(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["report", "prog-1"]) == 0
    assert (folder / "report.html").is_file()


@pytest.mark.parametrize("argv, words", [
    (["report", "prog-9"], "expected the ID of a run"),
    (["report", "prog-1", "-o", "page.txt"], "expected a path ending in .html"),
    (["report", "prog-1", "-o", "missing/page.html"], "expected a path in an existing folder"),
])
def test_report_usage_errors(tmp_path, monkeypatch, capsys, argv, words):
    _run(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert words in capsys.readouterr().err


def _browser():
    if not CHROMIUM.is_file():
        pytest.skip(f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("needs Playwright for Python: pip install 'nndsl[test]'")
    return sync_playwright


@pytest.mark.browser
def test_the_page_in_a_browser(tmp_path):
    sync_playwright = _browser()
    folder = _run(tmp_path)
    out = tmp_path / "report.html"
    assert main(["report", str(folder), "-o", str(out)]) == 0
    errors, requests = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(out.as_uri(), wait_until="load")
            images = page.evaluate("() => Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight, i.alt])")
            title = page.title()
            headings = page.eval_on_selector_all("h2", "els => els.map(e => e.textContent)")
        finally:
            browser.close()
    assert errors == []
    assert len(images) == 2
    for complete, width, height, alt in images:
        assert complete and width > 0 and height > 0, alt
    assert title == "nndsl run prog-1"
    assert headings == ["Summary", "Metrics", "Evaluation", "Training curves", "Pictures", "Program as run"]
    # nothing but the page itself (its pictures are data: URIs)
    assert [u for u in requests if not u.startswith("data:")] == [out.as_uri()]
