"""Robustness: on any text, parsing and checking either succeed or raise nndsl's own errors.

Inputs are arbitrary strings and token-level mutations (delete, duplicate, swap, insert a token
of the language) of every valid case and every example. Every diagnostic must point inside
the text, with a line and column that agree with its offset, and must render.
"""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

import nndsl
from nndsl.source import Source

from nncases import EXAMPLES, VALID, read_nn, spans_of

SOURCES = [read_nn(p) for p in VALID + EXAMPLES]

_TOKEN = re.compile(
    r'"(?:[^"\\\n]|\\.)*"'  # a string
    r"|#[^\n]*"  # a comment
    r"|[A-Za-z_][A-Za-z0-9_]*\(?"  # a name or the start of a call
    r"|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?"  # a number
    r"|//|\r?\n|[ \t]+|.",
    re.S,
)

INSERTS = [
    "(", ")", "[", "]", "{", "}", ",", "=", ":", "+", "-", "*", "/", "//", "%", ".",
    "let", "data", "model", "block", "repeat", "on", "to", "from", "true", "false", "none",
    "\n", "\r", "\t", " ", '"', "\\", "#", "'", "\ufeff", "é",
    "Dense(", "x", "seed", "train", "1", "2.5", "1e-3", '"s"', "repeat 2 {", "model m {", "block b(",
]

OPS = ("delete", "duplicate", "swap", "insert")


def tokens(text: str) -> list[str]:
    out = _TOKEN.findall(text)
    assert "".join(out) == text
    return out


def mutate(text: str, edits) -> str:
    toks = tokens(text)
    for op, i, j, new in edits:
        if not toks:
            toks = [new]
            continue
        i %= len(toks)
        if op == "delete":
            del toks[i]
        elif op == "duplicate":
            toks.insert(i, toks[i])
        elif op == "swap":
            j %= len(toks)
            toks[i], toks[j] = toks[j], toks[i]
        else:
            toks.insert(i, new)
    return "".join(toks)


def assert_well_formed(err: nndsl.NndslError, text: str) -> None:
    assert err.diagnostics, "an error without diagnostics"
    source = Source("fuzz.nn", text)
    for d in err.diagnostics:
        assert d.message
        for span in spans_of(d):
            assert 0 <= span.start <= span.end <= len(text), (d.message, span)
            assert (span.line, span.column) == source.position(span.start), (d.message, span)
    assert err.render(color=False)
    assert err.render(color=True)


def parse_or_syntax_error(text: str) -> None:
    try:
        nndsl.parse(text, filename="fuzz.nn")
    except nndsl.NndslSyntaxError as err:
        assert_well_formed(err, text)


def check_or_nndsl_error(text: str) -> None:
    try:
        nndsl.check(text, filename="fuzz.nn", keras=False)
    except nndsl.NndslError as err:
        assert_well_formed(err, text)


edits = st.lists(
    st.tuples(st.sampled_from(OPS), st.integers(0, 10**6), st.integers(0, 10**6), st.sampled_from(INSERTS)),
    min_size=1,
    max_size=4,
)
mutants = st.builds(mutate, st.sampled_from(SOURCES), edits)
language_text = st.lists(
    st.sampled_from(list("abdelmort_ADS019.(){}[]=,:+-*/%\"\\#\n \t")) | st.sampled_from(INSERTS), max_size=40
).map("".join)


@given(st.text())
def test_parse_any_text(text):
    parse_or_syntax_error(text)


@given(language_text)
def test_parse_text_made_of_the_language_pieces(text):
    parse_or_syntax_error(text)


@given(mutants)
def test_parse_mutated_programs(text):
    parse_or_syntax_error(text)


@given(st.text())
def test_check_any_text(text):
    check_or_nndsl_error(text)


@given(language_text)
def test_check_text_made_of_the_language_pieces(text):
    check_or_nndsl_error(text)


@given(mutants)
def test_check_mutated_programs(text):
    check_or_nndsl_error(text)


def test_thirty_random_mutations_render():
    rng = random.Random(20240229)
    failures = 0
    for _ in range(30):
        text = SOURCES[rng.randrange(len(SOURCES))]
        edit_list = [
            (rng.choice(OPS), rng.randrange(10**6), rng.randrange(10**6), rng.choice(INSERTS))
            for _ in range(rng.randint(1, 3))
        ]
        mutant = mutate(text, edit_list)
        try:
            nndsl.check(mutant, filename="mutant.nn", keras=False)
        except nndsl.NndslError as err:
            failures += 1
            assert_well_formed(err, mutant)
            rendered = err.render()
            assert "mutant.nn:" in rendered
            assert str(err)
    assert failures > 0  # the mutations do break programs


@pytest.mark.parametrize("text", SOURCES[:3])
def test_tokens_cover_the_text(text):
    assert "".join(tokens(text)) == text
