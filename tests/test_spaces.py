"""Search spaces in ``let``: checked statically (bounds, options, every value against every use),
defaults, and sampling that stays within bounds (with and without Optuna)."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nndsl
from nndsl.errors import NndslCheckError
from nndsl.formatter import format_program
from nndsl.semantics.spaces import Space, candidates
from nndsl.syntax.json import from_json, to_json

MODEL = """\
let units = {units}
let rate = {rate}
let lr = {lr}
let depth = {depth}
let act = {act}
model m {{
    Input(shape=(3,))
    repeat depth {{
        Dense(units, activation=act)
    }}
    Dropout(rate)
    Dense(1)
    loss mse
    optimizer Adam(learning_rate=lr)
}}
"""
GOOD = dict(units="choice(16, 32, 64)", rate="uniform(0.0, 0.5)", lr="loguniform(1e-4, 1e-2)", depth="integer(1, 3)",
            act="choice(relu, tanh)")


def program(**changes) -> str:
    return MODEL.format(**{**GOOD, **changes})


def errors(text: str) -> list:
    with pytest.raises(NndslCheckError) as info:
        nndsl.check(text, filename="model.nn")
    return info.value.diagnostics


def test_a_good_program_checks_and_each_variable_holds_its_default():
    checked = nndsl.check(program(), filename="model.nn")
    assert set(checked.spaces) == {"units", "rate", "lr", "depth", "act"}
    assert checked.variables == {"units": 16, "rate": 0.25, "lr": pytest.approx(1e-3), "depth": 2, "act": "relu"}
    assert checked.spaces["depth"].describe() == "integer(1, 3)"
    assert [layer.name for layer in checked.models["m"].layers] == ["Input", "Dense", "Dense", "Dropout", "Dense"]


def test_default_can_be_given_and_must_be_a_value_of_the_space():
    checked = nndsl.check(program(units="choice(16, 32, default=32)", depth="integer(1, 9, step=2, default=7)"))
    assert checked.variables["units"] == 32 and checked.variables["depth"] == 7
    (d,) = errors(program(depth="integer(1, 9, step=2, default=4)"))
    assert d.code == "bad-space" and "default that is one of the values of integer(1, 9, step=2)" in d.message
    assert d.span.line == 4


def test_set_fixes_a_space_to_one_value():
    checked = nndsl.check(program(), overrides={"units": "64", "act": "tanh"})
    assert "units" not in checked.spaces and "act" not in checked.spaces
    assert checked.variables["units"] == 64 and checked.variables["act"] == "tanh"


@pytest.mark.parametrize(("change", "message", "column"), [
    (dict(units="choice()"), "expected at least one option in choice(...); received none", 13),
    (dict(units="choice(16, 32, 16)"), "expected each option of choice(...) once; received the number 16 again", 28),
    (dict(rate="uniform(0.5, 0.1)"), "expected the low bound of uniform(...) below the high bound; received 0.5 and 0.1", 20),
    (dict(lr="loguniform(0.0, 0.1)"), "expected bounds above zero for loguniform(...); received 0.0", 21),
    (dict(lr="loguniform(-1, 0.1)"), "expected bounds above zero for loguniform(...); received -1", 21),
    (dict(depth="integer(1.5, 3)"), "expected an integer as a bound of integer(...); received the number 1.5", 21),
    (dict(depth="integer(1, 3, step=0)"), "expected a positive integer step; received the number 0", 32),
    (dict(depth="integer(1, 3, stp=2)"), "expected default= or step= as the keyword of integer(...); received 'stp'", 27),
    (dict(rate="uniform(0.1)"), "expected two bounds in uniform(low, high); received 1 value", 12),
    (dict(rate="uniform(relu, 1)"), "expected a number as a bound of uniform(...); received the name 'relu'", 20),
])
def test_bad_spaces_are_located(change, message, column):
    diagnostics = errors(program(**change))
    assert [d.code for d in diagnostics] == ["bad-space"]
    assert diagnostics[0].message == message
    assert diagnostics[0].span.column == column


def test_every_value_of_a_choice_is_checked_where_it_flows():
    (d,) = errors(program(units="choice(16, 0, 64)"))
    assert d.code == "shape-mismatch" and "units" in d.message and d.span.line == 9  # at the Dense that gets it
    note = d.notes[-1]
    assert note.message == "'units' can be 0: one value of choice(16, 0, 64)"
    assert (note.span.line, note.span.column) == (1, 24)  # the option as written


def test_both_ends_of_a_range_are_checked_where_they_flow():
    (d,) = errors(program(depth="integer(0, 3)"))
    assert d.code == "bad-repeat" and d.span.line == 8
    assert d.notes[-1].message == "'depth' can be 0: one value of integer(0, 3)"
    (d,) = errors(program(rate="uniform(0.0, 1.5)"))
    assert "Dropout" in d.message and d.notes[-1].message == "'rate' can be 1.5: one value of uniform(0.0, 1.5)"
    # a step that passes over the high bound: 1, 4, 7 -- 9 is never taken
    space = nndsl.check(program(depth="integer(1, 9, step=3)")).spaces["depth"]
    assert (space.default, space.top, [v for v, _ in candidates(space)]) == (4, 7, [1, 7])


def test_a_symbol_choice_is_checked_against_the_registry():
    (d,) = errors(program(act="choice(relu, tanhh)"))
    assert d.code == "unknown-name" and "tanhh" in d.message
    assert d.notes[-1].message == "'act' can be tanhh: one value of choice(relu, tanhh)"


def test_a_value_flowing_through_another_variable_is_checked():
    text = program(units="choice(16, 2)").replace("let rate", "let width = units - 2\nlet rate").replace("Dense(units,", "Dense(width,")
    (d,) = errors(text)
    assert "units" in d.message and d.notes[-1].message == "'units' can be 2: one value of choice(16, 2)"


def test_spaces_format_and_round_trip_through_json():
    text = program(units="choice(16,32 , 64, default=32)", depth="integer(1,9,step=2)")
    tree = nndsl.parse(text)
    formatted = format_program(tree)
    assert "let units = choice(16, 32, 64, default=32)" in formatted
    assert "let depth = integer(1, 9, step=2)" in formatted
    assert nndsl.parse(formatted) == tree
    assert from_json(to_json(tree)) == tree


def test_checking_spaces_imports_neither_optuna_nor_tensorflow():
    code = ("import sys, nndsl\n"
            f"nndsl.check({program()!r})\n"
            "print(sorted(m for m in ('optuna', 'tensorflow', 'keras') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ---------------------------------------------------------------- sampling


@st.composite
def spaces(draw):
    kind = draw(st.sampled_from(["choice", "uniform", "loguniform", "integer"]))
    if kind == "choice":
        options = draw(st.lists(st.integers(-1000, 1000) | st.text("abc", min_size=1, max_size=3), min_size=1, max_size=8,
                                unique_by=lambda v: (type(v), v)))
        return f"choice({', '.join(str(o) if isinstance(o, int) else repr(o).replace(chr(39), chr(34)) for o in options)})"
    if kind == "integer":
        low = draw(st.integers(-1000, 1000))
        high = draw(st.integers(low + 1, low + 5000))
        step = draw(st.integers(1, 50))
        return f"integer({low}, {high}, step={step})"
    if kind == "loguniform":
        low = draw(st.floats(1e-8, 1e3))
        high = draw(st.floats(low * 1.0001, low * 1e6))
        return f"loguniform({low!r}, {high!r})"
    low = draw(st.floats(-1e6, 1e6))
    high = draw(st.floats(low + abs(low) * 1e-6 + 1e-6, low + 1e6))
    return f"uniform({low!r}, {high!r})"


def the_space(text: str) -> Space:
    checked = nndsl.check(f"let v = {text}\n", keras=False)
    return checked.spaces["v"]


@settings(max_examples=200, deadline=None)
@given(text=spaces(), seed=st.integers(0, 2**32 - 1))
def test_sampling_stays_within_bounds(text, seed):
    space = the_space(text)
    assert space.contains(space.default)
    rng = random.Random(seed)
    for _ in range(20):
        value = space.sample(rng)
        assert space.contains(value), (text, value)
        # what --set gets back is the same value
        assert nndsl.check("let v = 0\n", keras=False, overrides={"v": space.text(value)}).variables["v"] == value
    for value, _node in candidates(space):
        assert space.contains(value)


@settings(max_examples=60, deadline=None)
@given(text=spaces(), seed=st.integers(0, 2**31 - 1))
def test_optuna_samples_stay_within_bounds(text, seed):
    optuna = pytest.importorskip("optuna")
    from nndsl.run.search import suggest

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = the_space(text)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    for _ in range(5):
        trial = study.ask()
        value = suggest(trial, space)
        assert space.contains(value), (text, value)
        study.tell(trial, 0.0)


def test_the_editor_sees_what_check_sees():
    from nndsl.lsp.analysis import Analyser, analyse

    text = program(units="choice(16, 0, 64)")
    expected = [(d.code, d.message, d.span.line) for d in errors(text)]
    assert [(d.code, d.message, d.span.line) for d in analyse(text, "model.nn").diagnostics] == expected
    assert [(d.code, d.message, d.span.line) for d in Analyser("model.nn").update(text).diagnostics] == expected
