"""The garbage collector around a parse: ``nndsl.parse`` leaves it exactly as it found it, and
the opt-in :func:`nndsl.collector.parsing_phase` pauses it and hands the new tree to the oldest
generation, leaving the caller's own objects and settings as they were."""

from __future__ import annotations

import gc
import weakref

import pytest

import nndsl
from nndsl.collector import CAN_HAND_OVER, parsing_phase

# Where freezing is costly (a free-threaded build), the policy leaves the generations as they are.
hands_over = pytest.mark.skipif(not CAN_HAND_OVER, reason="free-threaded build: no hand-over")

TEXT = """\
let hidden = 8
model m {
    Dense(hidden, activation=relu)
    Dense(1)
    loss mse
}
train m on d epochs=1
"""
BROKEN = "model m {\n    Dense(\n}\n"


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


def _parse_with_policy(text: str):
    with parsing_phase():
        return nndsl.parse(text)


# ---------------------------------------------------------------- plain parse: the host's collector untouched


@pytest.mark.parametrize("text", [TEXT, BROKEN])
@pytest.mark.parametrize("enabled", [True, False])
def test_parse_leaves_the_collector_enabled_or_disabled_as_found(text, enabled, monkeypatch):
    if not enabled:
        gc.disable()
    calls = []
    for name in ("disable", "enable", "collect", "freeze", "unfreeze"):
        real = getattr(gc, name)
        monkeypatch.setattr(gc, name, lambda *a, _name=name, _real=real, **k: (calls.append(_name), _real(*a, **k))[1])
    try:
        nndsl.parse(text)
    except nndsl.NndslError:
        pass
    monkeypatch.undo()
    assert gc.isenabled() is enabled
    assert calls == []


def test_parse_leaves_the_freeze_count_and_the_tree_young():
    nndsl.parse("seed 1\n")  # tables loaded: what loading allocates is not the tree
    kept = [[]]
    gc.collect()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        gc.disable()  # no collection may move the tree while we look
        program = nndsl.parse(TEXT)
        assert gc.get_freeze_count() == frozen
        assert id(kept) not in _ids(0) | _ids(1) | _ids(2)
        young = _ids(0)
        assert all(id(node) in young for node in _tree_nodes(program))
    finally:
        gc.enable()
        gc.unfreeze()


def test_parse_leaves_the_callers_young_objects_in_their_generation():
    nndsl.parse("seed 1\n")
    gc.collect()
    gc.disable()
    try:
        mine = [[1], [2]]
        assert id(mine) in _ids(0)
        nndsl.parse(TEXT)
        assert id(mine) in _ids(0)  # no collection ran, no hand-over moved it
    finally:
        gc.enable()


# ---------------------------------------------------------------- the opt-in policy


@hands_over
def test_the_policy_hands_the_tree_to_the_oldest_generation():
    program = _parse_with_policy(TEXT)
    nodes = _tree_nodes(program)
    young, older = _ids(0), _ids(1) | _ids(2)
    assert all(id(node) not in young for node in nodes)
    assert all(id(node) in older for node in nodes)


def test_the_policy_does_not_hand_over_the_callers_young_cycles():
    garbage = _Cycle()
    ref = weakref.ref(garbage)
    del garbage
    program = _parse_with_policy(TEXT)
    gc.collect(1)  # a middle collection frees it: it was not moved out of its reach
    assert ref() is None
    assert program.statements


def test_under_the_policy_objects_the_caller_froze_stay_frozen_and_the_tree_stays_young():
    kept = [[]]  # tracked by the collector, frozen below
    gc.collect()
    gc.freeze()
    try:
        program = _parse_with_policy(TEXT)
        assert gc.get_freeze_count() > 0
        assert id(kept) not in _ids(0) | _ids(1) | _ids(2)  # still in the permanent generation
        assert id(program) not in _ids(2)
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("text", [TEXT, BROKEN])
@pytest.mark.parametrize("enabled", [True, False])
def test_the_policy_leaves_the_collector_as_the_caller_had_it(text, enabled):
    if not enabled:
        gc.disable()
    try:
        _parse_with_policy(text)
    except nndsl.NndslError:
        pass
    assert gc.isenabled() is enabled


def test_the_policy_pauses_the_collector_during_the_parse():
    seen = []
    with parsing_phase():
        seen.append(gc.isenabled())
    assert seen == [False] and gc.isenabled()


def test_under_the_policy_a_parse_with_the_collector_disabled_moves_nothing():
    gc.disable()
    program = _parse_with_policy(TEXT)
    assert id(program) in _ids(0)


@hands_over
def test_under_the_policy_only_a_successful_parse_hands_over(monkeypatch):
    handed = []
    monkeypatch.setattr(gc, "freeze", lambda: handed.append("freeze"))
    monkeypatch.setattr(gc, "unfreeze", lambda: handed.append("unfreeze"))
    with pytest.raises(nndsl.NndslSyntaxError):
        _parse_with_policy(BROKEN)
    assert handed == []
    _parse_with_policy(TEXT)
    assert handed == ["freeze", "unfreeze"]


@hands_over
def test_under_the_policy_the_tree_is_still_freed_by_reference_counting():
    program = _parse_with_policy(TEXT * 50)
    before = len(_ids(1) | _ids(2))
    nodes = len(program.statements)
    del program
    assert len(_ids(1) | _ids(2)) <= before - nodes
