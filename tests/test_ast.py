"""The syntax tree's nodes: the parser's fast constructors make the same objects as the classes."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

import nndsl
from nndsl import ast
from nndsl.source import Span
from nndsl.syntax.json import from_json, to_json

_SPAN = Span(3, 9, 1, 4, 1, 10)


def _values(cls) -> dict:
    """A distinct value for every field of ``cls``: spans for spans, tagged strings otherwise."""
    return {f.name: _SPAN if f.type in ("Span", Span) else f"<{cls.__name__}.{f.name}>" for f in dataclasses.fields(cls)}


@pytest.mark.parametrize("cls", ast.ALL_NODES, ids=lambda c: c.__name__)
def test_constructor_makes_the_same_node_as_the_class(cls):
    values = _values(cls)
    made = ast.constructor(cls)(**values)
    expected = cls(**values)
    assert type(made) is cls
    assert made == expected and hash(made) == hash(expected) and repr(made) == repr(expected)
    for name, value in values.items():
        assert getattr(made, name) == value
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.span = Span.fake()
    assert pickle.loads(pickle.dumps(made)) == expected
    assert copy.deepcopy(made) == expected
    assert dataclasses.replace(made) == expected


@pytest.mark.parametrize("cls", ast.ALL_NODES, ids=lambda c: c.__name__)
def test_constructor_takes_positional_arguments_and_defaults(cls):
    fields = [f for f in dataclasses.fields(cls)]
    required = [f for f in fields if f.default is dataclasses.MISSING]
    args = [_values(cls)[f.name] for f in required]
    made = ast.constructor(cls)(*args)
    assert made == cls(**{f.name: a for f, a in zip(required, args)})
    for f in fields:
        if f.default is not dataclasses.MISSING:
            assert getattr(made, f.name) == f.default


def test_name_spans_of_calls_and_keywords_are_where_their_names_are_written():
    text = "model m {\n    Dense(16,\n          activation=relu)\n}\ntrain m on d epochs=3\n"
    program = nndsl.parse(text)
    call = program.statements[0].body[0].call
    (keyword,) = call.kwargs
    (epochs,) = program.statements[1].kwargs
    for node, name in ((call, "Dense"), (keyword, "activation"), (epochs, "epochs")):
        s = node.name_span
        assert text[s.start:s.end] == name
        line_start = text.rfind("\n", 0, s.start) + 1
        assert (s.line, s.column) == (text.count("\n", 0, s.start) + 1, s.start - line_start + 1)
        assert (s.end_line, s.end_column) == (s.line, s.column + len(name))
    # derived, so not a constructor argument; the JSON still carries it
    with pytest.raises(TypeError):
        ast.Call(name="Dense", name_span=_SPAN)
    data = to_json(call)
    assert data["name_span"] == {"start": call.name_span.start, "end": call.name_span.end, "line": 2,
                                 "column": 5, "end_line": 2, "end_column": 10}
    assert from_json(data) == call
