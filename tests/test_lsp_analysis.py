"""The language server's analysis, in process: the same diagnostics as ``nndsl check``, and
the same again when an edit lets it keep the findings of unchanged models."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from nndsl.errors import NndslCheckError, NndslSyntaxError
from nndsl.lsp.analysis import Analyser, analyse
from nndsl.lsp.positions import Positions
from nndsl.semantics.check import check
from nndsl.source import Source
from nndsl.syntax.parser import parse

ROOT = Path(__file__).resolve().parent.parent
CASES = sorted((ROOT / "tests" / "cases").glob("*/*.nn")) + sorted((ROOT / "examples").glob("*/*.nn"))


def key(diagnostics) -> list:
    return [(d.code, d.message, d.span, d.notes, d.hint, d.severity) for d in diagnostics]


def checked(text: str) -> list:
    """The diagnostics ``nndsl check`` reports for ``text``, in source order."""
    try:
        return key(check(parse(text, filename="case.nn")).warnings)
    except (NndslCheckError, NndslSyntaxError) as exc:
        return key(sorted(exc.diagnostics, key=lambda d: d.span.start if d.span else -1))


def edits(text: str):
    """Edits as typing makes them: lines added above everything, a model changed, a model moved."""
    yield "# a comment\n\n" + text
    yield text.replace("Dense(", "Dense(  ", 1)
    yield text.replace("Dense(", "Densx(", 1)
    yield text + "\nlet late = 3\n"
    lines = text.splitlines(keepends=True)
    yield "".join(lines[len(lines) // 2 :] + lines[: len(lines) // 2])


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_analysis_reports_what_check_reports(path: Path):
    text = path.read_text(encoding="utf-8")
    assert key(analyse(text, "case.nn").diagnostics) == checked(text)


WITH_MODELS = [p for p in CASES if "\nmodel " in "\n" + p.read_text(encoding="utf-8")]


@pytest.mark.parametrize("path", WITH_MODELS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_kept_findings_are_those_of_a_fresh_analysis(path: Path):
    text = path.read_text(encoding="utf-8")
    analyser = Analyser("case.nn")
    fresh = key(analyse(text, "case.nn").diagnostics)
    assert key(analyser.update(text).diagnostics) == fresh
    for edited in edits(text):
        assert key(analyser.update(edited).diagnostics) == key(analyse(edited, "case.nn").diagnostics)
    assert key(analyser.update(text).diagnostics) == fresh


def test_the_analyser_knows_every_pass_of_the_checker():
    from nndsl.lsp import analysis

    assert analysis._SPLIT_COVERS_ALL, (
        "a check pass was added or removed: place it in one of _FILE_PASSES, _MODEL_PASSES or _STEP_PASSES "
        "of nndsl/lsp/analysis.py (until then the language server checks every model on every change)")


def test_an_edit_rechecks_only_the_model_it_touches():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from parse_bench import generate

    text = generate(1_000)
    analyser = Analyser("big.nn")
    analyser.update(text)
    models = text.count("\nmodel ")
    middle = text.index("    Dense(", len(text) // 2) + 4
    edited = text[:middle] + "Densx" + text[middle + 5 :]
    found = analyser.update(edited)
    assert analyser.reused == models - 1
    assert [d.code for d in found.diagnostics if d.code == "unknown-name"] == ["unknown-name"]
    assert key(found.diagnostics) == key(analyse(edited, "big.nn").diagnostics)


@pytest.mark.parametrize("text, offset, expected", [
    ("let s = 1\n", 4, (0, 4)),
    ('let s = "\u00e9" + x\n', 15, (0, 15)),  # é: one UTF-16 unit
    ('let s = "\U0001F600" + x\n', 15, (0, 16)),  # an emoji: two UTF-16 units
    ('a\n"\U0001F600\U0001F600"\n', 5, (1, 5)),
])
def test_positions_count_utf16_units(text: str, offset: int, expected: tuple):
    positions = Positions(Source("t.nn", text))
    assert positions.position(offset) == expected
    assert positions.offset(*expected) == offset


def test_positions_in_other_encodings():
    text = 'x = "\u00e9\U0001F600" + y\n'
    offset = text.index("+")
    assert Positions(Source("t", text), "utf-8").position(offset) == (0, offset + 1 + 3)
    assert Positions(Source("t", text), "utf-32").position(offset) == (0, offset)
    # a position inside a character counts as before it
    assert Positions(Source("t", text)).offset(0, 7) == text.index("\U0001F600")


def test_hover_documentation_is_the_catalogue_description():
    from nndsl.lsp.lookup import documentation, spec_of

    doc = documentation("layers", spec_of("layers", "Dense"))
    assert doc.startswith("Just your regular densely-connected NN layer.\n\n`Dense` implements the operation")
    assert "Args" not in doc
    # a name without a description falls back to its one-line summary
    assert documentation("steps", spec_of("steps", "train")) == spec_of("steps", "train").doc


def test_catalogue_description_stops_at_the_first_section():
    from nndsl.tools.gen_catalogue import _description

    doc = '''Summary line.

    A longer
    explanation.

    Formula:

    ```
    y = x
    ```

    Args:
        x: a value.
    '''
    assert _description(doc) == "Summary line.\n\nA longer explanation."
    assert _description("One sentence only.") == "One sentence only."
    assert _description(None) == ""


def test_hover_finds_the_shapes_of_a_model_kept_from_an_earlier_version():
    from nndsl.lsp.hover import hover

    text = "model m {\n    Input(shape=(3,))\n    Dense(5)\n    loss mse\n}\nmodel n {\n    Input(shape=(2,))\n    Dense(4)\n}\n"
    analyser = Analyser("t.nn")
    analyser.update(text)
    moved = "# two lines\n# above\n" + text
    found = analyser.update(moved)
    assert analyser.reused == 2 and found.model_shift == {"m": 20, "n": 20}
    shown, span = hover(found, moved.index("Dense(4)") + 1)
    assert "in model `n`: output shape `(None, 4)`, 12 parameters" in shown
    assert span.line == 10
