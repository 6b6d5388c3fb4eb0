"""Golden files: the AST of every valid case and the exact rendered errors of every invalid one.

``tests/cases/valid/NAME.nn`` is parsed and compared with ``NAME.ast.json`` (what
``nndsl parse --json --indent`` prints); ``tests/cases/invalid/NAME.nn`` is checked (language
passes only) and its rendered diagnostics compared with ``NAME.err``. Run pytest with
``--update-goldens`` to rewrite the expected files after an intended change, then review the diff.
"""

from __future__ import annotations

import json
import re

import pytest

import nndsl
from nncases import INVALID, VALID, ids, read_nn, spans_of
from nndsl.source import Source
from nndsl.syntax.json import from_json, to_json


def ast_json_text(path) -> str:
    program = nndsl.parse(read_nn(path), filename=path.name)
    return json.dumps(to_json(program), indent=1, sort_keys=False) + "\n"


def error_text(path) -> str:
    text = read_nn(path)
    with pytest.raises(nndsl.NndslError) as info:
        nndsl.check(text, filename=path.name, keras=False)
    return info.value.render(color=False) + "\n"


def _compare_or_update(expected_path, actual: str, update: bool) -> None:
    if update:
        expected_path.write_bytes(actual.encode("utf-8"))
        return
    assert expected_path.exists(), f"{expected_path.name} is missing: run pytest with --update-goldens"
    assert actual == expected_path.read_bytes().decode("utf-8")


# ---------------------------------------------------------------- valid cases


@pytest.mark.parametrize("path", VALID, ids=ids(VALID))
def test_valid_ast(path, update_goldens):
    _compare_or_update(path.with_suffix(".ast.json"), ast_json_text(path), update_goldens)


@pytest.mark.parametrize("path", VALID, ids=ids(VALID))
def test_valid_cases_pass_the_language_checks(path):
    nndsl.check(read_nn(path), filename=path.name, keras=False)


@pytest.mark.parametrize("path", VALID, ids=ids(VALID))
def test_json_reads_back(path):
    program = nndsl.parse(read_nn(path), filename=path.name)
    data = to_json(program)
    back = from_json(json.loads(json.dumps(data)))
    assert back == program
    assert to_json(back) == data  # spans included


@pytest.mark.parametrize("path", VALID, ids=ids(VALID))
def test_spans_match_the_text(path):
    """Every node's span lies in the text and its line/column agree with its offsets."""
    text = read_nn(path)
    program = nndsl.parse(text, filename=path.name)
    source = Source(path.name, text)
    from nndsl import ast

    for node in ast.walk(program):
        for name in ("span", "name_span", "verb_span"):
            span = getattr(node, name, None)
            if span is None:
                continue
            assert 0 <= span.start <= span.end <= len(text), (node, name)
            assert (span.line, span.column) == source.position(span.start), (node, name)
            assert (span.end_line, span.end_column) == source.position(span.end), (node, name)
    for comment in program.comments:
        assert text[comment.span.start : comment.span.end].rstrip() == comment.text


def test_every_construct_is_covered():
    """The valid cases use every node type, step form and literal kind at least once."""
    from nndsl import ast

    seen = set()
    steps = set()
    for path in VALID:
        program = nndsl.parse(read_nn(path))
        for node in ast.walk(program):
            seen.add(type(node).__name__)
            if isinstance(node, ast.Step):
                steps.update(k for k in ("target", "on", "to", "from_", "kwargs") if getattr(node, k))
        seen.update(type(c).__name__ for c in program.comments)
    every = {cls.__name__ for cls in ast.ALL_NODES}
    assert every <= seen, every - seen
    assert steps == {"target", "on", "to", "from_", "kwargs"}


def test_sales_example_is_canonical():
    path = next(p for p in VALID if p.stem == "sales")
    text = read_nn(path)
    assert nndsl.format(nndsl.parse(text)) == text


def test_bom_is_ignored_by_parse():
    """A byte order mark kept in the text parses like the text without it."""
    path = next(p for p in VALID if p.stem == "bom")
    raw = path.read_bytes().decode("utf-8")
    assert raw.startswith("\ufeff")
    assert nndsl.parse(raw) == nndsl.parse(raw[1:])
    assert nndsl.parse_file(path) == nndsl.parse(raw[1:])


def test_crlf_parses_like_lf():
    path = next(p for p in VALID if p.stem == "crlf")
    raw = read_nn(path)
    assert "\r\n" in raw
    assert nndsl.parse(raw) == nndsl.parse(raw.replace("\r\n", "\n"))


# ---------------------------------------------------------------- invalid cases


@pytest.mark.parametrize("path", INVALID, ids=ids(INVALID))
def test_invalid_error(path, update_goldens):
    _compare_or_update(path.with_suffix(".err"), error_text(path), update_goldens)


_HEADER = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+): error: (?P<message>.*) \[(?P<code>[a-z-]+)\]$")


@pytest.mark.parametrize("path", INVALID, ids=ids(INVALID))
def test_invalid_diagnostics_are_well_formed(path):
    """Each diagnostic says "expected X; received Y", names the file and points inside the text."""
    text = read_nn(path)
    with pytest.raises((nndsl.NndslSyntaxError, nndsl.NndslCheckError)) as info:
        nndsl.check(text, filename=path.name, keras=False)
    err = info.value
    assert err.diagnostics
    for d in err.diagnostics:
        assert re.search(r"\bexpected\b.*; received\b", d.message), d.message
        assert d.span is not None
        for span in spans_of(d):
            assert 0 <= span.start <= span.end <= len(text)
        header = d.render().splitlines()[0]
        m = _HEADER.match(header)
        assert m, header
        assert m["file"] == path.name
        assert (int(m["line"]), int(m["col"])) == (d.span.line, d.span.column)
        assert (d.span.line, d.span.column) == Source(path.name, text).position(d.span.start)


def test_golden_files_have_cases():
    """Every expected file belongs to a case, and there are enough cases."""
    for folder, suffix in ((VALID, ".ast.json"), (INVALID, ".err")):
        stems = {p.stem for p in folder}
        base = folder[0].parent
        for expected in base.glob(f"*{suffix}"):
            assert expected.name[: -len(suffix)] in stems, f"{expected.name} has no .nn case"
    assert len(VALID) >= 15
    assert len(INVALID) >= 25
