"""Extreme inputs get a diagnostic, never a crash: deep nesting, long chains, huge numbers, overflow."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import nndsl
from nndsl.syntax.builder import MAX_BRACKETS, MAX_NESTING
from nndsl.syntax.json import to_json


def _repeats(n: int) -> str:
    """A model with ``n`` nested repeats, indented as the formatter writes it."""
    lines = ["model m {"]
    lines += ["    " * (i + 1) + "repeat 1 {" for i in range(n)]
    lines.append("    " * (n + 1) + "Dense(1)")
    lines += ["    " * i + "}" for i in range(n, -1, -1)]
    return "\n".join(lines) + "\n"


def _all_stages(text: str):
    """Parse, check, format and JSON: each either works or raises nndsl's own error."""
    program = nndsl.parse(text)
    nndsl.format(program)
    json.dumps(to_json(program))
    nndsl.check(program, keras=False)


def _error(text: str) -> nndsl.NndslError:
    with pytest.raises(nndsl.NndslError) as info:
        _all_stages(text)
    return info.value


DEEP = {
    "lists": "let a = " + "[" * 3000 + "]" * 3000,
    "parentheses": "let a = " + "(" * 3000 + "1" + ")" * 3000,
    "calls": "let a = " + "f(" * 2000 + ")" * 2000,
    "dicts": "let a = " + "{1: " * 2000 + "1" + "}" * 2000,
    "unary minus": "let a = " + "- " * 3000 + "x",
    "long sum": "let a = " + " + ".join(["1"] * 5000),
    "long product": "let a = " + " * ".join(["2"] * 5000),
    "repeats": _repeats(500),
    "lists under sums": "let a = " + "[" * 30 + "x" + "]+1+1+1+1+1+1+1+1+1+1" * 30,
    "sums under parentheses": "let a = " + "(" * 31 + "x" + " + 1) * 2 - 1" * 31,
}


@pytest.mark.parametrize("text", DEEP.values(), ids=DEEP.keys())
def test_deep_nesting_is_refused_at_parse(text):
    with pytest.raises(nndsl.NndslSyntaxError) as info:
        nndsl.parse(text)
    (d,) = info.value.diagnostics
    assert d.code == "too-deep"
    assert 0 <= d.span.start <= d.span.end <= len(text)
    assert "expected" in d.message and "received" in d.message


ALLOWED = {
    "brackets at the limit": "let a = " + "[" * (MAX_BRACKETS - 0) + "]" * MAX_BRACKETS,
    "sum at the limit": "let a = " + " + ".join(["1"] * MAX_NESTING),
    "brackets and sums at their limits": "let a = " + "[" * (MAX_BRACKETS - 1) + " + ".join(["1"] * MAX_NESTING) + "]" * (MAX_BRACKETS - 1),
    "repeats at the limit": _repeats(MAX_BRACKETS - 2),  # the model body and Dense( are brackets too
}


@pytest.mark.parametrize("text", ALLOWED.values(), ids=ALLOWED.keys())
def test_nesting_up_to_the_limits_works_in_every_stage(text):
    _all_stages(text)


def test_long_block_chains_are_refused_once():
    n = 200
    text = "".join(f"block b{i}() {{\n    b{i + 1}()\n}}\n" for i in range(n))
    text += f"block b{n}() {{\n    Dense(1)\n}}\nmodel m {{\n    Input(shape=(3,))\n    b0()\n}}\n"
    err = _error(text)
    assert [d.code for d in err.diagnostics] == ["too-deep"]


def test_a_block_chain_within_the_limit_is_fine():
    n = 20
    text = "".join(f"block b{i}() {{\n    b{i + 1}()\n}}\n" for i in range(n))
    text += f"block b{n}() {{\n    Dense(1)\n}}\nmodel m {{\n    Input(shape=(3,))\n    b0()\n}}\n"
    checked = nndsl.check(text, keras=False)
    assert len(checked.models["m"].layers) == 2


def test_an_integer_too_long_for_python_is_a_syntax_error():
    err = _error("let a = " + "9" * 5000 + "\n")
    assert isinstance(err, nndsl.NndslSyntaxError)
    assert err.diagnostics[0].code == "number-too-long"
    assert err.diagnostics[0].message.endswith("received one of 5000 digits")


@pytest.mark.parametrize(
    "text",
    [
        "let a = " + "9" * 400 + " / 3\n",  # int / int beyond a float
        "let a = " + "9" * 400 + " * 1.5\n",  # int to float
        "let a = 1.5 // " + "9" * 400 + "\n",
    ],
    ids=["true division", "mixed product", "floor division"],
)
def test_float_overflow_is_a_diagnostic(text):
    err = _error(text)
    assert [d.code for d in err.diagnostics] == ["overflow"]
    assert "overflow" in err.diagnostics[0].message


def test_integers_too_long_to_print_are_refused():
    text = "let a = " + "9" * 3000 + "\nlet b = a * a\nlet c = -b\n"
    err = _error(text)
    assert [d.code for d in err.diagnostics] == ["overflow"]
    assert err.diagnostics[0].span.line == 2
    err.render()


def test_float_literals_too_large_for_a_float_are_errors():
    # infinity has no JSON form and no use in a model: refuse it where it is written
    with pytest.raises(nndsl.NndslSyntaxError) as e:
        nndsl.parse("let a = 1e999\n", filename="t.nn")
    assert "t.nn:1:9: error: expected a finite number; received 1e999" in e.value.render()


# ---------------------------------------------------------------- long string literals

_PEAK_OF_A_PARSE = """\
import resource, sys
import nndsl
nndsl.parse('let s = "warm"\\n')
text = 'let s = "' + sys.stdin.read() + '"\\n'
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
program = nndsl.parse(text)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
factor = 1024 if sys.platform != "darwin" else 1  # ru_maxrss is in KiB on Linux, bytes on macOS
print((after - before) * factor / len(text), len(program.statements[0].value.value))
"""


@pytest.mark.parametrize(("body", "value_length"), [
    ("a" * 4_000_000, 4_000_000),
    ("ab\\n\\u00e9\\\\" * 333_334, 5 * 333_334),  # escapes of every kind
])
def test_a_long_string_literal_costs_a_few_times_its_size(body, value_length):
    # The string's pattern once backtracked character by character: 850 bytes a character.
    pytest.importorskip("resource")  # the subprocess measures its peak with it (POSIX)
    proc = subprocess.run([sys.executable, "-c", _PEAK_OF_A_PARSE], input=body, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    per_character, length = proc.stdout.split()
    assert int(length) == value_length
    assert float(per_character) < 100


# ---------------------------------------------------------------- very long lines in diagnostics

BIG = 4_000_000  # a generated or minified file: one line of megabytes


@pytest.mark.parametrize("text, column", [
    (f'let s = "{"x" * BIG}" zzz\n', BIG + 12),  # the span at the end of the line
    ("let s = zzz + \"" + "x" * BIG + '"\n', 9),  # at the start
    (f'let s = "{"x" * BIG}\\d{"x" * BIG}"\n', BIG + 10),  # in the middle
    ("let s = \"" + "x" * BIG + "\n", 9),  # a span of megabytes (a string never closed)
    (f'let s = "{"x" * BIG}" + zzz + "{"x" * 10}"\n', 9),  # a message that quotes the whole string
])
def test_a_diagnostic_on_a_line_of_megabytes_shows_a_window_of_it(text, column):
    from nndsl.errors import WINDOW

    error = _error(text)
    rendered = error.render()
    assert len(rendered) < 6000
    header, line, caret = rendered.splitlines()[:3]
    assert f":1:{column}: error: " in header
    shown = line[len("1 | "):]
    assert len(shown) <= WINDOW + 2
    assert shown.startswith(("\u2026", "let s = ")) and (shown.endswith("\u2026") or shown.endswith(text.rstrip("\n")[-20:]))
    # the caret still stands under the span's first character
    at = caret.index("^") - len("  | ")
    span = error.diagnostics[0].span
    expected_char = text.splitlines()[0][span.column - 1]
    assert shown[at] == expected_char
    assert caret.count("^") <= WINDOW


def test_lines_within_the_window_are_shown_whole():
    from nndsl.errors import WINDOW

    name = "x" * (WINDOW - len("let s =  + 1"))  # a line of exactly WINDOW columns
    rendered = _error(f"let s = {name} + 1\n").render()
    line, caret = rendered.splitlines()[1:3]
    assert line == f"1 | let s = {name} + 1" and "\u2026" not in rendered
    assert caret == "  |         " + "^" * len(name) + caret[len("  |         ") + len(name):]


def test_window_keeps_the_span_in_view():
    from nndsl.errors import WINDOW, _window

    line = "".join(chr(ord("a") + i % 26) for i in range(10_000))
    for start, width in [(0, 1), (5, 3), (5_000, 10), (9_999, 1), (9_990, 10), (100, 5_000)]:
        shown, at, w = _window(line, start, width)
        assert len(shown) <= WINDOW + 2
        assert shown[at] == line[start]
        assert 1 <= w <= min(width, WINDOW)
        assert shown[at:at + w] == line[start:start + w]
