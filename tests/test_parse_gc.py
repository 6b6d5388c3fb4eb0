"""How ``nndsl.parse`` treats the garbage collector: paused while it builds, the tree handed to
the oldest generation, and the caller's own objects and settings left as they were."""

from __future__ import annotations

import gc
import weakref

import pytest

import nndsl
from nndsl.syntax import parser

# Where freezing is costly (a free-threaded build), parse leaves the generations as they are.
promotes = pytest.mark.skipif(not parser._CAN_PROMOTE, reason="free-threaded build: no hand-over")

TEXT = """\
let hidden = 8
model m {
    Dense(hidden, activation=relu)
    Dense(1)
    loss mse
}
train m on d epochs=1
"""


@pytest.fixture(autouse=True)
def collector_enabled():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def _ids(generation: int) -> set:
    return {id(o) for o in gc.get_objects(generation=generation)}


def _tree_nodes(program) -> list:
    model = program.statements[1]
    return [program, model, *model.body, program.statements[0]]


class _Cycle:
    def __init__(self) -> None:
        self.me = self


@promotes
def test_the_tree_is_in_the_oldest_generation_not_the_young_one():
    program = nndsl.parse(TEXT)
    nodes = _tree_nodes(program)
    young, older = _ids(0), _ids(1) | _ids(2)
    assert all(id(node) not in young for node in nodes)
    assert all(id(node) in older for node in nodes)


def test_the_callers_young_cycles_are_not_handed_to_the_oldest_generation():
    garbage = _Cycle()
    ref = weakref.ref(garbage)
    del garbage
    program = nndsl.parse(TEXT)
    gc.collect(1)  # a middle collection frees it: it was not moved out of its reach
    assert ref() is None
    assert program.statements


def test_objects_the_caller_froze_stay_frozen_and_the_tree_stays_young():
    kept = [[]]  # tracked by the collector, frozen below
    gc.collect()
    gc.freeze()
    try:
        program = nndsl.parse(TEXT)
        assert gc.get_freeze_count() > 0
        assert id(kept) not in _ids(0) | _ids(1) | _ids(2)  # still in the permanent generation
        assert id(program) not in _ids(2)
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("text", [TEXT, "model m {\n    Dense(\n}\n"])
@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_left_as_the_caller_had_it(text, enabled):
    if not enabled:
        gc.disable()
    try:
        nndsl.parse(text)
    except nndsl.NndslError:
        pass
    assert gc.isenabled() is enabled


def test_a_parse_with_the_collector_disabled_moves_nothing():
    gc.disable()
    program = nndsl.parse(TEXT)
    assert id(program) in _ids(0)


@promotes
def test_the_tree_is_still_freed_by_reference_counting():
    program = nndsl.parse(TEXT * 50)
    before = len(_ids(1) | _ids(2))
    nodes = len(program.statements)
    del program
    assert len(_ids(1) | _ids(2)) <= before - nodes
