"""Robustness: on any text, parsing and checking either succeed or raise nndsl's own errors.

Inputs are arbitrary strings and token-level mutations (delete, duplicate, swap, insert a token
of the language) of every valid case and every example. Every diagnostic must point inside
the text, with a line and column that agree with its offset, and must render.
"""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nndsl
from nncases import EXAMPLES, VALID, read_nn, spans_of
from nndsl.source import Source
from nndsl.vocabulary import RESERVED
from test_roundtrip import fmt, programs

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
    *RESERVED,
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


_NESTERS = {"(": ")", "[": "]", "f(": ")", "{1: ": "}", "- ": "", "1 + ": "", "2 * ": "", "(x,": ")", "[x] + ": ""}


@given(st.lists(st.sampled_from(sorted(_NESTERS)), max_size=400), st.sampled_from(["x", "1", "[]", "f(y=1) + 1"]))
def test_nesting_of_any_depth_never_crashes(openers, leaf):
    """Deep nesting is refused with a diagnostic; what is accepted goes through every later stage."""
    import json

    from nndsl.syntax.json import to_json

    text = "let a = " + "".join(openers) + leaf + "".join(_NESTERS[o] for o in reversed(openers)) + "\n"
    try:
        program = nndsl.parse(text, filename="deep.nn")
    except nndsl.NndslSyntaxError as err:
        assert_well_formed(err, text)
        return
    again = nndsl.parse(nndsl.format(program))
    assert again == program
    json.dumps(to_json(program))
    check_or_nndsl_error(text)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(programs)
def test_check_generated_programs(program):
    """Programs of every construct, with random names and values, check cleanly or with diagnostics."""
    check_or_nndsl_error(fmt(program))


def _semantic_programs():
    """Programs over a small vocabulary, so names meet: variables, blocks, models, data and steps refer to each other."""
    from nndsl import ast

    vocab = st.sampled_from(["a", "b", "m", "d", "e", "blk", "units"])
    name = vocab.map(lambda n: ast.Name(id=n))
    leaf = st.one_of(
        name,
        st.integers(-3, 12).map(lambda v: ast.Number(value=v)),
        st.sampled_from([0.5, 2.5, 0.0]).map(lambda v: ast.Number(value=v)),
        st.sampled_from(["f.csv", "y", ""]).map(lambda v: ast.String(value=v)),
        st.booleans().map(lambda v: ast.Bool(value=v)),
        st.just(ast.NoneLit()),
    )
    expr = st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.builds(lambda op, a, b: ast.BinOp(op=op, left=a, right=b), st.sampled_from(["+", "-", "*", "/", "//", "%"]), inner, inner),
            st.builds(lambda e: ast.UnaryOp(op="-", operand=e), inner),
            st.lists(inner, max_size=3).map(lambda xs: ast.Tuple(items=tuple(xs))),
            st.lists(inner, max_size=3).map(lambda xs: ast.List(items=tuple(xs))),
        ),
        max_leaves=4,
    )
    option = st.sampled_from(["target", "part", "epochs", "units", "rate", "batch_size", "shuffle", "n"])
    kw = st.lists(st.tuples(option, expr), max_size=2, unique_by=lambda kv: kv[0]).map(
        lambda kvs: tuple(ast.Keyword(name=k, value=v) for k, v in kvs)
    )
    call = st.builds(
        lambda n, args, kwargs: ast.Call(name=n, args=tuple(args), kwargs=kwargs),
        st.sampled_from(["Dense", "Input", "blk", "csv", "split", "npz", "m", "Dropout"]),
        st.lists(expr, max_size=2),
        kw,
    )
    body = st.recursive(
        st.lists(st.one_of(call.map(lambda c: ast.Layer(call=c)),
                           st.builds(lambda n, v: ast.Property(name=n, value=v), st.sampled_from(["loss", "optimizer", "metrics"]), expr)),
                 max_size=3).map(tuple),
        lambda inner: st.lists(st.builds(lambda c, b: ast.Repeat(count=c, body=b), expr, inner), min_size=1, max_size=2).map(tuple),
        max_leaves=3,
    )
    stmt = st.one_of(
        st.builds(lambda n, v: ast.Let(name=n, value=v), vocab, expr),
        st.builds(lambda n, c: ast.DataDecl(name=n, source=c), vocab, call),
        st.builds(lambda n, b: ast.ModelDecl(name=n, body=b), vocab, body),
        st.builds(
            lambda n, ps, b: ast.BlockDecl(name=n, params=tuple(ast.Param(name=p, default=d) for p, d in ps), body=b),
            vocab, st.lists(st.tuples(vocab, st.none() | expr), max_size=2, unique_by=lambda p: p[0]), body,
        ),
        st.builds(lambda v: ast.Setting(name="seed", value=v), expr),
        st.builds(
            lambda verb, target, on, to, from_, kwargs: ast.Step(verb=verb, target=target, on=on, to=to, from_=from_, kwargs=kwargs),
            st.sampled_from(["train", "test", "evaluate", "save", "load", "predict", "summary", "trian"]),
            st.none() | name, st.none() | name, st.none() | leaf, st.none() | leaf, kw,
        ),
    )
    return st.lists(stmt, max_size=7).map(lambda ss: ast.Program(statements=tuple(ss)))


@given(_semantic_programs())
def test_check_programs_whose_names_meet(program):
    check_or_nndsl_error(fmt(program))
